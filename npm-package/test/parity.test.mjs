// Parity: the Wasm engine, used through the public import, gives the token ids of the shared
// parity fixtures (float64 reference, tie rule) and exactly the JVM engine's answers on generated
// models (raw generation, constrained and unconstrained runs, prompts, retrieval).
import assert from "node:assert/strict";
import fs from "node:fs";
import { before, describe, test } from "node:test";
import init, { NeedleWasm } from "needle-java-wasm";
import { manifest, nodeFixture, parityMismatch, parityModels } from "./helpers.mjs";

before(() => init());

describe("shared parity fixtures", () => {
  for (const model of parityModels()) {
    test(`${model.name}: every case matches expected_ids under the tie rule`, () => {
      const engine = NeedleWasm.load(fs.readFileSync(model.weights));
      assert.ok(model.cases.length > 0);
      for (const c of model.cases) {
        const ids = engine.generate(c.input_ids, { maxNewTokens: c.max_new_tokens });
        const problem = parityMismatch(c, model.tieEps, ids);
        assert.equal(problem, null, `${model.name} case ${c.id}: ${problem}`);
      }
      engine.free();
    });
  }
});

describe("generated models: identical to the JVM engine", () => {
  for (const m of manifest().models) {
    describe(m.name, () => {
      let engine;
      before(() => {
        engine = NeedleWasm.load(fs.readFileSync(nodeFixture(m.weights)), fs.readFileSync(nodeFixture(m.vocab), "utf8"));
      });

      test("config", () => {
        assert.deepEqual({ ...engine.config }, m.config);
      });

      test("generate: raw ids in, the JVM's greedy ids out", () => {
        for (const g of m.generate) {
          assert.deepEqual(engine.generate(g.input_ids, { maxNewTokens: g.max_new_tokens }), g.ids,
            `input of ${g.input_ids.length} ids`);
        }
      });

      test("prompt: the JVM's encoder input ids", () => {
        for (const p of m.prompts) {
          assert.deepEqual(engine.prompt(p.query, p.tools), p.ids, JSON.stringify(p.query));
        }
      });

      test("run: the JVM's text, token ids and completeness, constrained and not", () => {
        assert.ok(m.runs.some((r) => r.constrain) && m.runs.some((r) => !r.constrain));
        for (const r of m.runs) {
          const out = engine.runDetailed(r.query, r.tools, { maxNewTokens: r.max_new_tokens, constrain: r.constrain });
          const label = `${JSON.stringify(r.query)} constrain=${r.constrain}`;
          assert.deepEqual(out.tokens, r.tokens, label);
          assert.equal(out.text, r.text, label);
          assert.equal(out.complete, r.complete, label);
          if (r.constrain) {
            // the constrained grammar always yields (a prefix of) a JSON array of calls
            assert.ok(out.text.startsWith("["), label);
            if (out.complete) assert.deepEqual(out.calls, JSON.parse(out.text), label);
          }
        }
      });

      test("retrieveTools: the JVM's ranking and float scores", { skip: !m.retrieve && "no contrastive head" }, () => {
        for (const r of m.retrieve) {
          const got = engine.retrieveTools(r.query, r.descriptions, r.top_k);
          assert.deepEqual(got.map(([i]) => i), r.results.map(([i]) => i));
          got.forEach(([, score], i) => assert.equal(Math.fround(score), Math.fround(r.results[i][1])));
        }
      });
    });
  }
});
