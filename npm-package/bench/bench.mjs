// The Wasm (Node) side of `needle bench` (BENCHMARKS.md), run in the same session as the JVM side:
//   1. runs `java -jar JAR bench --json --save DIR` (the JVM figures, and the benchmark model and
//      vocabulary written to DIR so both engines run the very same files and requests);
//   2. loads the npm package's needle.wasm in this Node process and runs the same workloads the
//      same way, twice: with the Wasm SIMD kernels (needle-simd.wasm, the package's default where
//      the host has Wasm SIMD) and with the portable kernels only (load option simd: false). Each
//      run: load the engine from the weight bytes, run the request once with eos ignored (exactly
//      the JVM's decode steps), free the engine; medians of --runs runs after --warmup warm-up
//      runs, the two engines' runs alternating;
//   3. prints the three engines, their ratios, whether each produced the JVM's token ids, the
//      roofline fractions, and the Node process's memory (peak RSS, and RSS after one engine).
//
// The JVM side runs its fastest one-thread kernels (--jvm-kernels vector, the default: java with
// --add-modules jdk.incubator.vector, `needle bench --kernels vector --threads 1`), or the portable
// Java loops (--jvm-kernels portable: the same code TeaVM compiles to Wasm).
//
// Usage (Node 22+, Wasm GC): node npm-package/bench/bench.mjs [--jar cli/target/needle-cli.jar]
//          [--package npm-package/target/package] [--runs 7] [--warmup 3] [--quick] [--json FILE]
//          [--jvm-kernels vector|portable]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf("--" + name);
  return i >= 0 ? args[i + 1] : dflt;
};
const quick = args.includes("--quick");
const jar = path.resolve(opt("jar", path.join(repo, "cli", "target", "needle-cli.jar")));
const pkg = path.resolve(opt("package", path.join(repo, "npm-package", "target", "package")));
const runs = Number(opt("runs", quick ? "3" : "7"));
const warmup = Number(opt("warmup", quick ? "1" : "3"));
const jsonOut = opt("json", null);
// the JVM's kernels: vector (the Vector API, java --add-modules jdk.incubator.vector; the JVM's
// fastest one-thread path, the default) or portable (the same Java loops TeaVM compiles)
const jvmKernels = opt("jvm-kernels", "vector");

if (args.includes("--cold-child")) {
  await coldChild(opt("cold-child"));
  process.exit(0);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "needle-bench-"));
const javaArgs = [...(jvmKernels === "vector" ? ["--add-modules", "jdk.incubator.vector"] : []), "-jar", jar, "bench",
  "--json", "--save", dir, "--kernels", jvmKernels, "--threads", "1", "--runs", String(runs), "--warmup", String(warmup)];
if (quick) javaArgs.push("--quick");
console.log("JVM: java " + javaArgs.join(" "));
const jvm = JSON.parse(execFileSync("java", javaArgs, { encoding: "utf8", maxBuffer: 1 << 24 }));

const { default: init, NeedleWasm } = await import(pathToFileURL(path.join(pkg, "index.js")).href);
await init();
const weights = new Uint8Array(fs.readFileSync(path.join(dir, "bench.safetensors")));
const vocab = fs.readFileSync(path.join(dir, "vocab.txt"), "utf8");

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

// RSS with one engine loaded and run (the footprint a user sees), before the repeated runs
const rssStart = process.memoryUsage().rss;
let rssOne = 0;
{
  const w = jvm.workloads[0];
  const e = NeedleWasm.load(weights, vocab);
  e.runDetailed(w.query, w.tools, { maxNewTokens: w.decode_steps, constrain: true, ignoreEos: true });
  rssOne = process.memoryUsage().rss;
  e.free();
}

const engines = [{ name: "wasm", simd: true }, { name: "wasm-port", simd: false }];
let rssPeak = 0;
let simdActive = false;
const results = []; // per workload: { name, jvm, wasm: {...}, "wasm-port": {...} }
for (const w of jvm.workloads) {
  const m = Object.fromEntries(engines.map((e) => [e.name, { load: [], encode: [], decode: [], total: [], steps: [], tokens: null, prefill: 0 }]));
  for (let i = -warmup; i < runs; i++) {
    for (const eng of engines) {
      const s = m[eng.name];
      const t0 = performance.now();
      const engine = NeedleWasm.load(weights, vocab, { simd: eng.simd });
      const t1 = performance.now();
      const r = engine.runDetailed(w.query, w.tools, { maxNewTokens: w.decode_steps, constrain: true, ignoreEos: true });
      const t2 = performance.now();
      if (eng.simd) {
        simdActive = engine.simd;
      }
      engine.free();
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      s.tokens = r.tokens;
      s.prefill = r.timings.prefillTokens;
      if (i >= 0) {
        s.load.push(t1 - t0);
        s.encode.push(r.timings.encodeMs);
        s.decode.push(r.timings.decodeMs);
        s.steps.push(r.timings.decodeTokens);
        s.total.push(t2 - t0);
      }
    }
  }
  const row = { name: w.name, jvm: w };
  for (const eng of engines) {
    const s = m[eng.name];
    const n = median(s.steps);
    row[eng.name] = {
      name: w.name, encoder_tokens: s.prefill, decode_steps: n, load_ms: median(s.load),
      encode_ms: median(s.encode), decode_ms: median(s.decode), end_to_end_ms: median(s.total),
      same_tokens: s.tokens.length === w.tokens.length && s.tokens.every((id, k) => id === w.tokens[k]),
      encoder_tokens_per_s: s.prefill / (median(s.encode) / 1000), decode_tokens_per_s: n / (median(s.decode) / 1000),
    };
  }
  results.push(row);
}

const peaks = await wasmPeaks();
const cold = coldRuns(jvm.workloads.find((w) => w.name === "weather"), quick ? 3 : 5);
const f = (v, d = 1) => v.toFixed(d);
const x = (a, b) => (a / b).toFixed(2) + "x";
console.log(`\nneedle bench, same run: JVM ${jvm.java} (${jvmKernels} kernels, one thread) vs Wasm (Node ${process.version}; SIMD kernels ${simdActive ? "on" : "NOT AVAILABLE"}); `
  + `${jvm.model}; medians of ${runs} after ${warmup}; eos ignored`);
console.log("workload   engine     enc.tok  load ms  encode ms  enc tok/s  steps  decode ms  dec tok/s  end-to-end ms  same tokens");
for (const row of results) {
  for (const name of ["jvm", ...engines.map((e) => e.name)]) {
    const r = row[name];
    const same = name === "jvm" ? "" : String(r.same_tokens);
    console.log(`${row.name.padEnd(10)} ${name.padEnd(10)} ${String(r.encoder_tokens).padStart(7)} ${f(r.load_ms).padStart(8)} `
      + `${f(r.encode_ms).padStart(10)} ${f(r.encoder_tokens_per_s, 0).padStart(10)} ${String(r.decode_steps).padStart(6)} `
      + `${f(r.decode_ms).padStart(10)} ${f(r.decode_tokens_per_s).padStart(10)} ${f(r.end_to_end_ms).padStart(14)}  ${same}`);
  }
  const j = row.jvm, s = row.wasm, p = row["wasm-port"];
  console.log(`${"".padEnd(10)} wasm/jvm:      load ${x(s.load_ms, j.load_ms)}, encode ${x(s.encode_ms, j.encode_ms)}, decode ${x(s.decode_ms, j.decode_ms)}, end-to-end ${x(s.end_to_end_ms, j.end_to_end_ms)}`);
  console.log(`${"".padEnd(10)} wasm-port/jvm: load ${x(p.load_ms, j.load_ms)}, encode ${x(p.encode_ms, j.encode_ms)}, decode ${x(p.decode_ms, j.decode_ms)}, end-to-end ${x(p.end_to_end_ms, j.end_to_end_ms)}`);
  console.log(`${"".padEnd(10)} SIMD speed-up: encode ${x(p.encode_ms, s.encode_ms)}, decode ${x(p.decode_ms, s.decode_ms)}, end-to-end ${x(p.end_to_end_ms, s.end_to_end_ms)}`);
  const roof = jvm.roofline?.find((r) => r.name === row.name);
  if (roof) {
    // compute bound of this host's Wasm: the workload's flops at the measured Wasm peak rates
    const bound = (gflop, rate) => (gflop / rate) * 1000;
    const pct = (boundMs, ms) => (100 * boundMs / ms).toFixed(0) + "%";
    console.log(`${"".padEnd(10)} roofline (Wasm peaks measured here, one thread): wasm-port vs scalar ${f(peaks.scalar)} GFLOP/s: `
      + `encode ${pct(bound(roof.encode_gflop, peaks.scalar), p.encode_ms)}, decode ${pct(bound(roof.decode_gflop, peaks.scalar), p.decode_ms)}; `
      + `wasm vs f32x4 ${f(peaks.simd)} GFLOP/s: encode ${pct(bound(roof.encode_gflop, peaks.simd), s.encode_ms)}, `
      + `decode ${pct(bound(roof.decode_gflop, peaks.simd), s.decode_ms)}; `
      + `JVM vs its SIMD bound: encode ${pct(roof.encode_bound_ms_simd_1t, j.encode_ms)}, decode ${pct(roof.decode_bound_ms_simd_1t, j.decode_ms)}`);
  }
}
console.log(`memory: JVM heap peak ${(jvm.heap_peak_bytes / 1e6).toFixed(1)} MB, JVM RSS peak ${(jvm.rss_peak_bytes / 1e6).toFixed(1)} MB; `
  + `Node RSS: ${(rssStart / 1e6).toFixed(1)} MB before loading, ${(rssOne / 1e6).toFixed(1)} MB with one engine, `
  + `${(rssPeak / 1e6).toFixed(1)} MB peak over all runs (weights ${(jvm.weights_bytes / 1e6).toFixed(1)} MB)`);
if (cold) {
  console.log(`weather, cold (a fresh Node process each time: start, import, init() compiling needle.wasm, read the files, load, run once; `
    + `median of ${cold.runs}): process start to import ${f(cold.import_ms)} ms, init ${f(cold.init_ms)} ms, read ${f(cold.read_ms)} ms, `
    + `load ${f(cold.load_ms)} ms, run ${f(cold.run_ms)} ms; load + run ${f(cold.load_ms + cold.run_ms)} ms; `
    + `total from process start ${f(cold.total_ms)} ms; same tokens: ${cold.same_tokens}`);
}
console.log(`Wasm multiply-add peaks (Node, one thread): scalar f32 ${f(peaks.scalar)} GFLOP/s, f32x4 ${f(peaks.simd)} GFLOP/s `
  + `(JVM in its run: scalar ${f(jvm.machine?.scalar_gflops_1t ?? NaN)}, SIMD ${f(jvm.machine?.simd_gflops_1t ?? NaN)})`);
if (jsonOut) {
  fs.writeFileSync(jsonOut, JSON.stringify({ node: process.version, simd: simdActive, runs, warmup, jvm, results, wasm_peaks: peaks, cold,
    rss_start_bytes: rssStart, rss_one_engine_bytes: rssOne, rss_peak_bytes: rssPeak }, null, 1));
}
fs.rmSync(dir, { recursive: true, force: true });

/** Medians of `n` cold runs of workload w, each in a fresh Node process (this script with --cold-child). */
function coldRuns(w, n) {
  if (!w) {
    return null;
  }
  const spec = JSON.stringify({ pkg, dir, query: w.query, tools: w.tools, steps: w.decode_steps });
  const all = [];
  for (let i = 0; i < n; i++) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--cold-child", spec], { encoding: "utf8" });
    all.push(JSON.parse(out.trim().split("\n").pop()));
  }
  const m = (k) => median(all.map((r) => r[k]));
  return { runs: n, import_ms: m("import_ms"), init_ms: m("init_ms"), read_ms: m("read_ms"), load_ms: m("load_ms"),
    run_ms: m("run_ms"), total_ms: m("total_ms"), same_tokens: all.every((r) => r.tokens.length === w.tokens.length
      && r.tokens.every((id, k) => id === w.tokens[k])) };
}

/** One cold run (in a fresh process): times from process start; prints one JSON line. */
async function coldChild(specText) {
  const spec = JSON.parse(specText);
  const { default: init, NeedleWasm } = await import(pathToFileURL(path.join(spec.pkg, "index.js")).href);
  const t1 = performance.now(); // performance.now() counts from the process's start
  await init();
  const t2 = performance.now();
  const weights = fs.readFileSync(path.join(spec.dir, "bench.safetensors"));
  const vocab = fs.readFileSync(path.join(spec.dir, "vocab.txt"), "utf8");
  const t3 = performance.now();
  const engine = NeedleWasm.load(weights, vocab);
  const t4 = performance.now();
  const r = engine.runDetailed(spec.query, spec.tools, { maxNewTokens: spec.steps, constrain: true, ignoreEos: true });
  const t5 = performance.now();
  console.log(JSON.stringify({ import_ms: t1, init_ms: t2 - t1, read_ms: t3 - t2, load_ms: t4 - t3,
    run_ms: t5 - t4, total_ms: t5, tokens: r.tokens }));
}

/**
 * This host's Wasm multiply-add rates: 12 independent chains of a = a * x + y, as f32 (the
 * scalar code TeaVM emits) and as f32x4 (Wasm SIMD has no fused multiply-add; 2 flops a lane).
 * 12 chains: a chain's multiply and add take their latency one after the other, so 8 chains are
 * latency-bound (f32x4 ~34 GFLOP/s here) where 12-14 reach the throughput (~48; fma-peak.mjs
 * measures 4..16); 16 spill (V8 gives Wasm 15 xmm registers). Each chain starts from its own
 * value and the result sums every chain, so none is dead code or merged with another. The module is assembled here by wabt (npm-package's devDependency).
 */
async function wasmPeaks() {
  const { createRequire } = await import("node:module");
  const wabt = await createRequire(path.join(repo, "npm-package", "package.json"))("wabt")();
  const CHAINS = 12;
  const func = (name, type, constant, add, mul, result) => {
    const n = [...Array(CHAINS).keys()];
    let sum = "(local.get $a0)";
    for (let i = 1; i < CHAINS; i++) sum = `(${add} ${sum} (local.get $a${i}))`;
    return `(func (export "${name}") (param $n i32) (result f32)
      ${n.map((i) => `(local $a${i} ${type})`).join(" ")} (local $x ${type}) (local $y ${type})
      (local.set $x ${constant("1.0001")}) (local.set $y ${constant("0.9999")})
      ${n.map((i) => `(local.set $a${i} ${constant(String(1 + i / 16))})`).join(" ")}
      (loop $l
        ${n.map((i) => `(local.set $a${i} (${add} (${mul} (local.get $a${i}) (local.get $x)) (local.get $y)))`).join("\n        ")}
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $l (local.get $n)))
      ${result(sum)})`;
  };
  const wat = `(module
    ${func("scalar", "f32", (v) => `(f32.const ${v})`, "f32.add", "f32.mul", (sum) => sum)}
    ${func("simd", "v128", (v) => `(f32x4.splat (f32.const ${v}))`, "f32x4.add", "f32x4.mul", (sum) => `(f32x4.extract_lane 0 ${sum})`)})`;
  const m = wabt.parseWat("peak.wat", wat);
  const bytes = m.toBinary({}).buffer;
  m.destroy();
  const { instance } = await WebAssembly.instantiate(bytes);
  const rate = (fn, flopsPerIter) => {
    let best = 0;
    for (let k = 0; k < 7; k++) {
      const n = 2_000_000;
      const t0 = performance.now();
      fn(n);
      const s = (performance.now() - t0) / 1000;
      best = Math.max(best, (n * flopsPerIter) / s / 1e9);
    }
    return best;
  };
  return { scalar: rate(instance.exports.scalar, 2 * CHAINS), simd: rate(instance.exports.simd, 8 * CHAINS) };
}
