// Can Wasm's relaxed-SIMD fused multiply-add (f32x4.relaxed_madd) speed up the SIMD kernels?
// Three measurements in one Node process, one thread:
//
// 1. Peak: f32x4.mul + f32x4.add (what the bit-exact kernels of simd/needle-simd.wat use: two
//    instructions, rounded twice) against f32x4.relaxed_madd (relaxed SIMD: one fused instruction
//    where the CPU has FMA, e.g. x86 FMA3; an engine may also compute it unfused, so its rounding
//    depends on the host). Each variant runs K independent chains a = a*x + y (K = 4..16; V8 on
//    x86 has 16 xmm registers for the K chains plus x and y); best of 9 timings of 4M iterations,
//    2 flops a lane. Also whether relaxed_madd is fused here: fma(e, e, -1) with e = 1 + 2^-12
//    keeps the product's 2^-24 that a rounded product loses.
// 2. Kernel: the encoder's INT4 linear (export int4, many rows: $groupRows) of the shipped
//    simd/needle-simd.wat against two fused rewrites of its accumulations, made here from the .wat
//    text (nothing shipped changes): "chain" a = madd(v, h, madd(u, l, a)) (two fused operations
//    a pair, a different order of additions) and "assoc" a = a + madd(u, l, v*h) (the portable
//    order, one rounding fewer). Shapes 62 and 192 rows x 512 x 512 (the two bench prompts'
//    encoder linears), random inputs, medians of 31 alternating timings; how many outputs differ.
// 3. --engine: the whole engine, the npm package as built (--package) against a copy of it whose
//    needle-simd.wasm is the "chain" rewrite: the JVM's `needle bench --save` model and requests
//    (--jar, one-thread Vector kernels, also its figures), encode and decode step medians of
//    --runs alternating runs, and whether both decode the same tokens: the bench requests, and
//    --requests N of shared/fixtures/realistic (real queries and tool lists, the bench's random
//    full-size model, the real vocabulary, 48 tokens), and the shared parity fixtures.
//
// With --workerd it also serves the peak module from workerd (worker/node_modules/.bin/workerd,
// on 127.0.0.1) and asks a Worker whether it compiles there and whether relaxed_madd is fused
// there (workerd's clocks only move on I/O, so no rates from inside a Worker).
//
// Usage: node npm-package/bench/fma-peak.mjs [--workerd] [--engine [--package npm-package/target/package]
//          [--jar cli/target/needle-cli.jar] [--runs 9] [--requests 80] [--shared ../shared]] [--json FILE]
//   (Node >= 22: `node-support/ensure-node.sh` prints one; wabt from npm-package/node_modules,
//   installed by node-support/npm-ci-once.sh npm-package; workerd from worker/node_modules,
//   node-support/npm-ci-once.sh worker)
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { assemble as assembleWat, option, median, packageWithKernels, importPackages, jvmBenchModel, alternateRuns } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const args = process.argv.slice(2);
const opt = (name, dflt) => option(args, name, dflt);
const chains = [4, 6, 8, 10, 12, 14, 16];

/** One benchmark function: k chains, `fused` picks relaxed_madd over mul + add. */
/** Relaxed SIMD allowed (relaxed_madd). */
function assemble(name, text) {
  return assembleWat(name, text, { relaxed: true });
}

function func(k, fused) {
  const n = [...Array(k).keys()];
  const step = (i) => fused
    ? `(local.set $a${i} (f32x4.relaxed_madd (local.get $a${i}) (local.get $x) (local.get $y)))`
    : `(local.set $a${i} (f32x4.add (f32x4.mul (local.get $a${i}) (local.get $x)) (local.get $y)))`;
  // the result sums every chain so none is dead code
  let sum = "(local.get $a0)";
  for (let i = 1; i < k; i++) sum = `(f32x4.add ${sum} (local.get $a${i}))`;
  return `(func (export "${fused ? "madd" : "muladd"}${k}") (param $n i32) (result f32)
    ${n.map((i) => `(local $a${i} v128)`).join(" ")} (local $x v128) (local $y v128)
    (local.set $x (f32x4.splat (f32.const 0.9999)))
    (local.set $y (f32x4.splat (f32.const 0.0001)))
    ${n.map((i) => `(local.set $a${i} (f32x4.splat (f32.const ${1 + i / 16})))`).join(" ")}
    (loop $l
      ${n.map(step).join("\n      ")}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (f32x4.extract_lane 0 ${sum}))`;
}

const wat = `(module
  ${chains.map((k) => func(k, false) + "\n  " + func(k, true)).join("\n  ")}
  (func (export "fusedProbe") (param $a f32) (param $b f32) (param $c f32) (result f32)
    (f32x4.extract_lane 0 (f32x4.relaxed_madd (f32x4.splat (local.get $a)) (f32x4.splat (local.get $b)) (f32x4.splat (local.get $c))))))`;
const bytes = assemble("fma-peak.wat", wat);
const { instance } = await WebAssembly.instantiate(bytes);
const ex = instance.exports;

// fused iff a*b + c keeps the product's low bits: (1 + 2^-12)^2 - 1 = 2^-11 + 2^-24 exactly with a
// fused multiply-add; rounding the product to f32 first loses the 2^-24
const e = Math.fround(1 + 2 ** -12);
const fusedHere = ex.fusedProbe(e, e, -1) === Math.fround(2 ** -11 + 2 ** -24);

const rate = (fn, k) => {
  const n = 4_000_000;
  fn(10_000); // compiled by the optimizing tier before timing
  let best = 0;
  for (let r = 0; r < 9; r++) {
    const t0 = performance.now();
    fn(n);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (n * k * 8) / s / 1e9);
  }
  return best;
};
const rows = [];
for (let rep = 0; rep < 2; rep++) { // twice, interleaved: the machine is shared
  for (const k of chains) {
    const a = rate(ex["muladd" + k], k);
    const b = rate(ex["madd" + k], k);
    const row = rows.find((r) => r.chains === k) ?? rows[rows.push({ chains: k, muladd: 0, madd: 0 }) - 1];
    row.muladd = Math.max(row.muladd, a);
    row.madd = Math.max(row.madd, b);
  }
}
console.log(`Node ${process.version}; relaxed_madd fused on this host: ${fusedHere}`);
console.log("chains  mul+add GFLOP/s  relaxed_madd GFLOP/s  ratio");
for (const r of rows) {
  console.log(`${String(r.chains).padStart(6)}  ${r.muladd.toFixed(1).padStart(15)}  ${r.madd.toFixed(1).padStart(20)}  ${(r.madd / r.muladd).toFixed(2)}x`);
}
const best = (key) => Math.max(...rows.map((r) => r[key]));
console.log(`peak: mul+add ${best("muladd").toFixed(1)} GFLOP/s, relaxed_madd ${best("madd").toFixed(1)} GFLOP/s, `
  + `${(best("madd") / best("muladd")).toFixed(2)}x`);
const kernel = kernelRates();
const engine = args.includes("--engine") ? await engineAB() : null;
const workerd = args.includes("--workerd") ? await inWorkerd(bytes, e) : null;
if (workerd) {
  console.log(`workerd: the module compiles: ${workerd.compiled}; relaxed_madd fused there: ${workerd.fused}`);
}
const jsonOut = opt("json", null);
if (jsonOut) {
  fs.writeFileSync(jsonOut, JSON.stringify({ node: process.version, fused: fusedHere, rows, kernel, engine, workerd }, null, 1));
}

/** needle-simd.wat's text with $groupRows' accumulations rewritten as `variant` ("chain", "assoc"). */
function fusedWat(variant) {
  const text = fs.readFileSync(path.join(here, "..", "simd", "needle-simd.wat"), "utf8");
  // a = a + (u*l + v*h), as $groupRows writes it: in its 2-row tile u*l is computed first into
  // $p0 / $p1 ((local.set $pI (f32x4.mul (local.get $uI) (local.get $l)))) and h loaded in place;
  // in its 1-row tail both products are written out with both loads in place (2 x 4 + 4 in all)
  const load = String.raw`\(v128\.load offset=\d+ \(local\.get \$wl\)\)`;
  const re = new RegExp(String.raw`\(f32x4\.add \(local\.get (\$a\d\d)\) \(f32x4\.add\s+`
    + String.raw`(?:\(local\.get \$p(\d)\)|\(f32x4\.mul \(local\.get (\$u\d)\) (${load})\))`
    + String.raw` \(f32x4\.mul \(local\.get (\$v\d)\) (${load})\)\)\)`, "g");
  const found = [...text.matchAll(re)].length;
  if (found !== 12) {
    throw new Error(`fma-peak: expected $groupRows' 12 accumulations in needle-simd.wat, found ${found}: update fusedWat()`);
  }
  return text.replace(re, (_, a, p, u1, l1, v, h) => {
    const u = p !== undefined ? `(local.get $u${p})` : `(local.get ${u1})`;
    const l = p !== undefined ? "(local.get $l)" : l1;
    return variant === "chain"
      ? `(f32x4.relaxed_madd (local.get ${v}) ${h} (f32x4.relaxed_madd ${u} ${l} (local.get ${a})))`
      : `(f32x4.add (local.get ${a}) (f32x4.relaxed_madd ${u} ${l} (f32x4.mul (local.get ${v}) ${h})))`;
  });
}

/** The INT4 many-rows kernel, exact and fused, on the encoder's shapes. */
function kernelRates() {
  const memory = new WebAssembly.Memory({ initial: 64 });
  const texts = { exact: fs.readFileSync(path.join(here, "..", "simd", "needle-simd.wat"), "utf8"), chain: fusedWat("chain"), assoc: fusedWat("assoc") };
  const kernels = Object.fromEntries(Object.entries(texts).map(([name, text]) =>
    [name, new WebAssembly.Instance(new WebAssembly.Module(assemble(name + ".wat", text)), { env: { memory } }).exports.int4]));
  const IN = 512, OUT = 512, G = 32, MAXR = 192;
  const X = 0, Y = X + MAXR * IN * 4, W = Y + MAXR * OUT * 4, SC = W + (IN / 2) * OUT, S = SC + (IN / G) * OUT * 4;
  const f = new Float32Array(memory.buffer), u8 = new Uint8Array(memory.buffer);
  let seed = 1;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < MAXR * IN; i++) f[X / 4 + i] = rnd() * 2 - 1;
  for (let i = 0; i < (IN / 2) * OUT; i++) u8[W + i] = (rnd() * 256) | 0;
  for (let i = 0; i < (IN / G) * OUT; i++) f[SC / 4 + i] = rnd() * 0.01;
  const out = [];
  console.log("INT4 linear, many rows (int4 / $groupRows), medians of 31 alternating timings:");
  for (const rows of [62, 192]) {
    const gflop = (rows * IN * OUT * 2) / 1e9;
    const times = Object.fromEntries(Object.keys(kernels).map((k) => [k, []]));
    const results = {};
    for (let rep = -3; rep < 31; rep++) {
      for (const [name, int4] of Object.entries(kernels)) {
        const t0 = performance.now();
        int4(X, Y, W, SC, rows, IN, OUT, G, S);
        int4(X, Y, W, SC, rows, IN, OUT, G, S);
        if (rep >= 0) times[name].push((performance.now() - t0) / 2);
        results[name] = f.slice(Y / 4, Y / 4 + rows * OUT);
      }
    }
    const row = { rows, in: IN, out: OUT };
    for (const name of Object.keys(kernels)) {
      const ms = median(times[name]);
      let differ = 0;
      for (let i = 0; i < results.exact.length; i++) if (results.exact[i] !== results[name][i]) differ++;
      row[name] = { ms, gflops: (gflop / ms) * 1000, differ };
      console.log(`  ${rows}x${IN}x${OUT} ${name.padEnd(5)} ${ms.toFixed(3)} ms, ${row[name].gflops.toFixed(1)} GFLOP/s`
        + (name === "exact" ? "" : `, ${(row.exact.ms / ms).toFixed(2)}x faster; ${differ} of ${results.exact.length} outputs differ from exact`));
    }
    out.push(row);
  }
  return out;
}

/** The whole engine: the package as built against the same package with the "chain" kernel. */
async function engineAB() {
  const pkg = path.resolve(opt("package", path.join(repo, "npm-package", "target", "package")));
  const jar = path.resolve(opt("jar", path.join(repo, "cli", "target", "needle-cli.jar")));
  const shared = path.resolve(opt("shared", path.join(repo, "..", "shared")));
  const runs = Number(opt("runs", "9"));
  const requests = Number(opt("requests", "80"));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fma-engine-"));
  try {
    const fusedPkg = packageWithKernels(pkg, tmp, "package", assemble("chain.wat", fusedWat("chain")), "fma-peak");
    const engines = await importPackages([["exact", pkg], ["fused", fusedPkg]]);
    const dir = path.join(tmp, "model");
    const { jvm, weights, vocab } = jvmBenchModel(jar, dir, runs);
    const same = (a, b) => a.length === b.length && a.every((t, k) => t === b[k]);
    // the first step where two token lists part (the shorter one's length when one is a prefix)
    const parts = (a, b) => {
      const k = a.findIndex((t, i) => t !== b[i]);
      return k < 0 ? Math.min(a.length, b.length) : k;
    };
    const result = { load_average: os.loadavg(), workloads: [] };
    console.log(`whole engine (${pkg} and its copy with the fused kernel; medians of ${runs} alternating runs; JVM ${jvm.java}, Vector kernels, one thread, same model):`);
    for (const w of jvm.workloads) {
      const m = alternateRuns(engines, ["exact", "fused"], w, weights, vocab, runs, "fma-peak");
      const row = { name: w.name, jvm_encode_ms: w.encode_ms, jvm_step_ms: w.decode_ms / w.decode_steps, same_tokens: same(m.exact.tokens, m.fused.tokens),
        steps: m.exact.tokens.length, first_differing_step: same(m.exact.tokens, m.fused.tokens) ? null : parts(m.exact.tokens, m.fused.tokens) };
      for (const name of ["exact", "fused"]) row[name] = { encode_ms: m[name].encode_ms, step_ms: m[name].step_ms };
      result.workloads.push(row);
      console.log(`  ${w.name}: encode JVM ${row.jvm_encode_ms.toFixed(1)} ms, exact ${row.exact.encode_ms.toFixed(1)} (${(row.exact.encode_ms / row.jvm_encode_ms).toFixed(2)}x JVM), `
        + `fused ${row.fused.encode_ms.toFixed(1)} (${(row.fused.encode_ms / row.jvm_encode_ms).toFixed(2)}x JVM): ${(row.exact.encode_ms / row.fused.encode_ms).toFixed(2)}x faster; `
        + `step JVM ${row.jvm_step_ms.toFixed(3)} ms, exact ${row.exact.step_ms.toFixed(3)}, fused ${row.fused.step_ms.toFixed(3)}; same tokens: ${row.same_tokens}`
        + (row.same_tokens ? "" : ` (they part at step ${row.first_differing_step} of ${row.steps})`));
    }
    // token agreement: the realistic requests on the bench's random full-size model, the parity fixtures
    const examples = JSON.parse(fs.readFileSync(path.join(shared, "fixtures", "realistic", "e2e_vectors.json"), "utf8")).examples.slice(0, requests);
    const realVocab = fs.readFileSync(path.join(shared, "fixtures", "tokenizer", "vocab.txt"), "utf8");
    const a = engines.exact.load(weights, realVocab), b = engines.fused.load(weights, realVocab);
    const firstDiff = [];
    for (const ex of examples) {
      const x = a.runDetailed(ex.query, ex.tools, { maxNewTokens: 48 }).tokens;
      const y = b.runDetailed(ex.query, ex.tools, { maxNewTokens: 48 }).tokens;
      if (!same(x, y)) firstDiff.push(parts(x, y));
    }
    a.free();
    b.free();
    result.realistic = { requests: examples.length, differ: firstDiff.length, first_differing_steps: firstDiff };
    console.log(`  realistic requests (random full-size model, real vocabulary, 48 tokens): ${firstDiff.length} of ${examples.length} decode other tokens`
      + (firstDiff.length ? ` (first differing step: ${firstDiff.join(", ")})` : ""));
    const parity = [];
    for (const p of ["p1", "p2", "p3", "p4"]) {
      const spec = JSON.parse(fs.readFileSync(path.join(shared, "fixtures", "parity", p + ".json"), "utf8"));
      const bytesP = fs.readFileSync(path.join(shared, "fixtures", "parity", p + ".safetensors"));
      const ea = engines.exact.load(bytesP), eb = engines.fused.load(bytesP);
      const differ = spec.cases.filter((c) => !same(ea.generate(c.input_ids, { maxNewTokens: c.max_new_tokens }),
        eb.generate(c.input_ids, { maxNewTokens: c.max_new_tokens }))).length;
      ea.free();
      eb.free();
      parity.push({ name: p, cases: spec.cases.length, differ });
    }
    result.parity = parity;
    console.log(`  parity fixtures: ${parity.map((p) => `${p.name} ${p.differ} of ${p.cases} differ`).join(", ")}`);
    console.log(`  load average ${result.load_average.map((v) => v.toFixed(2)).join(" ")}`);
    return result;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Serves `bytes` from a one-module Worker in workerd; returns what the Worker found. */
async function inWorkerd(bytes, probe) {
  const bin = path.join(here, "..", "..", "worker", "node_modules", ".bin", "workerd");
  if (!fs.existsSync(bin)) {
    throw new Error("fma-peak: " + bin + " is missing (install it: node-support/npm-ci-once.sh worker)");
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fma-peak-"));
  fs.writeFileSync(path.join(dir, "fma.wasm"), Buffer.from(bytes));
  fs.writeFileSync(path.join(dir, "index.js"), `import module from "fma.wasm";
export default {
  async fetch() {
    const { exports } = new WebAssembly.Instance(module, {});
    const e = ${probe};
    return Response.json({ compiled: true, fused: exports.fusedProbe(e, e, -1) === ${Math.fround(2 ** -11 + 2 ** -24)} });
  },
};
`);
  const port = await new Promise((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
  fs.writeFileSync(path.join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ]
);
const worker :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "index.js"), (name = "fma.wasm", wasm = embed "fma.wasm") ],
  compatibilityDate = "2025-09-01",
);
`);
  const child = spawn(bin, ["serve", path.join(dir, "config.capnp")], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  try {
    for (let k = 0; ; k++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        const text = await res.text();
        if (res.status !== 200) {
          return { compiled: false, fused: null, error: text + log };
        }
        return JSON.parse(text);
      } catch (err) {
        if (k > 100 || child.exitCode !== null) {
          return { compiled: false, fused: null, error: String(err) + "\n" + log };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
