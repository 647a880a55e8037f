// downloadModel() against a local HTTP server on 127.0.0.1 only (no other network): progress
// reports, the Cache API (a small in-memory CacheStorage stands in for the browser's), errors.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import { after, before, test } from "node:test";
import init, { DEFAULT_CACHE_NAME, DEFAULT_VOCAB_URL, DEFAULT_WEIGHTS_URL, downloadModel, NeedleError, NeedleWasm } from "needle-java-wasm";
import { closeServer, freePort, listen, manifest, nodeFixture } from "./helpers.mjs";

const m = manifest().models.find((x) => x.name === "tiny-drelu");
const weights = fs.readFileSync(nodeFixture(m.weights));
const vocab = fs.readFileSync(nodeFixture(m.vocab));
let server;
let base;
const hits = [];

before(async () => {
  await init();
  server = http.createServer((req, res) => {
    hits.push(req.url);
    const body = req.url.startsWith("/w/") ? weights : req.url.startsWith("/v/") ? vocab : null;
    if (body === null) {
      res.writeHead(404, "Not Found").end("no such file");
      return;
    }
    if (req.url.includes("chunked")) {
      // no content-length: sent in pieces
      res.writeHead(200, { "content-type": "application/octet-stream" });
      for (let i = 0; i < body.length; i += 16384) res.write(body.subarray(i, i + 16384));
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
    res.end(body);
  });
  base = await listen(server);
});

after(() => closeServer(server));

/** An in-memory CacheStorage with the methods downloadModel uses (open, match, put). */
function memoryCaches() {
  const stores = new Map();
  return {
    stores,
    async open(name) {
      if (!stores.has(name)) {
        const entries = new Map();
        stores.set(name, {
          entries,
          async match(url) {
            const e = entries.get(String(url));
            return e ? new Response(e.body, { headers: e.headers }) : undefined;
          },
          async put(url, response) {
            entries.set(String(url), { body: new Uint8Array(await response.arrayBuffer()), headers: [...response.headers] });
          },
        });
      }
      return stores.get(name);
    },
  };
}

test("the defaults point at the Hugging Face repository", () => {
  assert.equal(DEFAULT_WEIGHTS_URL, "https://huggingface.co/Abdalrahman/needle-rs-safetensors/resolve/main/needle.safetensors");
  assert.equal(DEFAULT_VOCAB_URL, "https://huggingface.co/Abdalrahman/needle-rs-safetensors/resolve/main/vocab.txt");
  assert.equal(typeof DEFAULT_CACHE_NAME, "string");
});

test("downloads weights and vocab with progress, and the result loads", async () => {
  const reports = [];
  const got = await downloadModel({
    weightsUrl: `${base}/w/model.safetensors`, vocabUrl: `${base}/v/vocab.txt`, onProgress: (p) => reports.push(p),
  });
  assert.ok(got.weights instanceof Uint8Array);
  assert.deepEqual(Buffer.from(got.weights), weights);
  assert.equal(got.vocab, vocab.toString("utf8"));
  const w = reports.filter((p) => p.file === "weights");
  assert.ok(w.length >= 2, "several weight progress reports");
  assert.equal(w.at(-1).done, true);
  assert.equal(w.at(-1).loaded, weights.length);
  assert.ok(w.every((p) => p.total === weights.length && p.fromCache === false && p.url.endsWith("/w/model.safetensors")));
  for (let i = 1; i < w.length; i++) assert.ok(w[i].loaded >= w[i - 1].loaded);
  assert.equal(reports.filter((p) => p.file === "vocab").at(-1).loaded, vocab.length);
  const engine = NeedleWasm.load(got.weights, got.vocab);
  assert.deepEqual(engine.generate(m.generate[0].input_ids, { maxNewTokens: m.generate[0].max_new_tokens }), m.generate[0].ids);
});

test("without content-length: total is null until done", async () => {
  const reports = [];
  const got = await downloadModel({
    weightsUrl: `${base}/w/chunked`, vocabUrl: `${base}/v/chunked`, onProgress: (p) => reports.push(p), cache: false,
  });
  assert.deepEqual(Buffer.from(got.weights), weights);
  const w = reports.filter((p) => p.file === "weights");
  assert.equal(w[0].total, null);
  assert.equal(w.at(-1).total, weights.length);
});

test("with a Cache API: the second download reads the cache, not the network", async () => {
  const caches = memoryCaches();
  const options = { weightsUrl: `${base}/w/cached.safetensors`, vocabUrl: `${base}/v/cached.txt`, caches };
  hits.length = 0;
  const first = await downloadModel(options);
  assert.equal(hits.length, 2);
  assert.equal(caches.stores.get(DEFAULT_CACHE_NAME).entries.size, 2);
  const reports = [];
  const second = await downloadModel({ ...options, onProgress: (p) => reports.push(p) });
  assert.equal(hits.length, 2, "no new requests");
  assert.deepEqual(second.weights, first.weights);
  assert.equal(second.vocab, first.vocab);
  assert.ok(reports.length > 0 && reports.every((p) => p.fromCache));
  // cache: false goes to the network again; another cacheName is another cache
  await downloadModel({ ...options, cache: false });
  assert.equal(hits.length, 4);
  await downloadModel({ ...options, cacheName: "other" });
  assert.equal(hits.length, 6);
});

test("a cache that fails is only a cache miss", async () => {
  const broken = { open: async () => { throw new Error("SecurityError"); } };
  const got = await downloadModel({ weightsUrl: `${base}/w/x`, vocabUrl: `${base}/v/x`, caches: broken });
  assert.equal(got.weights.length, weights.length);
});

test("a URL of null skips that file; a server that announces no hash gives files reported not verified", async () => {
  hits.length = 0;
  const got = await downloadModel({ weightsUrl: null, vocabUrl: `${base}/v/only.txt`, cache: false });
  assert.equal(got.weights, null);
  assert.equal(got.vocab, vocab.toString("utf8"));
  assert.equal(got.integrity.weights, null);
  assert.equal(got.integrity.vocab.status, "not_verified");
  assert.equal(got.integrity.vocab.note, `${new URL(base).host} sent no hash for it`);
  assert.deepEqual(hits, ["/v/only.txt"]);
});

test("HTTP errors and unreachable servers are DOWNLOAD errors naming the URL", async () => {
  await assert.rejects(downloadModel({ weightsUrl: `${base}/missing`, vocabUrl: `${base}/v/x`, cache: false }),
    (e) => e instanceof NeedleError && e.kind === "DOWNLOAD" && /\/missing: HTTP 404/.test(e.message));
  const port = await freePort(); // nothing listens there
  await assert.rejects(downloadModel({ weightsUrl: `http://127.0.0.1:${port}/w`, vocabUrl: `${base}/v/x`, cache: false }),
    (e) => e instanceof NeedleError && e.kind === "DOWNLOAD" && e.message.includes(`127.0.0.1:${port}/w`));
});
