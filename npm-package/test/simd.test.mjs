// The Wasm SIMD kernels (needle-simd.wasm, from simd/needle-simd.wat): each kernel gives, bit for
// bit, the floats of the portable Java kernels' arithmetic (written out below in JavaScript with
// Math.fround after every operation, in the Java order), and the engine decodes the same tokens
// with the SIMD kernels as with the portable kernels and as the JVM.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { before, describe, test } from "node:test";
import init, { NeedleWasm } from "needle-java-wasm";
import { exp } from "./exp-reference.mjs";
import { manifest, nodeFixture, PACKAGE_DIR, realVocab } from "./helpers.mjs";

before(() => init());

const f = Math.fround;

/** A seeded generator of floats in [0, 1). */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

/** The module on its own memory, with a bump allocator. */
async function kernels() {
  const memory = new WebAssembly.Memory({ initial: 256 });
  const bytes = fs.readFileSync(path.join(PACKAGE_DIR, "needle-simd.wasm"));
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
  let top = 1024;
  const alloc = (n) => {
    const at = top;
    top += (n + 16 + 63) & ~63;
    if (top > memory.buffer.byteLength) {
      memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
    }
    return at;
  };
  return { k: instance.exports, memory, alloc };
}

/** Int4Linear's arithmetic: per group, acc += x[r]·q[r] + x[r+1]·q[r+1] by row pairs, then y += acc·scale. */
function int4Reference(x, packed, scales, rows, inRows, out, group) {
  const q = (r, c) => {
    const b = (packed[(r >> 1) * out + c] << 24) >> 24;
    return (r & 1) === 0 ? (b << 28) >> 28 : b >> 4;
  };
  const y = new Float32Array(rows * out);
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < out; c++) {
      let yv = 0;
      for (let r0 = 0, g = 0; r0 < inRows; r0 += group, g++) {
        let acc = 0;
        for (let r = r0; r < Math.min(inRows, r0 + group); r += 2) {
          const u = x[t * inRows + r];
          const v = r + 1 < inRows ? x[t * inRows + r + 1] : 0;
          acc = f(acc + f(f(u * q(r, c)) + f(v * q(r + 1, c))));
        }
        yv = f(yv + f(acc * scales[g * out + c]));
      }
      y[t * out + c] = yv;
    }
  }
  return y;
}

const bits = (a) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("needle-simd.wasm kernels: bit for bit the portable arithmetic", () => {
  // needle files (docs/spec/WEIGHTS.md): group = min(32, in), the I4 tensor [in_pad/2, out] with its
  // rows padded to in_pad = ceil(in/group)*group. Rows 1 (the decoder's path) and several (the
  // encoder's: 2 rows at a time plus an odd one); in a multiple of 32; in 48 and 75 (a short last
  // group of 16 / 11 rows, padding rows after them); in 17 (one odd group of 17, 9 byte rows);
  // and groups of 8 with an odd in (not a needle layout, but the kernel takes any group size).
  // The many-rows kernel unpacks a group into blocks of 16 columns (n rounded up to even rows
  // each) and runs tiles of 2 rows: so even and odd row counts (3, 4, 6; 62, 192), one block and
  // many (out 16, 512), the encoder's in (512) and a long one (2048), odd groups with 2..6 rows
  for (const [rows, inRows, out, group] of [[1, 64, 16, 32], [2, 64, 32, 32], [7, 512, 64, 32], [62, 96, 48, 32],
    [1, 48, 48, 32], [5, 48, 48, 32], [1, 75, 128, 32], [9, 75, 128, 32], [1, 17, 48, 17], [2, 17, 48, 17],
    [7, 17, 32, 17], [1, 45, 32, 8], [3, 45, 16, 8], [3, 512, 32, 32], [4, 75, 16, 32], [6, 17, 16, 17],
    [4, 17, 32, 17], [62, 75, 16, 32], [192, 512, 16, 32], [4, 512, 512, 32], [1, 2048, 16, 32], [5, 2048, 32, 32]]) {
    test(`int4: ${rows} rows, in ${inRows}, out ${out}, group ${group}`, async () => {
      const { k, memory, alloc } = await kernels();
      const rnd = random(rows * 1000 + inRows + group);
      const groups = Math.ceil(inRows / group);
      const inPad = groups * group;
      const packedBytes = ((inPad + 1) >> 1) * out; // the file's I4 tensor, padding rows included
      const scratchBytes = 4 * ((group + 1) & ~1) * out; // what SimdInt4Kernel reserves
      const w = alloc(packedBytes), sc = alloc(4 * groups * out), x = alloc(4 * rows * inRows);
      const y = alloc(4 * rows * out), scratch = alloc(scratchBytes + 64);
      const packed = new Uint8Array(memory.buffer, w, packedBytes);
      // random nibbles everywhere, the padding rows too: a kernel that read them would differ
      packed.forEach((_, i) => { packed[i] = (rnd() * 256) | 0; });
      const scales = new Float32Array(memory.buffer, sc, groups * out);
      scales.forEach((_, i) => { scales[i] = (rnd() - 0.5) * 0.1; });
      const xs = new Float32Array(memory.buffer, x, rows * inRows);
      xs.forEach((_, i) => { xs[i] = (rnd() - 0.5) * 4; });
      const guard = new Uint8Array(memory.buffer, scratch + scratchBytes, 64).fill(0xa5);
      k.int4(x, y, w, sc, rows, inRows, out, group, scratch);
      const got = new Float32Array(memory.buffer, y, rows * out);
      assert.deepEqual(bits(got), bits(int4Reference(xs, packed, scales, rows, inRows, out, group)));
      assert.ok(guard.every((b) => b === 0xa5), "the kernel wrote past its scratch space");
      if (inPad > inRows) {
        // the padding rows are never used: zero them (as export.py writes them) and get the same floats
        for (let r = inRows; r < inPad; r++) {
          for (let c = 0; c < out; c++) {
            const i = (r >> 1) * out + c;
            packed[i] = (r & 1) === 0 ? packed[i] & 0xf0 : packed[i] & 0x0f;
          }
        }
        k.int4(x, y, w, sc, rows, inRows, out, group, scratch);
        assert.deepEqual(bits(new Float32Array(memory.buffer, y, rows * out)),
          bits(int4Reference(xs, packed, scales, rows, inRows, out, group)));
      }
    });
  }

  test("logits, logitsAt and the blocked BF16 layout (blockRows)", async () => {
    const { k, memory, alloc } = await kernels();
    const vocab = 80, dim = 24;
    const rnd = random(7);
    const table = alloc(2 * vocab * dim), tmp = alloc(32 * dim), h = alloc(4 * dim);
    const out = alloc(4 * vocab), ids = alloc(4 * vocab), outAt = alloc(4 * vocab);
    const e = new Float32Array(vocab * dim);
    const rowMajor = new Uint16Array(memory.buffer, table, vocab * dim);
    const one = new Float32Array(1), oneBits = new Uint32Array(one.buffer);
    for (let i = 0; i < vocab * dim; i++) {
      one[0] = (rnd() - 0.5) * 0.2;
      rowMajor[i] = oneBits[0] >>> 16;
      oneBits[0] = rowMajor[i] << 16;
      e[i] = one[0];
    }
    const hs = new Float32Array(memory.buffer, h, dim);
    hs.forEach((_, i) => { hs[i] = (rnd() - 0.5) * 3; });
    // Embedding.logits: for each row, sum += h[i]·E[v][i] in order i
    const expected = new Float32Array(vocab);
    for (let v = 0; v < vocab; v++) {
      let s = 0;
      for (let i = 0; i < dim; i++) s = f(s + f(hs[i] * e[v * dim + i]));
      expected[v] = s;
    }
    k.blockRows(table, vocab, dim, tmp);
    k.logits(h, out, table, 0, vocab / 16, dim);
    assert.deepEqual(bits(new Float32Array(memory.buffer, out, vocab)), bits(expected));
    const some = [5, 79, 0, 16, 33, 33, 64]; // 4 at a time, then one by one
    new Int32Array(memory.buffer, ids, some.length).set(some);
    k.logitsAt(h, outAt, table, ids, some.length, dim);
    assert.deepEqual(bits(new Float32Array(memory.buffer, outAt, some.length)), some.map((v) => bits(expected)[v]));
  });
});

/** Attention.attend's arithmetic (the exp is the engine's own, io.needle.model.Exp: exp-reference.mjs). */
function attendReference(q, kT, v, valid, rows, keys, stride, heads, kvHeads, hd, scale, pos0, causal) {
  const qd = heads * hd, group = heads / kvHeads, ctx = new Float32Array(rows * qd), s = new Float32Array(keys);
  const MIN = -3.4028234663852886e38; // -Float.MAX_VALUE
  for (let t = 0; t < rows; t++) {
    for (let h = 0; h < heads; h++) {
      const qo = t * qd + h * hd, g = Math.floor(h / group);
      s.fill(0);
      for (let i = 0; i < hd; i++) {
        for (let j = 0; j < keys; j++) s[j] = f(s[j] + f(q[qo + i] * kT[(g * hd + i) * stride + j]));
      }
      let max = MIN;
      for (let j = 0; j < keys; j++) {
        s[j] = valid[j] && (!causal || j <= pos0 + t) ? f(s[j] * scale) : MIN;
        if (s[j] > max) max = s[j];
      }
      let sum = 0;
      for (let j = 0; j < keys; j++) {
        s[j] = f(exp(f(s[j] - max)));
        sum += s[j];
      }
      const inv = f(1 / sum);
      const acc = new Float32Array(hd);
      for (let j = 0; j < keys; j++) {
        const p = f(s[j] * inv);
        if (p === 0) continue;
        for (let i = 0; i < hd; i++) acc[i] = f(acc[i] + f(p * v[j * kvHeads * hd + g * hd + i]));
      }
      ctx.set(acc, qo);
    }
  }
  return ctx;
}

/** Float a and b are the same float (any NaN matches any NaN: Wasm leaves NaN bits open). */
const sameFloat = (a, b) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

describe("needle-simd.wasm exp: bit for bit io.needle.model.Exp", () => {
  /** exps over xs (max subtracted in f32): the floats it leaves and the sum it returns. */
  async function runExps(xs, max) {
    const { k, memory, alloc } = await kernels();
    const at = alloc(4 * (xs.length + 3));
    new Float32Array(memory.buffer, at, xs.length).set(xs);
    const sum = k.exps(at, xs.length, max);
    return { e: new Float32Array(memory.buffer, at, xs.length), sum };
  }

  test("the JVM's floats (exp.bin: the whole float range and the special values)", async () => {
    const { file, count } = manifest().exp;
    const pairs = new Float32Array(new Uint8Array(fs.readFileSync(nodeFixture(file))).buffer);
    assert.equal(pairs.length, 2 * count);
    const xs = pairs.filter((_, i) => i % 2 === 0);
    const { e } = await runExps(xs, 0);
    let checked = 0;
    for (let i = 0; i < count; i++) {
      if (!sameFloat(e[i], pairs[2 * i + 1])) assert.fail(`exp(${xs[i]}): ${e[i]}, the JVM gives ${pairs[2 * i + 1]}`);
      if (!sameFloat(f(exp(xs[i])), pairs[2 * i + 1])) assert.fail(`exp-reference.mjs: exp(${xs[i]}) is ${f(exp(xs[i]))}`);
      checked++;
    }
    assert.ok(checked > 100000, `checked ${checked}`);
  });

  test("s - max over many floats, any bits, every length: the reference's floats and sum", async () => {
    const rnd = random(77);
    const words = new Uint32Array(1);
    const bitsFloat = new Float32Array(words.buffer);
    const xs = new Float32Array(1 << 19);
    for (let i = 0; i < xs.length; i++) {
      if (i % 3 === 2) {
        words[0] = Math.floor(rnd() * 4294967296); // anything: huge, tiny, infinite, NaN
        xs[i] = bitsFloat[0];
      } else {
        xs[i] = (rnd() - 0.9) * 140; // the softmax's range and past it
      }
    }
    for (const max of [0, 3.75, -2.5]) {
      for (const n of [xs.length, 1, 2, 3, 5, 6, 7, 0]) {
        const part = xs.subarray(0, n);
        const { e, sum } = await runExps(part, max);
        let expected = 0;
        for (let j = 0; j < n; j++) {
          const v = f(exp(f(part[j] - max)));
          if (!sameFloat(e[j], v)) assert.fail(`exp(${part[j]} - ${max}): ${e[j]}, Exp gives ${v}`);
          expected += v;
        }
        assert.ok(sameFloat(sum, expected), `sum of ${n}: ${sum}, in order ${expected}`);
      }
    }
  });

  test("within one float ulp of Math.exp, and exact at 0 and for masked keys", async () => {
    const rnd = random(5);
    const xs = Float32Array.from({ length: 200000 }, () => -110 * rnd());
    const { e } = await runExps(xs, 0);
    const ulp = (v) => Math.abs(f(v * (1 + 2 ** -23)) - v) || 2 ** -149;
    for (let i = 0; i < xs.length; i++) {
      const m = f(Math.exp(xs[i]));
      if (Math.abs(e[i] - m) > ulp(m)) assert.fail(`exp(${xs[i]}): ${e[i]}, Math.exp ${m}`);
    }
    const special = await runExps(Float32Array.of(0, -0, -3.4028234663852886e38, -Infinity, NaN), 0);
    assert.deepEqual(Array.from(special.e.subarray(0, 4)), [1, 1, 0, 0]);
    assert.ok(Number.isNaN(special.e[4]));
  });
});

describe("needle-simd.wasm attention: bit for bit Attention.attend", () => {
  // the encoder's shape (62 tokens, 8/4 heads of 64), masked keys, causal rows from a later position
  for (const [rows, keys, heads, kvHeads, hd, causal, pos0] of [[62, 62, 8, 4, 64, 0, 0], [5, 7, 4, 2, 8, 1, 0],
    [3, 10, 4, 4, 12, 1, 7], [17, 33, 2, 1, 16, 0, 0],
    // blocks of 16 keys and of 16 dimensions with the four-wide rest after them, causal
    [6, 41, 4, 2, 20, 1, 35], [4, 130, 2, 2, 36, 0, 0],
    // one query row: a decoder step's cross-attention and self-attention
    [1, 40, 8, 4, 64, 0, 0], [1, 20, 4, 2, 16, 1, 19]]) {
    test(`attend: ${rows} rows, ${keys} keys, heads ${heads}/${kvHeads} of ${hd}${causal ? ", causal" : ""}`, async () => {
      const { k, memory, alloc } = await kernels();
      const rnd = random(rows * 31 + keys);
      const stride = (keys + 3) & ~3, qd = heads * hd;
      const q = alloc(4 * rows * qd), kT = alloc(4 * kvHeads * hd * stride), v = alloc(4 * keys * kvHeads * hd);
      const valid = alloc(keys), ctx = alloc(4 * rows * qd), scores = alloc(4 * stride);
      const fill = (at, n, scale) => {
        const a = new Float32Array(memory.buffer, at, n);
        a.forEach((_, i) => { a[i] = (rnd() - 0.5) * scale; });
        return a;
      };
      const qs = fill(q, rows * qd, 3), keysT = fill(kT, kvHeads * hd * stride, 3), vs = fill(v, keys * kvHeads * hd, 1);
      const mask = new Uint8Array(memory.buffer, valid, keys);
      mask.forEach((_, i) => { mask[i] = i === 0 || rnd() < 0.85 ? 1 : 0; });
      const scale = f(1 / Math.sqrt(hd));
      k.attend(q, kT, v, valid, ctx, scores, rows, keys, stride, heads, kvHeads, hd, scale, pos0, causal);
      assert.deepEqual(bits(new Float32Array(memory.buffer, ctx, rows * qd)),
        bits(attendReference(qs, keysT, vs, mask, rows, keys, stride, heads, kvHeads, hd, scale, pos0, causal)));
    });
  }
});

describe("the engine with and without the SIMD kernels", () => {
  test("the SIMD kernels are in use by default on this host (Node has Wasm SIMD)", () => {
    const m = manifest().models[0];
    const engine = NeedleWasm.load(fs.readFileSync(nodeFixture(m.weights)), fs.readFileSync(nodeFixture(m.vocab), "utf8"));
    assert.equal(engine.simd, true);
    engine.free();
    const portable = NeedleWasm.load(fs.readFileSync(nodeFixture(m.weights)), null, { simd: false });
    assert.equal(portable.simd, false);
    portable.free();
    assert.throws(() => NeedleWasm.load(fs.readFileSync(nodeFixture(m.weights)), null, { simd: "yes" }),
      (e) => e.name === "NeedleError" && e.kind === "INPUT");
  });

  for (const m of manifest().models) {
    test(`${m.name}: the same ids, texts and scores with SIMD kernels and portable kernels`, () => {
      const weights = fs.readFileSync(nodeFixture(m.weights));
      const vocab = fs.readFileSync(nodeFixture(m.vocab), "utf8");
      const simd = NeedleWasm.load(weights, vocab, { simd: true });
      const portable = NeedleWasm.load(weights, vocab, { simd: false });
      for (const g of m.generate) {
        const ids = simd.generate(g.input_ids, { maxNewTokens: g.max_new_tokens });
        assert.deepEqual(ids, g.ids);
        assert.deepEqual(portable.generate(g.input_ids, { maxNewTokens: g.max_new_tokens }), ids);
      }
      for (const r of m.runs) {
        const a = simd.runDetailed(r.query, r.tools, { maxNewTokens: r.max_new_tokens, constrain: r.constrain });
        const b = portable.runDetailed(r.query, r.tools, { maxNewTokens: r.max_new_tokens, constrain: r.constrain });
        assert.deepEqual(a.tokens, r.tokens);
        assert.deepEqual(b.tokens, a.tokens);
        assert.equal(a.text, b.text);
      }
      for (const r of m.retrieve ?? []) {
        assert.deepEqual(simd.retrieveTools(r.query, r.descriptions, r.top_k), portable.retrieveTools(r.query, r.descriptions, r.top_k));
      }
      simd.free();
      portable.free();
    });
  }

  test("full-size model, eos ignored: exactly maxNewTokens steps, the same ids both ways", () => {
    const full = manifest().fullsize;
    const weights = fs.readFileSync(nodeFixture(full.weights));
    const vocab = realVocab();
    const ids = {};
    for (const simd of [true, false]) {
      const engine = NeedleWasm.load(weights, vocab, { simd });
      assert.equal(engine.simd, simd);
      const r = engine.runDetailed(full.query, full.tools, { maxNewTokens: 12, ignoreEos: true });
      assert.equal(r.tokens.length, 12);
      assert.equal(r.timings.decodeTokens, 12);
      ids[simd] = r.tokens;
      engine.free();
    }
    assert.deepEqual(ids.true, ids.false);
    // the first steps are the ones the JVM took without ignoring eos
    const n = Math.min(full.tokens.length, 12);
    assert.deepEqual(ids.true.slice(0, n), full.tokens.slice(0, n));
  });
});
