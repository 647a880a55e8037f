// A/B of two versions of the Wasm SIMD kernels (simd/needle-simd.wat) on the engine's shapes, in
// one Node process: the current file against an older one (--old FILE.wat, e.g. from
// `git show REV:npm-package/simd/needle-simd.wat > old.wat`). Both modules share one memory and
// get the same inputs; every output of the current kernels must have the old kernels' bits (the
// script stops otherwise), then medians of alternating timings (after warm-up, V8's optimizing
// tier only: --no-liftoff) for:
//   int4 1 row   (the decoder's $groupRow)          1 x 512 x 512
//   int4 rows    (the encoder's $groupRows)         62 x 512 x 512
//   logits       (the full output projection)        8192 rows of 512 (BF16, blocked), blocks 0..512
//   attend       (scores, softmax, weighted values)  192 queries x 192 keys, 8/4 heads of 64;
//                                                    1 query x 40 keys (a decoder step)
//
// Usage: node npm-package/bench/simd-ab.mjs --old OLD.wat [--reps 21] [--json FILE]
//   (wabt from npm-package/node_modules: node-support/npm-ci-once.sh npm-package)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import { assemble, option, median } from "./harness.mjs";

v8.setFlagsFromString("--no-liftoff");
const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => option(args, name, dflt);
const oldFile = opt("old", null);
if (!oldFile) {
  console.error("usage: node npm-package/bench/simd-ab.mjs --old OLD.wat [--reps 21] [--json FILE]");
  process.exit(2);
}
const reps = Number(opt("reps", "21"));

const memory = new WebAssembly.Memory({ initial: 512 });
const modules = {
  old: new WebAssembly.Instance(new WebAssembly.Module(assemble("old.wat", fs.readFileSync(oldFile, "utf8"))), { env: { memory } }).exports,
  new: new WebAssembly.Instance(new WebAssembly.Module(assemble("new.wat",
    fs.readFileSync(path.join(here, "..", "simd", "needle-simd.wat"), "utf8"))), { env: { memory } }).exports,
};
const f32 = new Float32Array(memory.buffer), u8 = new Uint8Array(memory.buffer), u32 = new Uint32Array(memory.buffer);
let seed = 7;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
let top = 1024;
const alloc = (bytes) => {
  const at = top;
  top += (bytes + 63) & ~63;
  if (top > memory.buffer.byteLength) throw new Error("simd-ab: memory too small");
  return at;
};
const fill = (at, n, scale) => { for (let i = 0; i < n; i++) f32[at / 4 + i] = (rnd() - 0.5) * scale; };

// int4
const IN = 512, OUT = 512, G = 32, ROWS = 62;
const w = alloc((IN / 2) * OUT), sc = alloc((IN / G) * OUT * 4), x = alloc(ROWS * IN * 4), y = alloc(ROWS * OUT * 4), scratch = alloc(G * OUT * 4);
for (let i = 0; i < (IN / 2) * OUT; i++) u8[w + i] = (rnd() * 256) | 0;
fill(sc, (IN / G) * OUT, 0.1);
fill(x, ROWS * IN, 4);
// logits: the blocked BF16 table (random bits of finite floats' high halves)
const VOCAB = 8192, DIM = 512;
const emb = alloc(VOCAB * DIM * 2), h = alloc(DIM * 4), logitsOut = alloc(VOCAB * 4);
const e16 = new Uint16Array(memory.buffer, emb, VOCAB * DIM);
const one = new Float32Array(1), oneBits = new Uint32Array(one.buffer);
for (let i = 0; i < VOCAB * DIM; i++) {
  one[0] = (rnd() - 0.5) * 0.2;
  e16[i] = oneBits[0] >>> 16;
}
fill(h, DIM, 3);
// attend: 192 queries x 192 keys, 8 heads / 4 KV heads of 64 (the encoder); 1 x 40 (a decoder step)
const HEADS = 8, KV = 4, HD = 64, KEYS = 192, STRIDE = 192;
const q = alloc(KEYS * HEADS * HD * 4), kT = alloc(KV * HD * STRIDE * 4), vv = alloc(KEYS * KV * HD * 4);
const valid = alloc(KEYS), ctx = alloc(KEYS * HEADS * HD * 4), scores = alloc(STRIDE * 4 + 64);
fill(q, KEYS * HEADS * HD, 2);
fill(kT, KV * HD * STRIDE, 2);
fill(vv, KEYS * KV * HD, 2);
u8.fill(1, valid, valid + KEYS);

const cases = [
  { name: "int4 1x512x512 ($groupRow)", calls: 60, gflop: (IN * OUT * 2) / 1e9, out: [y, OUT],
    run: (k) => k.int4(x, y, w, sc, 1, IN, OUT, G, scratch) },
  { name: `int4 ${ROWS}x512x512 ($groupRows)`, calls: 3, gflop: (ROWS * IN * OUT * 2) / 1e9, out: [y, ROWS * OUT],
    run: (k) => k.int4(x, y, w, sc, ROWS, IN, OUT, G, scratch) },
  { name: "logits 8192x512", calls: 3, gflop: (VOCAB * DIM * 2) / 1e9, out: [logitsOut, VOCAB],
    run: (k) => k.logits(h, logitsOut, emb, 0, VOCAB / 16, DIM) },
  { name: "attend 192x192, 8/4 heads of 64", calls: 2, gflop: (KEYS * KEYS * HEADS * HD * 4) / 1e9, out: [ctx, KEYS * HEADS * HD],
    run: (k) => k.attend(q, kT, vv, valid, ctx, scores, KEYS, KEYS, STRIDE, HEADS, KV, HD, 0.125, 0, 0) },
  { name: "attend 1x40 (a decoder step)", calls: 200, gflop: (40 * HEADS * HD * 4) / 1e9, out: [ctx, HEADS * HD],
    run: (k) => k.attend(q, kT, vv, valid, ctx, scores, 1, 40, STRIDE, HEADS, KV, HD, 0.125, 39, 1) },
];
// blocked layout (the same bytes for both modules: blockRows is unchanged)
modules.new.blockRows(emb, VOCAB, DIM, alloc(32 * DIM));

console.log(`Node ${process.version}, ${os.cpus()[0].model}; load average ${os.loadavg().map((v) => v.toFixed(2)).join(" ")}`);
const result = { node: process.version, load_before: os.loadavg(), old: path.resolve(oldFile), kernels: [] };
for (const c of cases) {
  const [at, n] = c.out;
  const bits = {};
  for (const name of ["old", "new"]) {
    u32.fill(0x7fc00001, at / 4, at / 4 + n);
    c.run(modules[name]);
    bits[name] = u32.slice(at / 4, at / 4 + n);
  }
  for (let i = 0; i < n; i++) {
    if (bits.old[i] !== bits.new[i]) throw new Error(`simd-ab: ${c.name}: output ${i} differs (old ${bits.old[i].toString(16)}, new ${bits.new[i].toString(16)})`);
  }
  const times = { old: [], new: [] };
  for (let rep = -3; rep < reps; rep++) {
    for (const name of rep % 2 ? ["old", "new"] : ["new", "old"]) {
      const t0 = performance.now();
      for (let k = 0; k < c.calls; k++) c.run(modules[name]);
      if (rep >= 0) times[name].push((performance.now() - t0) / c.calls);
    }
  }
  const o = median(times.old), nw = median(times.new);
  const row = { name: c.name, old_ms: o, new_ms: nw, old_gflops: (c.gflop / o) * 1000, new_gflops: (c.gflop / nw) * 1000, speedup: o / nw };
  result.kernels.push(row);
  console.log(`${c.name.padEnd(34)} old ${o.toFixed(4)} ms (${row.old_gflops.toFixed(1)} GFLOP/s)  new ${nw.toFixed(4)} ms (${row.new_gflops.toFixed(1)} GFLOP/s)  ${row.speedup.toFixed(2)}x; same bits`);
}
result.load_after = os.loadavg();
console.log(`load average ${os.loadavg().map((v) => v.toFixed(2)).join(" ")}`);
const jsonOut = opt("json", null);
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(result, null, 1));
