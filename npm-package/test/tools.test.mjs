// normalizeTools(): the engine's reading of a tool list without a model (the web demo's editor and
// the Worker's catalogue use it), answered as the JVM answers (wasm-bridge's ToolReport on the
// JVM wrote tool_reports into the manifest); and the position of a JSON error as fields.
import assert from "node:assert/strict";
import fs from "node:fs";
import { before, test } from "node:test";
import init, { NeedleError, NeedleWasm, normalizeTools } from "needle-java-wasm";
import { manifest, nodeFixture } from "./helpers.mjs";

const reports = manifest().tool_reports;

before(() => init());

test("normalizeTools answers as the JVM for every tool list: sound ones in every form, and each problem", () => {
  assert.ok(reports.length > 25 && reports.some((r) => r.report.problems.length === 0)
    && reports.some((r) => !r.report.json), "the manifest's tool lists");
  for (const { tools, report } of reports) {
    assert.deepEqual(normalizeTools(tools), report, tools);
  }
});

test("tools given as values are read as their JSON text", () => {
  // (a string is the text itself)
  for (const { tools, report } of reports.filter((r) => r.report.json && typeof JSON.parse(r.tools) !== "string")) {
    const fromValue = normalizeTools(JSON.parse(tools));
    assert.deepEqual(fromValue.problems, report.problems, tools);
    assert.deepEqual(fromValue.tools.map((t) => [t.index, t.name, t.original, t.form, t.parameters]),
      report.tools.map((t) => [t.index, t.name, t.original, t.form, t.parameters]), tools);
    assert.deepEqual(fromValue.renamed, report.renamed, tools);
  }
  assert.deepEqual(normalizeTools(undefined), normalizeTools("[]"));
});

test("the text normalizeTools gives is what the engine feeds the model", () => {
  const m = manifest().models.find((x) => x.name === "tiny-drelu");
  const engine = NeedleWasm.load(fs.readFileSync(nodeFixture(m.weights)), fs.readFileSync(nodeFixture(m.vocab), "utf8"));
  for (const { tools, report } of reports.filter((r) => r.report.json && r.report.problems.length === 0)) {
    const query = "What's the weather in Paris?";
    const prompt = engine.prompt(query, tools);
    const ownIds = [...engine.tokenize(query), 5, ...engine.tokenize(report.text)].slice(0, prompt.length);
    assert.deepEqual(prompt, ownIds, tools);
  }
  engine.free();
});

test("a JSON error of a run has its line and column as fields, where normalizeTools reports them", () => {
  const m = manifest().models.find((x) => x.name === "tiny-drelu");
  const engine = NeedleWasm.load(fs.readFileSync(nodeFixture(m.weights)), fs.readFileSync(nodeFixture(m.vocab), "utf8"));
  const notJson = reports.filter((r) => !r.report.json && r.tools !== "");
  assert.ok(notJson.length > 0);
  for (const { tools, report } of notJson) {
    const [problem] = report.problems;
    assert.throws(() => engine.run("hi", tools), (e) => {
      assert.ok(e instanceof NeedleError);
      assert.equal(e.kind, "JSON");
      assert.equal(e.line, problem.line, e.message);
      assert.equal(e.column, problem.column, e.message);
      assert.ok(e.message.endsWith(` at line ${e.line} column ${e.column}`), e.message);
      return true;
    });
  }
  // other errors have no position
  assert.throws(() => NeedleWasm.load(new Uint8Array(3)), (e) => e.kind === "WEIGHTS" && !("line" in e) && !("column" in e));
  engine.free();
});
