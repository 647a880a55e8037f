// Every case of shared/fixtures/tokenizer/cases.jsonl (reference SentencePiece) through the Wasm
// tokenizer: the tokenizer alone (NeedleTokenizer) and an engine's tokenize/detokenize.
import assert from "node:assert/strict";
import fs from "node:fs";
import { before, test } from "node:test";
import init, { NeedleTokenizer, NeedleWasm } from "needle-java-wasm";
import { fixture, realVocab } from "./helpers.mjs";

const cases = fs.readFileSync(fixture("tokenizer", "cases.jsonl"), "utf8")
  .split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
const encodes = cases.filter((c) => c.kind === "encode");
const decodes = cases.filter((c) => c.kind === "decode");

before(() => init());

test("the fixture has encode and decode cases", () => {
  assert.ok(encodes.length > 0 && decodes.length > 0);
  assert.equal(encodes.length + decodes.length, cases.length);
});

test(`NeedleTokenizer: all ${encodes.length} encode and ${decodes.length} decode cases`, () => {
  const tokenizer = NeedleTokenizer.load(realVocab());
  assert.equal(tokenizer.size, 8192);
  for (const c of encodes) assert.deepEqual(tokenizer.encode(c.text), c.ids, JSON.stringify(c.text));
  for (const c of decodes) assert.equal(tokenizer.decode(c.ids), c.text, JSON.stringify(c.ids));
});

test("NeedleWasm.tokenize/detokenize (parity model p4, vocab 8192): all cases", () => {
  const engine = NeedleWasm.load(fs.readFileSync(fixture("parity", "p4.safetensors")), realVocab());
  for (const c of encodes) assert.deepEqual(engine.tokenize(c.text), c.ids, JSON.stringify(c.text));
  for (const c of decodes) assert.equal(engine.detokenize(c.ids), c.text, JSON.stringify(c.ids));
  // typed arrays are accepted as id lists too
  for (const c of decodes.slice(0, 5)) assert.equal(engine.detokenize(Int32Array.from(c.ids)), c.text);
});

test("the vocabulary may be given as UTF-8 bytes", () => {
  const tokenizer = NeedleTokenizer.load(fs.readFileSync(fixture("tokenizer", "vocab.txt")));
  assert.deepEqual(tokenizer.encode(encodes[0].text), encodes[0].ids);
});
