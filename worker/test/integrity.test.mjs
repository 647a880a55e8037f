// The Worker's model loader checks the files' hashes, in workerd (wrangler dev on 127.0.0.1),
// against a local stand-in for Hugging Face: /resolve/NAME answers the weights with a 302 to
// /cdn/NAME carrying X-Linked-Etag (their sha256), X-Linked-Size and X-Repo-Commit, and the
// vocabulary directly with its git blob sha1 as the ETag, as the hub does. It can serve other bytes
// under the original's hash, or announce none. WEIGHTS_SHA256 / VOCAB_SHA256 pin the hashes.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import { after, before, test } from "node:test";
import { closeServer, fakeHub, gitSha1, listen, sha256 } from "../../node-support/test-helpers.mjs";
import { assertError, get, jvmRun, model, post, startWorker } from "./helpers.mjs";

const MODEL = model("tiny-drelu");
const WEIGHTS = fs.readFileSync(MODEL.weights);
const VOCAB = fs.readFileSync(MODEL.vocab);
const OTHER = Buffer.from(WEIGHTS.map((b, i) => (i === WEIGHTS.length - 3 ? b ^ 1 : b))); // one bit changed
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const TOOLS = [{ name: "get_weather", description: "Weather", parameters: { city: { type: "string", required: true } } }];

/** Per file: { bytes (served), announced (whose hash the hub announces), redirect, hash (announce one) } (see fakeHub). */
const files = {};
let hub;
let host;
const hits = [];

function reset() {
  files["needle.safetensors"] = { bytes: WEIGHTS, redirect: true, hash: true };
  files["vocab.txt"] = { bytes: VOCAB, hash: true };
  hits.length = 0;
}

before(async () => {
  reset();
  hub = http.createServer(fakeHub({ files, hits, commit: COMMIT }));
  const base = await listen(hub);
  host = new URL(base).host;
  hub.base = base;
});

after(() => closeServer(hub));

const vars = (extra) => ({
  WEIGHTS_URL: `${hub.base}/resolve/needle.safetensors`, VOCAB_URL: `${hub.base}/resolve/vocab.txt`,
  MODEL_CACHE_SECONDS: "0", LOAD_RETRY_SECONDS: "0", MAX_NEW_TOKENS: "24", CATALOGUE: [], ...extra,
});

test("the hub's hashes are checked: a tampered file fails the load naming both hashes; the right one loads, /health tells how", async (t) => {
  reset();
  files["needle.safetensors"].announced = WEIGHTS;
  files["needle.safetensors"].bytes = OTHER;
  const worker = await startWorker({ name: "integrity-hub", vars: vars() });
  t.after(() => worker.stop());
  const refused = await post(worker.url + "/route", { query: "weather in Paris", tools: TOOLS });
  assertError(refused, 503, "model_unavailable");
  assert.equal(refused.body.error.message, `the model could not be loaded: the weights downloaded from ${hub.base}`
    + `/resolve/needle.safetensors do not have the expected sha256: expected ${sha256(WEIGHTS)} (the X-Linked-Etag`
    + ` header of ${host}), got ${sha256(OTHER)}; they were discarded, not cached`);
  assert.ok(hits.includes("/cdn/needle.safetensors"), "the redirect to the CDN path was followed");
  const failed = await get(worker.url + "/health");
  assert.equal(failed.status, 503);
  assert.equal(failed.body.model.error.kind, "DOWNLOAD");

  // the hub serves the right file again: the next request loads it (LOAD_RETRY_SECONDS=0)
  reset();
  const ok = await post(worker.url + "/route", { query: "weather in Paris", tools: TOOLS });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const [expected] = jvmRun(MODEL, [{ query: "weather in Paris", tools: JSON.stringify(TOOLS), max_new_tokens: 24 }]);
  assert.equal(ok.body.text, expected.text);
  const health = (await get(worker.url + "/health")).body.model;
  assert.equal(health.state, "loaded");
  assert.deepEqual(health.integrity, {
    weights: {
      status: "hub", sha256: sha256(WEIGHTS), algorithm: "sha256", expected: sha256(WEIGHTS),
      source: `the X-Linked-Etag header of ${host}`, note: null, from_cache: false,
    },
    vocab: {
      status: "hub", sha256: sha256(VOCAB), algorithm: "git blob sha1", expected: gitSha1(VOCAB),
      source: `the ETag header of ${host}`, note: null, from_cache: false,
    },
  });
});

test("WEIGHTS_SHA256 / VOCAB_SHA256 always win: a hub without hashes is checked against them; a wrong pin fails the load", async (t) => {
  reset();
  files["needle.safetensors"].hash = false;
  files["vocab.txt"].hash = false;
  const worker = await startWorker({
    name: "integrity-pins",
    vars: vars({ WEIGHTS_SHA256: sha256(OTHER), VOCAB_SHA256: sha256(VOCAB).toUpperCase() }),
  });
  t.after(() => worker.stop());
  const refused = await post(worker.url + "/route", { query: "hi", tools: [] });
  assertError(refused, 503, "model_unavailable", new RegExp(`do not have the expected sha256: expected ${sha256(OTHER)}`
    + ` \\(WEIGHTS_SHA256\\), got ${sha256(WEIGHTS)}`));
  // the hub now serves the pinned bytes
  files["needle.safetensors"].bytes = OTHER;
  const ok = await post(worker.url + "/route", { query: "hi", tools: [] });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const integrity = (await get(worker.url + "/health")).body.model.integrity;
  assert.equal(integrity.weights.status, "pinned");
  assert.equal(integrity.weights.source, "WEIGHTS_SHA256");
  assert.equal(integrity.vocab.status, "pinned");
  assert.equal(integrity.vocab.expected, sha256(VOCAB));
});

test("without a pin or a hash the model loads and /health says it was not verified", async (t) => {
  reset();
  files["needle.safetensors"].hash = false;
  const worker = await startWorker({ name: "integrity-none", vars: vars() });
  t.after(() => worker.stop());
  assert.equal((await post(worker.url + "/route", { query: "hi", tools: [] })).status, 200);
  const integrity = (await get(worker.url + "/health")).body.model.integrity;
  assert.equal(integrity.weights.status, "not_verified");
  assert.equal(integrity.weights.note, `${host} sent no hash for it`);
  assert.equal(integrity.weights.sha256, sha256(WEIGHTS));
  assert.equal(integrity.vocab.status, "hub");
});

test("a pin that is no sha256: 500 configuration_error naming the variable", async (t) => {
  const worker = await startWorker({ name: "integrity-bad-pin", vars: vars({ VOCAB_SHA256: gitSha1(VOCAB) }) });
  t.after(() => worker.stop());
  assertError(await post(worker.url + "/route", { query: "hi" }), 500, "configuration_error",
    new RegExp(`VOCAB_SHA256 must be a sha256 \\(64 hex digits\\), got "${gitSha1(VOCAB)}"`));
});

test("MODEL_CACHE_SECONDS: a new isolate hashes the cached copy again as it reads it", async (t) => {
  reset();
  const options = { name: "integrity-cache", keepState: true, vars: vars({ MODEL_CACHE_SECONDS: "3600" }) };
  let worker = await startWorker({ ...options, keepState: false });
  assert.equal((await post(worker.url + "/route", { query: "hi", tools: [] })).status, 200);
  await worker.stop();
  hits.length = 0;
  worker = await startWorker(options); // a new workerd, the same local state (its Cache API storage)
  t.after(() => worker.stop());
  assert.equal((await post(worker.url + "/route", { query: "hi", tools: [] })).status, 200);
  assert.deepEqual(hits, [], "read from the Cache API");
  const integrity = (await get(worker.url + "/health")).body.model.integrity;
  assert.deepEqual(integrity.weights, {
    status: "hub", sha256: sha256(WEIGHTS), algorithm: "sha256", expected: sha256(WEIGHTS),
    source: `the X-Linked-Etag header of ${host}`, note: null, from_cache: true,
  });
  assert.equal(integrity.vocab.from_cache, true);
});
