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
  const jvm = new Map(manifest().parity.map((p) => [p.name, p]));
  test("the four parity models are there, and the JVM read each of them", () => {
    assert.deepEqual(parityModels().map((m) => m.name), ["p1", "p2", "p3", "p4"]);
    assert.deepEqual([...jvm.keys()], ["p1", "p2", "p3", "p4"]);
  });
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

    test(`${model.name}: the config the JVM engine reads, and the file's own metadata`, () => {
      const engine = NeedleWasm.load(fs.readFileSync(model.weights));
      const config = { ...engine.config };
      assert.deepEqual(config, jvm.get(model.name).config);
      // what the file's __metadata__ says (p4 has none: then everything came from the tensors)
      const meta = model.metadata;
      assert.equal(config.source, Object.keys(meta).length === 0 ? "tensors" : "metadata");
      const int = (...keys) => keys.map((k) => meta[k]).find((v) => v !== undefined);
      for (const [key, value] of [["d_model", int("d_model")], ["num_heads", int("num_heads")],
        ["num_kv_heads", int("num_kv_heads")], ["num_encoder_layers", int("num_encoder_layers")],
        ["num_decoder_layers", int("num_decoder_layers")], ["vocab_size", int("vocab_size")],
        ["max_enc_len", int("max_enc_len", "max_seq_len")], ["max_dec_len", int("max_dec_len")],
        ["ffn_dim", int("ffn_dim", "d_ff")], ["rope_theta", int("rope_theta")]]) {
        if (value !== undefined) assert.equal(config[key], Number(value), `${key} (metadata ${value})`);
      }
      if (meta.no_feedforward !== undefined) {
        assert.equal(config.no_feedforward, ["True", "true", "1"].includes(meta.no_feedforward));
      }
      if (meta.activation !== undefined) assert.equal(config.activation, meta.activation);
      // the embedding's shape gives vocab and d_model whatever the metadata says (or not)
      assert.deepEqual([config.vocab_size, config.d_model], model.embeddingShape);
      assert.equal(engine.hasContrastiveHead, model.hasContrastive);
      assert.equal(config.contrastive_dim > 0, model.hasContrastive);
      // ids are checked against the loaded model's vocabulary (not a metadata value: p4 has none)
      assert.throws(() => engine.generate([config.vocab_size]), (e) => e.kind === "INPUT" && /out of range/.test(e.message));
      assert.ok(engine.generate([config.vocab_size - 1], { maxNewTokens: 1 }).length <= 1);
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

      test(m.retrieve ? "retrieveTools: the JVM's ranking and float scores" : "retrieveTools: no contrastive head, a WEIGHTS error", () => {
        assert.equal(engine.hasContrastiveHead, m.config.contrastive_dim > 0);
        assert.equal(engine.hasContrastiveHead, m.retrieve !== undefined);
        if (!m.retrieve) {
          assert.throws(() => engine.retrieveTools("hi", ["a", "b"]), (e) => e.kind === "WEIGHTS" && /contrastive head/.test(e.message));
          return;
        }
        for (const r of m.retrieve) {
          const got = engine.retrieveTools(r.query, r.descriptions, r.top_k);
          assert.deepEqual(got.map(([i]) => i), r.results.map(([i]) => i));
          got.forEach(([, score], i) => assert.equal(Math.fround(score), Math.fround(r.results[i][1])));
        }
      });
    });
  }
});
