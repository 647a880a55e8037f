// Configuration in workerd: a bad catalogue answers every endpoint with a 500 JSON error naming
// the problem (and no stack trace); with MODEL_CACHE on, a new isolate reads the model from the
// Cache API instead of downloading it again.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertError, fileServer, get, model, post, startWorker } from "./helpers.mjs";

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

test("MODEL_CACHE: a new isolate reads the model from the Cache API, not from the server", async (t) => {
  const m = model("tiny-drelu");
  const files = await fileServer({ "needle.safetensors": m.weights, "vocab.txt": m.vocab });
  t.after(() => files.close());
  const options = {
    name: "cache",
    keepState: true,
    vars: { WEIGHTS_URL: files.url("needle.safetensors"), VOCAB_URL: files.url("vocab.txt"), MODEL_CACHE: "true", MAX_NEW_TOKENS: "24", CATALOGUE: [] },
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
