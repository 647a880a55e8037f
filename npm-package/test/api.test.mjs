// The API around run: streaming, batches, tools given as objects, options, config, free().
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { before, test } from "node:test";
import init, { isInitialized, NeedleError, NeedleWasm } from "needle-java-wasm";
import { manifest, nodeFixture, PACKAGE_DIR } from "./helpers.mjs";

const m = manifest().models.find((x) => x.name === "swiglu-contrastive");
const weights = () => fs.readFileSync(nodeFixture(m.weights));
const vocab = () => fs.readFileSync(nodeFixture(m.vocab), "utf8");
const constrained = m.runs.filter((r) => r.constrain);
let engine;

before(async () => {
  assert.equal(isInitialized(), false);
  await init();
  await init(); // idempotent
  assert.equal(isInitialized(), true);
  engine = NeedleWasm.load(weights(), vocab());
});

test("run() is runDetailed() with the defaults (constrained, 511 tokens)", () => {
  const r = constrained[0];
  const detailed = engine.runDetailed(r.query, r.tools);
  assert.equal(engine.run(r.query, r.tools), detailed.text);
  assert.equal(typeof detailed.complete, "boolean");
  for (const k of ["loadMs", "encodeMs", "decodeMs", "prefillTokens", "decodeTokens"]) {
    assert.equal(typeof detailed.timings[k], "number", k);
  }
  assert.ok(detailed.timings.decodeTokens >= detailed.tokens.length);
  assert.ok(detailed.timings.prefillTokens > 0);
});

test("tools may be given as objects instead of JSON text", () => {
  for (const r of m.runs) {
    const opts = { maxNewTokens: r.max_new_tokens, constrain: r.constrain };
    assert.equal(engine.runDetailed(r.query, JSON.parse(r.tools), opts).text, r.text);
  }
});

test("runStream: pieces arrive per token and make the JVM's text; returns the text", () => {
  for (const r of m.runs) {
    const seen = [];
    let tail = null;
    const text = engine.runStream(r.query, r.tools, (id, piece) => seen.push([id, piece]),
      { maxNewTokens: r.max_new_tokens, constrain: r.constrain, onFinish: (t) => { tail = t; } });
    assert.equal(text, r.text);
    assert.deepEqual(seen.map(([id]) => id), r.tokens);
    assert.equal(seen.map(([, piece]) => piece).join("") + tail, r.text);
  }
});

test("runStream: an error thrown by onToken stops the run and reaches the caller unchanged", () => {
  const mine = new TypeError("stop here");
  let calls = 0;
  assert.throws(() => engine.runStream(constrained[0].query, constrained[0].tools, () => {
    calls++;
    throw mine;
  }), (e) => e === mine);
  assert.equal(calls, 1);
  // the engine is still usable
  assert.equal(engine.runDetailed(constrained[0].query, constrained[0].tools, { maxNewTokens: constrained[0].max_new_tokens }).text,
    constrained[0].text);
});

test("runStream: onToken cannot call into the same engine (STATE error), another engine is fine", () => {
  const r = constrained[0];
  const other = NeedleWasm.load(weights(), vocab());
  let inner = null;
  let otherIds = null;
  engine.runStream(r.query, r.tools, () => {
    if (inner === null) {
      try {
        engine.tokenize("x");
        inner = "no error";
      } catch (e) {
        inner = e;
      }
      otherIds = other.tokenize("hello");
    }
  }, { maxNewTokens: 3 });
  assert.ok(inner instanceof NeedleError && inner.kind === "STATE", String(inner));
  assert.deepEqual(otherIds, engine.tokenize("hello"));
});

test("runBatch: pairs or objects, results as one run each", () => {
  const pairs = m.runs.filter((r) => r.constrain).map((r, i) => (i % 2 ? [r.query, r.tools] : { query: r.query, tools: JSON.parse(r.tools) }));
  const results = engine.runBatch(pairs, { maxNewTokens: 40 });
  assert.equal(results.length, pairs.length);
  results.forEach((res, i) => assert.equal(res.text, constrained[i].text));
  assert.deepEqual(engine.runBatch([]), []);
});

test("retrieveTools: default topK 5, topK 0, scores sorted", () => {
  const descriptions = m.retrieve[0].descriptions;
  const all = engine.retrieveTools("weather", descriptions);
  assert.equal(all.length, Math.min(5, descriptions.length));
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1][1] >= all[i][1]);
  assert.deepEqual(engine.retrieveTools("weather", descriptions, 0), []);
  assert.deepEqual(engine.retrieveTools("weather", []), []);
});

test("generate: constrained by tools, or plain", () => {
  const r = constrained[0];
  const input = engine.prompt(r.query, r.tools);
  assert.deepEqual(engine.generate(input, { tools: r.tools, maxNewTokens: r.max_new_tokens }), r.tokens);
  assert.deepEqual(engine.generate(Int32Array.from(input), { tools: JSON.parse(r.tools), maxNewTokens: r.max_new_tokens }), r.tokens);
  const plain = engine.generate(input, { maxNewTokens: 5 });
  assert.deepEqual(engine.generate(input, { tools: r.tools, constrain: false, maxNewTokens: 5 }), plain);
  assert.deepEqual(engine.generate(input, { maxNewTokens: 0 }), []);
});

test("config, loadMs, hasVocab, hasContrastiveHead", () => {
  assert.deepEqual({ ...engine.config }, m.config);
  assert.ok(Object.isFrozen(engine.config));
  assert.ok(engine.loadMs >= 0);
  assert.equal(engine.hasVocab, true);
  assert.equal(engine.hasContrastiveHead, true);
  const noVocab = NeedleWasm.load(weights());
  assert.equal(noVocab.hasVocab, false);
  assert.deepEqual(noVocab.generate(m.generate[0].input_ids, { maxNewTokens: m.generate[0].max_new_tokens }), m.generate[0].ids);
  assert.throws(() => noVocab.run("hi", "[]"), (e) => e instanceof NeedleError && e.kind === "VOCAB");
});

test("free(): later calls throw a STATE error; free() twice is harmless", () => {
  const e = NeedleWasm.load(weights(), vocab());
  e.free();
  e.free();
  for (const call of [() => e.run("hi", "[]"), () => e.tokenize("hi"), () => e.config, () => e.generate([5])]) {
    assert.throws(call, (err) => err instanceof NeedleError && err.kind === "STATE" && /freed/.test(err.message));
  }
});

test("NeedleWasm cannot be constructed directly", () => {
  assert.throws(() => new NeedleWasm(), TypeError);
});

test("weights as ArrayBuffer, Int8Array or a Uint8Array view into a larger buffer", () => {
  const bytes = weights();
  const padded = new Uint8Array(bytes.length + 16);
  padded.set(bytes, 8);
  const g = m.generate[1];
  for (const w of [bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length), padded.subarray(8, 8 + bytes.length)]) {
    assert.deepEqual(NeedleWasm.load(w).generate(g.input_ids, { maxNewTokens: g.max_new_tokens }), g.ids);
  }
});

test("index.d.ts declares exactly the module's exports", async () => {
  const mod = await import("needle-java-wasm");
  const dts = fs.readFileSync(path.join(PACKAGE_DIR, "index.d.ts"), "utf8");
  const declared = [...dts.matchAll(/^export (?:default )?(?:function|class|const) (\w+)/gm)].map((x) => x[1]);
  const actual = Object.keys(mod).map((k) => (k === "default" ? "init" : k));
  assert.deepEqual(actual.sort(), declared.sort());
  assert.equal(mod.default, init);
});

test("requireCall: [] is refused while a tool can be called; an answer with calls is unchanged", () => {
  let forced = 0;
  let unchanged = 0;
  for (const model of manifest().models) {
    const e = NeedleWasm.load(fs.readFileSync(nodeFixture(model.weights)), fs.readFileSync(nodeFixture(model.vocab), "utf8"));
    try {
      for (const r of model.runs.filter((x) => x.constrain)) {
        const free = e.runDetailed(r.query, r.tools, { maxNewTokens: r.max_new_tokens });
        const required = e.runDetailed(r.query, r.tools, { maxNewTokens: r.max_new_tokens, requireCall: true });
        const pieces = [];
        const streamed = e.runStream(r.query, r.tools, (id, piece) => pieces.push(piece), {
          maxNewTokens: r.max_new_tokens, requireCall: true });
        assert.equal(streamed, required.text, "runStream honours requireCall as runDetailed does");
        const callable = JSON.parse(r.tools).length > 0;
        if (free.text !== "[]" && free.complete) {
          assert.equal(required.text, free.text, "masking [] never changes an answer with calls");
          unchanged++;
        } else if (free.text === "[]" && callable) {
          assert.notEqual(required.text, "[]", r.query);
          if (required.complete) {
            assert.ok(JSON.parse(required.text).length >= 1, required.text);
          }
          forced++;
        }
      }
    } finally {
      e.free();
    }
  }
  assert.ok(forced >= 1 && unchanged >= 1, `forced ${forced}, unchanged ${unchanged}`);
  assert.throws(() => engine.runDetailed("x", "[]", { requireCall: "yes" }), (err) => err instanceof NeedleError && err.kind === "INPUT");
});
