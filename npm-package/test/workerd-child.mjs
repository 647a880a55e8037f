// Run by workerd.test.mjs as
//   node --conditions=workerd --disallow-code-generation-from-strings --import ./wasm-hooks-register.mjs workerd-child.mjs
// so "needle-java-wasm" resolves to the package's workerd entry, which gets needle.wasm as a
// compiled module and must work without code generation from strings. Prints one JSON line.
import fs from "node:fs";
import init, { isInitialized, NeedleWasm } from "needle-java-wasm";
import { fixture, manifest, nodeFixture, readJson } from "./helpers.mjs";

const out = { initializedAtImport: isInitialized(), exports: Object.keys(await import("needle-java-wasm")).sort() };
try {
  new Function("return 1");
  out.codeGeneration = "allowed";
} catch (e) {
  out.codeGeneration = "blocked: " + e.message;
}
await init();
const p1 = readJson(fixture("parity", "p1.json"));
const p1Engine = NeedleWasm.load(fs.readFileSync(fixture("parity", p1.model.file)));
out.parity = p1.cases.map((c) => p1Engine.generate(c.input_ids, { maxNewTokens: c.max_new_tokens }));
const m = manifest().models.find((x) => x.name === "swiglu-contrastive");
const engine = NeedleWasm.load(fs.readFileSync(nodeFixture(m.weights)), fs.readFileSync(nodeFixture(m.vocab), "utf8"));
out.simd = engine.simd;
out.runs = m.runs.map((r) => ({
  text: engine.runDetailed(r.query, r.tools, { maxNewTokens: r.max_new_tokens, constrain: r.constrain }).text,
  expected: r.text,
}));
const pieces = [];
engine.runStream(m.runs[0].query, m.runs[0].tools, (id, piece) => pieces.push(piece), { maxNewTokens: m.runs[0].max_new_tokens });
out.streamed = pieces.join("");
out.retrieve = engine.retrieveTools(m.retrieve[0].query, m.retrieve[0].descriptions, m.retrieve[0].top_k);
try {
  engine.run("hi", "[{");
} catch (e) {
  out.error = { name: e.name, kind: e.kind, message: e.message };
}
console.log(JSON.stringify(out));
