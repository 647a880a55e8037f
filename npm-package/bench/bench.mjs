// The Wasm (Node) side of `needle bench` (BENCHMARKS.md), run in the same session as the JVM side:
//   1. runs `java -jar JAR bench --json --save DIR` (the JVM figures, and the benchmark model and
//      vocabulary written to DIR so both engines run the very same files and requests);
//   2. loads the npm package's needle.wasm in this Node process and runs the same workloads the
//      same way (each run: load the engine from the weight bytes, run the request once; medians of
//      --runs runs after --warmup warm-up runs);
//   3. prints both, their ratio, and the roofline fractions of the Wasm engine.
//
// Usage (Node 22+, Wasm GC): node npm-package/bench/bench.mjs [--jar cli/target/needle-cli.jar]
//          [--package npm-package/target/package] [--runs 7] [--warmup 3] [--quick]
//
// The Wasm facade has no "ignore eos" option yet, so its runs stop at eos like a normal request:
// the decode rate is per step actually run, and the token check below says whether both engines
// produced the same ids (the random model rarely picks eos in 32 steps).
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

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "needle-bench-"));
const javaArgs = ["-jar", jar, "bench", "--json", "--save", dir, "--runs", String(runs), "--warmup", String(warmup)];
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

let rssPeak = 0;
const wasm = [];
for (const w of jvm.workloads) {
  const load = [], encode = [], decode = [], total = [], steps = [];
  let tokens = null, prefill = 0;
  for (let i = -warmup; i < runs; i++) {
    const t0 = performance.now();
    const engine = NeedleWasm.load(weights, vocab);
    const t1 = performance.now();
    const r = engine.runDetailed(w.query, w.tools, { maxNewTokens: w.decode_steps, constrain: true });
    const t2 = performance.now();
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    tokens = r.tokens;
    prefill = r.timings.prefillTokens;
    if (i >= 0) {
      load.push(t1 - t0);
      encode.push(r.timings.encodeMs);
      decode.push(r.timings.decodeMs);
      steps.push(r.timings.decodeTokens);
      total.push(t2 - t0);
    }
  }
  const n = median(steps);
  const same = tokens.length <= w.tokens.length && tokens.every((id, k) => id === w.tokens[k]);
  wasm.push({
    name: w.name, encoder_tokens: prefill, decode_steps: n, load_ms: median(load), encode_ms: median(encode),
    decode_ms: median(decode), end_to_end_ms: median(total), same_tokens: same,
    encoder_tokens_per_s: prefill / (median(encode) / 1000), decode_tokens_per_s: n / (median(decode) / 1000),
  });
}

const f = (v, d = 1) => v.toFixed(d).padStart(8);
console.log(`\nneedle bench, same run: JVM ${jvm.java} vs Wasm (Node ${process.version}); ${jvm.model}; medians of ${runs} after ${warmup}`);
console.log("workload   engine  enc.tok  load ms  encode ms   enc tok/s  steps  decode ms  dec tok/s  end-to-end ms");
for (let i = 0; i < wasm.length; i++) {
  const j = jvm.workloads[i], w = wasm[i];
  for (const [name, r] of [["jvm", j], ["wasm", w]]) {
    console.log(`${r.name.padEnd(10)} ${name.padEnd(6)} ${String(r.encoder_tokens).padStart(7)} ${f(r.load_ms)} ${f(r.encode_ms, 1).padStart(10)} ${f(r.encoder_tokens_per_s, 0).padStart(11)} ${String(r.decode_steps).padStart(6)} ${f(r.decode_ms).padStart(10)} ${f(r.decode_tokens_per_s).padStart(10)} ${f(r.end_to_end_ms).padStart(14)}`);
  }
  console.log(`${"".padEnd(10)} wasm/jvm: encode ${(w.encode_ms / j.encode_ms).toFixed(2)}x, decode per step `
    + `${((w.decode_ms / w.decode_steps) / (j.decode_ms / j.decode_steps)).toFixed(2)}x, end-to-end `
    + `${(w.end_to_end_ms / j.end_to_end_ms).toFixed(2)}x; same tokens: ${w.same_tokens}`);
  const roof = jvm.roofline?.[i];
  if (roof) {
    console.log(`${"".padEnd(10)} roofline (scalar, one thread): wasm encode ${(100 * roof.encode_bound_ms_scalar_1t / w.encode_ms).toFixed(0)}%, `
      + `decode ${(100 * roof.decode_bound_ms_scalar_1t * (w.decode_steps / j.decode_steps) / w.decode_ms).toFixed(0)}%; `
      + `(SIMD) encode ${(100 * roof.encode_bound_ms_simd_1t / w.encode_ms).toFixed(0)}%`);
  }
}
console.log(`peak memory: JVM heap ${(jvm.heap_peak_bytes / 1e6).toFixed(1)} MB, JVM RSS ${(jvm.rss_peak_bytes / 1e6).toFixed(1)} MB; `
  + `Node RSS ${(rssPeak / 1e6).toFixed(1)} MB (weights ${(jvm.weights_bytes / 1e6).toFixed(1)} MB)`);
fs.rmSync(dir, { recursive: true, force: true });
