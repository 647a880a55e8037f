// Configuration in workerd: a bad catalogue answers every endpoint with a 500 JSON error naming
// the problem (and no stack trace); with MODEL_CACHE_SECONDS, a new isolate reads the model from the
// Cache API instead of downloading it again; r2:KEY reads the model from an R2 bucket (hashed as
// it is read, checked against a pin).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { assertError, fileServer, get, jvmRun, model, post, startWorker, WORK, WRANGLER, wranglerEnv } from "./helpers.mjs";

const sha256 = (bytes) => crypto.createHash("sha256").update(bytes).digest("hex");

test("a catalogue naming a service binding that does not exist: 500 configuration_error everywhere", async (t) => {
  const worker = await startWorker({
    name: "bad-config",
    vars: {
      CATALOGUE: { tools: [{ name: "ping", description: "Ping", parameters: {}, backend: { service: "MISSING_SERVICE", path: "/ping" } }] },
    },
  });
  t.after(() => worker.stop());
  for (const res of [
    await get(worker.url + "/health"),
    await post(worker.url + "/route", { query: "ping" }),
    await post(worker.url + "/dispatch", { query: "ping" }),
  ]) {
    assertError(res, 500, "configuration_error", /tool "ping": there is no service binding "MISSING_SERVICE"/);
  }
  assertError(await get(worker.url + "/elsewhere"), 404, "not_found");
});

test("bad settings: 500 configuration_error naming the variable", async (t) => {
  const worker = await startWorker({ name: "bad-settings", vars: { MAX_NEW_TOKENS: "600", CATALOGUE: [] } });
  t.after(() => worker.stop());
  assertError(await post(worker.url + "/route", { query: "hi" }), 500, "configuration_error", /MAX_NEW_TOKENS must be an integer from 0 to 511, got "600"/);
});

test("MODEL_CACHE_SECONDS: a new isolate reads the model from the Cache API, not from the server", async (t) => {
  const m = model("tiny-drelu");
  const files = await fileServer({ "needle.safetensors": m.weights, "vocab.txt": m.vocab });
  t.after(() => files.close());
  const options = {
    name: "cache",
    keepState: true,
    vars: { WEIGHTS_URL: files.url("needle.safetensors"), VOCAB_URL: files.url("vocab.txt"), MODEL_CACHE_SECONDS: "3600", MAX_NEW_TOKENS: "24", CATALOGUE: [] },
  };
  const tools = [{ name: "get_weather", description: "Weather", parameters: { city: { type: "string", required: true } } }];
  let worker = await startWorker({ ...options, keepState: false });
  const first = await post(worker.url + "/route", { query: "weather in Paris", tools });
  await worker.stop();
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(files.count("needle.safetensors"), 1);

  worker = await startWorker(options); // a new workerd, the same local state (its Cache API storage)
  t.after(() => worker.stop());
  assert.equal((await get(worker.url + "/health")).body.model.state, "not_loaded");
  const second = await post(worker.url + "/route", { query: "weather in Paris", tools });
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.equal(second.body.text, first.body.text);
  assert.equal(files.count("needle.safetensors"), 1, "the second isolate did not download the weights");
  assert.equal(files.count("vocab.txt"), 1, "nor the vocabulary");
});

test("r2:KEY: the model from the R2 bucket bound as MODEL_BUCKET (local R2, filled by wrangler r2 object put)", async (t) => {
  const m = model("swiglu-contrastive");
  const state = path.join(WORK, "r2", "state");
  fs.rmSync(path.join(WORK, "r2"), { recursive: true, force: true });
  for (const [key, file] of [["models/needle.safetensors", m.weights], ["models/vocab.txt", m.vocab]]) {
    await promisify(execFile)(process.execPath, [WRANGLER, "r2", "object", "put", "needle-model/" + key, "--file", file, "--local", "--persist-to", state],
      { cwd: WORK, env: wranglerEnv(), timeout: 120_000 }).catch((e) => assert.fail("wrangler r2 object put failed:\n" + e.stdout + e.stderr));
  }
  const worker = await startWorker({
    name: "r2",
    keepState: true,
    vars: {
      WEIGHTS_URL: "r2:models/needle.safetensors", VOCAB_URL: "r2:models/vocab.txt", MAX_NEW_TOKENS: "40", CATALOGUE: [],
      VOCAB_SHA256: sha256(fs.readFileSync(m.vocab)), // R2 announces no hash: only a pin verifies an object
    },
    config: { r2_buckets: [{ binding: "MODEL_BUCKET", bucket_name: "needle-model" }] },
  });
  t.after(() => worker.stop());
  const tools = [{ name: "set_alarm", description: "Set an alarm", parameters: { time: { type: "string", enum: ["07:00", "08:30"], required: true } } }];
  const queries = ["Wake me up at 7", "What's the weather?"];
  const expected = jvmRun(m, queries.map((query) => ({ query, tools: JSON.stringify(tools), max_new_tokens: 40 })));
  for (let i = 0; i < queries.length; i++) {
    const res = await post(worker.url + "/route", { query: queries[i], tools });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.text, expected[i].text);
  }
  const health = (await get(worker.url + "/health")).body.model;
  assert.equal(health.state, "loaded");
  assert.equal(health.weights, "r2:models/needle.safetensors");
  assert.equal(health.weights_bytes, fs.statSync(m.weights).size);
  assert.deepEqual(health.integrity.weights, {
    status: "not_verified", sha256: sha256(fs.readFileSync(m.weights)), algorithm: null, expected: null, source: null,
    note: "an R2 object: nothing announces its hash", from_cache: false,
  });
  assert.equal(health.integrity.vocab.status, "pinned");
  assert.equal(health.integrity.vocab.source, "VOCAB_SHA256");
});

test("API_TOKEN: /route and /dispatch want the bearer token (401 JSON otherwise); /health stays open", async (t) => {
  const m = model("tiny-drelu");
  const files = await fileServer({ "needle.safetensors": m.weights, "vocab.txt": m.vocab });
  t.after(() => files.close());
  const token = "tok-" + "9f86d081884c7d65";
  const worker = await startWorker({
    name: "token",
    vars: { API_TOKEN: token, WEIGHTS_URL: files.url("needle.safetensors"), VOCAB_URL: files.url("vocab.txt"), MODEL_CACHE_SECONDS: "0", MAX_NEW_TOKENS: "16", CATALOGUE: [] },
  });
  t.after(() => worker.stop());
  for (const [endpoint, headers] of [["/route", {}], ["/dispatch", { authorization: "Bearer wrong" }], ["/route", { authorization: token }]]) {
    const res = await post(worker.url + endpoint, { query: "hi" }, { headers });
    assertError(res, 401, "unauthorized", /Authorization: Bearer/);
    assert.equal(res.headers.get("www-authenticate"), "Bearer");
  }
  assert.equal(files.count("needle.safetensors"), 0, "refused before the model is needed");
  assert.equal((await get(worker.url + "/health")).status, 200);
  const ok = await post(worker.url + "/route", { query: "hi", tools: [] }, { headers: { authorization: "Bearer " + token } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.text, "[]", "no tools: no calls");
});
