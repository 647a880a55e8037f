// Bad input of every kind is thrown as a NeedleError (an Error) with a clear message and a kind.
import assert from "node:assert/strict";
import fs from "node:fs";
import { before, test } from "node:test";
import init, { NeedleError, NeedleTokenizer, NeedleWasm } from "needle-java-wasm";
import { fixture, manifest, nodeFixture, realVocab } from "./helpers.mjs";

const m = manifest().models.find((x) => x.name === "tiny-drelu");
const weights = fs.readFileSync(nodeFixture(m.weights));
const vocab = fs.readFileSync(nodeFixture(m.vocab), "utf8");
let engine;

before(async () => {
  await init();
  engine = NeedleWasm.load(weights, vocab);
});

/** Asserts that `fn` throws a NeedleError of `kind` whose message matches `pattern`. */
function throwsKind(fn, kind, pattern) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, "an Error");
    assert.ok(e instanceof NeedleError, "a NeedleError: " + e);
    assert.equal(e.name, "NeedleError");
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("NeedleException["), "no bridge prefix left: " + e.message);
    assert.ok(!e.message.includes("\n"), "one line: " + e.message);
    return true;
  });
}

test("bad weight bytes: WEIGHTS errors naming the problem", () => {
  throwsKind(() => NeedleWasm.load(new Uint8Array(0), vocab), "WEIGHTS", /short|empty|header/i);
  throwsKind(() => NeedleWasm.load(new Uint8Array([1, 2, 3]), vocab), "WEIGHTS", /too short/);
  throwsKind(() => NeedleWasm.load(new TextEncoder().encode("not a safetensors file at all, really"), vocab), "WEIGHTS", /header/);
  throwsKind(() => NeedleWasm.load(weights.subarray(0, weights.length - 100), vocab), "WEIGHTS", /./);
  const random = new Uint8Array(4096);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  throwsKind(() => NeedleWasm.load(random, vocab), "WEIGHTS", /./);
});

test("a weight file without a tensor the model needs", () => {
  // rename tensors in the JSON header (same length, so the offsets stay valid): the error names
  // the missing tensor (needle-rs would use zeros for a missing norm; the engine refuses)
  for (const [name, other] of [["decoder_final_norm", "decoder_final_nurm"], ["encoder.1.self_attn.wq.scale", "encoder.1.self_attn.wq.scalx"],
    ["decoder.0.cross_attn.wo", "decoder.0.cross_attn.wx"], ["encoder.0.self_attn_gate", "encoder.0.self_attn_gatx"]]) {
    const bytes = Uint8Array.from(weights);
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    const renamed = header.replace(`"${name}"`, `"${other}"`);
    assert.ok(renamed !== header, `the header names ${name}`);
    bytes.set(new TextEncoder().encode(renamed), 8);
    throwsKind(() => NeedleWasm.load(bytes, vocab), "WEIGHTS", new RegExp(name.replaceAll(".", "\\.")));
  }
});

test("a weight file whose metadata disagrees with its tensors: refused, naming both", () => {
  // export.py writes "d_model": "32" for this model; "d_model": "64" would not fit its tensors
  const bytes = Uint8Array.from(weights);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
  const edited = header.replace('"d_model":"32"', '"d_model":"64"');
  assert.ok(edited !== header, "the header has export.py's d_model");
  bytes.set(new TextEncoder().encode(edited), 8);
  throwsKind(() => NeedleWasm.load(bytes, vocab), "CONFIG", /metadata d_model '64' contradicts tensor '[^']+' of shape \[.*\] \(d_model 32\)/);
});

test("weights of the wrong type", () => {
  throwsKind(() => NeedleWasm.load("weights.safetensors", vocab), "INPUT", /Uint8Array/);
  throwsKind(() => NeedleWasm.load(null, vocab), "INPUT", /Uint8Array/);
  throwsKind(() => NeedleWasm.load([1, 2, 3], vocab), "INPUT", /Uint8Array/);
});

test("bad vocabularies: VOCAB errors", () => {
  throwsKind(() => NeedleWasm.load(weights, "no tabs here\n"), "VOCAB", /line 1/);
  throwsKind(() => NeedleWasm.load(weights, realVocab()), "VOCAB", /8192.*512|512.*8192/);
  throwsKind(() => NeedleWasm.load(weights, ""), "VOCAB", /./);
  throwsKind(() => NeedleWasm.load(weights, new Uint8Array([0xff, 0xfe, 0x09])), "VOCAB", /UTF-8/);
  throwsKind(() => NeedleTokenizer.load("a\tb\n"), "VOCAB", /line 1/);
  throwsKind(() => NeedleTokenizer.load(null), "VOCAB", /null/);
  throwsKind(() => NeedleWasm.load(weights, 42), "INPUT", /vocab/);
});

test("bad tools JSON: JSON errors with the position", () => {
  throwsKind(() => engine.run("hi", "[{"), "JSON", /not valid JSON.*line 1 column/);
  throwsKind(() => engine.run("hi", "{\"name\": }"), "JSON", /not valid JSON/);
  throwsKind(() => engine.runDetailed("hi", "nope"), "JSON", /not valid JSON/);
  throwsKind(() => engine.runBatch([["ok", "[]"], ["bad", "[{"]]), "JSON", /batch item 1/);
  throwsKind(() => engine.run("hi", { toJSON() { return undefined; } }), "INPUT", /JSON/);
});

test("bad ids and options: INPUT errors", () => {
  throwsKind(() => engine.generate([m.config.vocab_size]), "INPUT", /out of range/);
  throwsKind(() => engine.generate([-1]), "INPUT", /out of range/);
  throwsKind(() => engine.generate([]), "INPUT", /empty/);
  throwsKind(() => engine.generate([1.5]), "INPUT", /not an integer/);
  throwsKind(() => engine.generate("5,6"), "INPUT", /array of token ids/);
  throwsKind(() => engine.generate([5], { maxNewTokens: 512 }), "INPUT", /max_new_tokens.*511/);
  throwsKind(() => engine.generate([5], { constrain: true }), "INPUT", /tools/);
  throwsKind(() => engine.detokenize([99999]), "INPUT", /out of range/);
  throwsKind(() => engine.runDetailed("hi", "[]", { maxNewTokens: -1 }), "INPUT", /max_new_tokens/);
  throwsKind(() => engine.runDetailed("hi", "[]", { maxNewTokens: "10" }), "INPUT", /maxNewTokens/);
  throwsKind(() => engine.runDetailed("hi", "[]", { constrain: "yes" }), "INPUT", /constrain/);
  throwsKind(() => engine.run(42, "[]"), "INPUT", /query/);
  throwsKind(() => engine.runStream("hi", "[]", "not a function"), "INPUT", /onToken/);
  throwsKind(() => engine.retrieveTools("hi", ["a"]), "WEIGHTS", /contrastive head/);
  throwsKind(() => engine.retrieveTools("hi", "a"), "INPUT", /descriptions/);
  throwsKind(() => engine.runBatch("x"), "INPUT", /array/);
  throwsKind(() => engine.runBatch([[1, "[]"]]), "INPUT", /batch item 0/);
});

test("the engine still works after errors", () => {
  const g = m.generate[0];
  assert.deepEqual(engine.generate(g.input_ids, { maxNewTokens: g.max_new_tokens }), g.ids);
});

test("a parity fixture with a truncated tensor region", () => {
  const p1 = fs.readFileSync(fixture("parity", "p1.safetensors"));
  throwsKind(() => NeedleWasm.load(p1.subarray(0, p1.length / 2)), "WEIGHTS", /./);
});
