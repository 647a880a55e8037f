// The full-size model (the real model's shape, about 22.3 MB, random weights) with the real
// vocabulary, in workerd, over the bundled catalogue (src/catalogue.json, no CATALOGUE variable):
// the answers equal the JVM's, and the isolate's heap (what the 128 MB limit is about) stays small.
// /dispatch is not called here: the bundled catalogue's backends are example.com URLs.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileServer, fullSizeModel, get, isolateHeap, jvmRun, post, startWorker, WORKER_DIR } from "./helpers.mjs";

const MODEL = fullSizeModel();
const MAX_NEW_TOKENS = 32;
const QUERIES = ["What's the weather in Paris?", "My order 1234 hasn't arrived, can you check it?", "Open a ticket: the app crashes on login"];

let files;
let worker;

before(async () => {
  files = await fileServer({ "needle.safetensors": MODEL.weights, "vocab.txt": MODEL.vocab });
  worker = await startWorker({
    name: "fullsize",
    vars: { WEIGHTS_URL: files.url("needle.safetensors"), VOCAB_URL: files.url("vocab.txt"), MODEL_CACHE_SECONDS: "0", MAX_NEW_TOKENS: String(MAX_NEW_TOKENS) },
  });
});

after(async () => {
  await worker?.stop();
  await files?.close();
});

test("the full-size model in workerd: answers as the JVM over the bundled catalogue; memory gained by loading it", async (t) => {
  const health = await get(worker.url + "/health");
  assert.equal(health.body.catalogue.source, "catalogue.json");
  const bundled = JSON.parse(fs.readFileSync(path.join(WORKER_DIR, "src", "catalogue.json"), "utf8"));
  assert.deepEqual(health.body.catalogue.tools.map((x) => x.name), ["get_weather", "create_ticket", "get_order_status", "talk_to_a_human"]);
  const engineTools = JSON.stringify(bundled.tools.map(({ backend: _, ...tool }) => tool));
  const expected = jvmRun(MODEL, QUERIES.map((query) => ({ query, tools: engineTools, max_new_tokens: MAX_NEW_TOKENS })));

  const heapBefore = await isolateHeap(worker);
  let started = Date.now();
  const first = await post(worker.url + "/route", { query: QUERIES[0] });
  const firstMs = Date.now() - started;
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const times = [];
  for (let i = 0; i < QUERIES.length; i++) {
    started = Date.now();
    const res = i === 0 ? first : await post(worker.url + "/route", { query: QUERIES[i] });
    if (i > 0) times.push(Date.now() - started);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.text, expected[i].text, QUERIES[i]);
    assert.deepEqual(res.body.calls, expected[i].calls, QUERIES[i]);
    assert.equal(res.body.complete, expected[i].complete, QUERIES[i]);
  }
  const heapAfter = await isolateHeap(worker);
  const loaded = (await get(worker.url + "/health")).body.model;
  assert.equal(loaded.state, "loaded");
  assert.equal(loaded.weights_bytes, fs.statSync(MODEL.weights).size);
  assert.equal(loaded.simd, true, "workerd runs the package's Wasm SIMD kernels");
  assert.equal(files.count("needle.safetensors"), 1);

  const mib = (bytes) => (bytes / 1048576).toFixed(1) + " MiB";
  const heap = (h) => `used ${mib(h.usedSize)} of ${mib(h.totalSize)}, ArrayBuffers ${mib(h.backingStorageSize)}`;
  t.diagnostic(`weights ${mib(loaded.weights_bytes)}; isolate heap before the model: ${heap(heapBefore)}; `
    + `with the model, after ${QUERIES.length} requests: ${heap(heapAfter)}`);
  t.diagnostic(`first request (download + load + run) ${firstMs} ms (download ${loaded.download_ms} ms, engine load ${loaded.load_ms} ms); `
    + `next requests ${times.join(", ")} ms (${MAX_NEW_TOKENS}-token budget; wrangler dev runs workerd with its inspector on)`);
  // Workers allow 128 MB per isolate: the model and the engine must leave room for requests
  const total = heapAfter.totalSize + heapAfter.backingStorageSize;
  assert.ok(total < 100 * 1048576, `the isolate holds ${mib(total)} with the model loaded`);
});
