// Peak f32x4 multiply-add rate of this host's Wasm, one thread: f32x4.mul + f32x4.add (what the
// bit-exact kernels of simd/needle-simd.wat use: 2 instructions, rounded twice) against
// f32x4.relaxed_madd (relaxed SIMD: one fused instruction where the CPU has FMA, e.g. x86 FMA3;
// the engine may also compute it unfused, so its rounding is host-dependent). Each variant runs
// K independent chains a = a*x + y (K = 4..14; x86 V8 has 16 xmm registers for K chains plus x
// and y) over a loop of n iterations; best of 9 timings of 4M iterations, 2 flops per lane.
// It also reports whether relaxed_madd is fused here (fma(a, b, c) with a product whose low bits
// an unfused add loses).
//
// With --workerd it also serves the same module from workerd (worker/node_modules/.bin/workerd, on
// 127.0.0.1) and asks a Worker whether it compiles there and whether relaxed_madd is fused there
// (workerd's clocks only move on I/O, so no rates from inside a Worker).
//
// Usage: node npm-package/bench/fma-peak.mjs [--workerd] [--json FILE]
//   (Node >= 22: `node-support/ensure-node.sh` prints one; wabt from npm-package/node_modules,
//   installed by node-support/npm-ci-once.sh npm-package; workerd from worker/node_modules,
//   node-support/npm-ci-once.sh worker)
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const wabt = await createRequire(path.join(here, "..", "package.json"))("wabt")();
const chains = [4, 6, 8, 10, 12, 14, 16];

/** One benchmark function: k chains, `fused` picks relaxed_madd over mul + add. */
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
const m = wabt.parseWat("fma-peak.wat", wat, { simd: true, relaxed_simd: true });
m.validate();
const bytes = m.toBinary({}).buffer;
m.destroy();
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
const workerd = process.argv.includes("--workerd") ? await inWorkerd(bytes, e) : null;
if (workerd) {
  console.log(`workerd: the module compiles: ${workerd.compiled}; relaxed_madd fused there: ${workerd.fused}`);
}
const i = process.argv.indexOf("--json");
if (i >= 0) {
  fs.writeFileSync(process.argv[i + 1], JSON.stringify({ node: process.version, fused: fusedHere, rows, workerd }, null, 1));
}

/** Serves `bytes` from a one-module Worker in workerd; returns what the Worker found. */
async function inWorkerd(bytes, probe) {
  const bin = path.join(here, "..", "..", "worker", "node_modules", ".bin", "workerd");
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
