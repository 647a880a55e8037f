// downloadModel()'s and loadModel()'s hash checks against a local stand-in for Hugging Face on 127.0.0.1 (no other
// network): /resolve/NAME answers a large file with a 302 to /cdn/NAME carrying X-Linked-Etag
// (its sha256), X-Linked-Size and X-Repo-Commit, and a small file directly with its git blob sha1
// as the ETag and X-Repo-Commit, as the hub does; the CDN may be another origin. Files can be
// tampered with (other bytes under the original's hash) or served without a hash.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import init, { downloadModel, loadModel, NeedleError, NeedleWasm } from "needle-java-wasm";
import { fakeHub, gitSha1, sha256 } from "../../node-support/test-helpers.mjs";
import { closeServer, listen, manifest, nodeFixture, PACKAGE_DIR } from "./helpers.mjs";

const m = manifest().models.find((x) => x.name === "tiny-drelu");
const WEIGHTS = fs.readFileSync(nodeFixture(m.weights));
const VOCAB = fs.readFileSync(nodeFixture(m.vocab));
const OTHER = Buffer.from(WEIGHTS.map((b, i) => (i === WEIGHTS.length - 3 ? b ^ 1 : b))); // one bit changed
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

/** Per file: { bytes (served), announced (hashed for the headers), redirect, hash (announce it), etag, cdnHeaders } (see fakeHub). */
const files = {};
let hub; // { servers, base, host, base2, host2 }: the CDN on the same origin, on another (base2)
let cdn; // another origin for the CDN paths
const hits = [];

function reset() {
  files["needle.safetensors"] = { bytes: WEIGHTS, redirect: true, hash: true };
  files["vocab.txt"] = { bytes: VOCAB, redirect: false, hash: true };
  hits.length = 0;
}

before(async () => {
  await init();
  const cdnServer = http.createServer(fakeHub({ files, hits, commit: COMMIT }));
  const cdnBase = await listen(cdnServer);
  cdn = { server: cdnServer, base: cdnBase };
  const sameOrigin = http.createServer(fakeHub({ files, hits, commit: COMMIT }));
  const otherOrigin = http.createServer(fakeHub({ files, hits, commit: COMMIT, cdnBase }));
  const base = await listen(sameOrigin);
  const base2 = await listen(otherOrigin);
  hub = { servers: [sameOrigin, otherOrigin], base, host: new URL(base).host, base2, host2: new URL(base2).host };
  reset();
});

after(async () => {
  for (const s of [...hub.servers, cdn.server]) await closeServer(s);
});

const urls = (base = hub.base) => ({ weightsUrl: `${base}/resolve/needle.safetensors`, vocabUrl: `${base}/resolve/vocab.txt` });

/** An in-memory CacheStorage (open, match, put) whose entries a test can reach. */
function memoryCaches() {
  const entries = new Map();
  const store = {
    async match(url) {
      const e = entries.get(String(url));
      return e ? new Response(e.body, { headers: e.headers }) : undefined;
    },
    async put(url, response) {
      entries.set(String(url), { body: new Uint8Array(await response.arrayBuffer()), headers: [...response.headers] });
    },
  };
  return { entries, open: async () => store };
}

test("the hub's hashes are checked: the weights' sha256 (X-Linked-Etag on the redirect), the vocabulary's git blob sha1", async () => {
  reset();
  const got = await downloadModel({ ...urls(), cache: false });
  assert.deepEqual(Buffer.from(got.weights), WEIGHTS);
  assert.deepEqual(got.integrity.weights, {
    status: "hub", sha256: sha256(WEIGHTS), algorithm: "sha256", expected: sha256(WEIGHTS),
    source: `the X-Linked-Etag header of ${hub.host}`, note: null, fromCache: false,
  });
  assert.deepEqual(got.integrity.vocab, {
    status: "hub", sha256: sha256(VOCAB), algorithm: "git blob sha1", expected: gitSha1(VOCAB),
    source: `the ETag header of ${hub.host}`, note: null, fromCache: false,
  });
  assert.ok(hits.includes("/cdn/needle.safetensors"), "the redirect was followed");
  NeedleWasm.load(got.weights, got.vocab).free();
});

test("a tampered file under the original's hash is refused, naming both hashes and the source; nothing is cached", async () => {
  reset();
  files["needle.safetensors"].announced = WEIGHTS;
  files["needle.safetensors"].bytes = OTHER;
  const caches = memoryCaches();
  await assert.rejects(downloadModel({ ...urls(), caches }), (e) => {
    assert.ok(e instanceof NeedleError);
    assert.equal(e.kind, "DOWNLOAD");
    assert.equal(e.message, `the weights downloaded from ${hub.base}/resolve/needle.safetensors do not have the expected`
      + ` sha256: expected ${sha256(WEIGHTS)} (the X-Linked-Etag header of ${hub.host}), got ${sha256(OTHER)};`
      + " they were discarded, not cached");
    return true;
  });
  assert.ok(![...caches.entries.keys()].some((k) => k.endsWith("needle.safetensors")), "not cached");

  reset();
  const changed = Buffer.from(VOCAB);
  changed[5] ^= 1;
  files["vocab.txt"].announced = VOCAB;
  files["vocab.txt"].bytes = changed;
  await assert.rejects(downloadModel({ ...urls(), cache: false }), (e) => e.kind === "DOWNLOAD"
    && e.message === `the vocabulary downloaded from ${hub.base}/resolve/vocab.txt does not have the expected git blob sha1:`
      + ` expected ${gitSha1(VOCAB)} (the ETag header of ${hub.host}), got ${gitSha1(changed)} (sha256 ${sha256(changed)});`
      + " they were discarded, not cached");
});

test("without a hash the files load and are reported not verified, saying why", async () => {
  reset();
  files["needle.safetensors"].hash = false;
  files["vocab.txt"].hash = false; // a plain ETag without X-Repo-Commit (a mirror's) is no hash
  files["vocab.txt"].etag = `"${sha256(OTHER)}"`;
  const got = await downloadModel({ ...urls(), cache: false });
  assert.deepEqual(Buffer.from(got.weights), WEIGHTS);
  for (const file of ["weights", "vocab"]) {
    assert.equal(got.integrity[file].status, "not_verified");
    assert.equal(got.integrity[file].note, `${hub.host} sent no hash for it`);
    assert.equal(got.integrity[file].expected, null);
  }
  assert.equal(got.integrity.weights.sha256, sha256(WEIGHTS));
  // the hub's mark with an ETag that is no hash
  files["vocab.txt"].hash = true;
  files["vocab.txt"].etag = 'W/"9e107d9d372bb6826bd81d3542a419d6"';
  const again = await downloadModel({ ...urls(), cache: false });
  assert.equal(again.integrity.vocab.note, `the ETag header of ${hub.host} is no sha256 or git blob sha1`
    + ` ("W/\\"9e107d9d372bb6826bd81d3542a419d6\\"")`);
});

test("only the hub's answers count: a CDN on another origin cannot vouch for what it serves", async () => {
  reset();
  const good = await downloadModel({ ...urls(hub.base2), cache: false });
  assert.equal(good.integrity.weights.status, "hub");
  assert.equal(good.integrity.weights.source, `the X-Linked-Etag header of ${hub.host2}`);
  files["needle.safetensors"].announced = WEIGHTS;
  files["needle.safetensors"].bytes = OTHER;
  files["needle.safetensors"].cdnHeaders = { "x-linked-etag": `"${sha256(OTHER)}"`, "x-repo-commit": COMMIT };
  await assert.rejects(downloadModel({ ...urls(hub.base2), cache: false }),
    (e) => e.kind === "DOWNLOAD" && e.message.includes(`expected ${sha256(WEIGHTS)} (the X-Linked-Etag header of ${hub.host2}), got ${sha256(OTHER)}`));
  // without the hub's hash, the CDN's header does not make the file verified
  files["needle.safetensors"].hash = false;
  const unverified = await downloadModel({ ...urls(hub.base2), cache: false });
  assert.equal(unverified.integrity.weights.status, "not_verified");
});

test("a pinned sha256 always wins and is always checked", async () => {
  reset();
  files["needle.safetensors"].announced = OTHER; // the hub announces another file's hash
  const pinned = await downloadModel({ ...urls(), cache: false, weightsSha256: sha256(WEIGHTS).toUpperCase() });
  assert.equal(pinned.integrity.weights.status, "pinned");
  assert.equal(pinned.integrity.weights.source, "options.weightsSha256");
  assert.equal(pinned.integrity.weights.note, `the X-Linked-Etag header of ${hub.host} announces another sha256, ${sha256(OTHER)}`);

  reset();
  await assert.rejects(downloadModel({ ...urls(), cache: false, weightsSha256: { sha256: sha256(OTHER), source: "WEIGHTS_SHA256" } }),
    (e) => e.kind === "DOWNLOAD" && e.message === `the weights downloaded from ${hub.base}/resolve/needle.safetensors do not`
      + ` have the expected sha256: expected ${sha256(OTHER)} (WEIGHTS_SHA256), got ${sha256(WEIGHTS)}; they were discarded,`
      + ` not cached; the X-Linked-Etag header of ${hub.host} announces the sha256 that arrived: is the pin for another version?`);
  files["vocab.txt"].hash = false;
  const vocabPinned = await downloadModel({ ...urls(), cache: false, vocabSha256: sha256(VOCAB) });
  assert.equal(vocabPinned.integrity.vocab.status, "pinned");
  await assert.rejects(downloadModel({ ...urls(), vocabSha256: gitSha1(VOCAB) }),
    (e) => e.kind === "INPUT" && e.message === `options.vocabSha256 must be a sha256: 64 hex digits, got "${gitSha1(VOCAB)}"`);
  await assert.rejects(downloadModel({ ...urls(), weightsSha256: 42 }), (e) => e.kind === "INPUT");
});

test("the Cache API: a copy is stored with its sha256 and hashed again when read; a changed or unpinned copy is fetched again", async () => {
  reset();
  const caches = memoryCaches();
  const options = { ...urls(), caches };
  await downloadModel(options);
  const key = `${hub.base}/resolve/needle.safetensors`;
  const entry = caches.entries.get(key);
  assert.equal(new Map(entry.headers).get("x-needle-sha256"), sha256(WEIGHTS));
  hits.length = 0;
  const second = await downloadModel(options);
  assert.equal(hits.length, 0, "read from the cache");
  assert.deepEqual({ ...second.integrity.weights }, { status: "hub", sha256: sha256(WEIGHTS), algorithm: "sha256",
    expected: sha256(WEIGHTS), source: `the X-Linked-Etag header of ${hub.host}`, note: null, fromCache: true });
  assert.equal(second.integrity.vocab.algorithm, "git blob sha1");

  // a pin the cached copy does not have: fetched again (and refused, the hub serving the same file)
  await assert.rejects(downloadModel({ ...options, weightsSha256: sha256(OTHER) }), (e) => e.kind === "DOWNLOAD");
  assert.ok(hits.includes("/resolve/needle.safetensors"));
  assert.equal(caches.entries.get(key).body.length, WEIGHTS.length, "the good copy stays");
  // pinned to what is cached: from the cache, reported as pinned
  hits.length = 0;
  const pinned = await downloadModel({ ...options, weightsSha256: sha256(WEIGHTS) });
  assert.deepEqual([pinned.integrity.weights.status, pinned.integrity.weights.fromCache, hits.length], ["pinned", true, 0]);

  // a copy changed in the cache: downloaded again, and the cache repaired
  entry.body[100] ^= 1;
  const repaired = await downloadModel(options);
  assert.deepEqual(Buffer.from(repaired.weights), WEIGHTS);
  assert.equal(repaired.integrity.weights.fromCache, false);
  assert.deepEqual(Buffer.from(caches.entries.get(key).body), WEIGHTS);
  // a copy stored without a hash (an older version): downloaded again
  caches.entries.set(key, { body: new Uint8Array(WEIGHTS), headers: [["content-type", "application/octet-stream"]] });
  hits.length = 0;
  assert.equal((await downloadModel(options)).integrity.weights.fromCache, false);
  assert.ok(hits.includes("/resolve/needle.safetensors"));
});

test("where fetch hides redirects (browsers), the weights are not verified unless pinned; a direct answer still is", async () => {
  reset();
  // what a browser's fetch gives for redirect: "manual": an opaque answer without status or headers
  const browserFetch = (url, init) => (init?.redirect === "manual" && url.includes("needle.safetensors")
    ? Promise.resolve({ type: "opaqueredirect", status: 0, ok: false, headers: new Headers(), body: null })
    : fetch(url, init));
  const got = await downloadModel({ ...urls(), cache: false, fetch: browserFetch });
  assert.equal(got.integrity.weights.status, "not_verified");
  assert.equal(got.integrity.weights.note, "the hub's redirect cannot be read here (fetch hides it)");
  assert.equal(got.integrity.vocab.status, "hub");
  const pinned = await downloadModel({ ...urls(), cache: false, fetch: browserFetch, weightsSha256: sha256(WEIGHTS) });
  assert.equal(pinned.integrity.weights.status, "pinned");
  files["needle.safetensors"].bytes = OTHER;
  await assert.rejects(downloadModel({ ...urls(), cache: false, fetch: browserFetch, weightsSha256: sha256(WEIGHTS) }),
    (e) => e.kind === "DOWNLOAD" && e.message.includes(`expected ${sha256(WEIGHTS)} (options.weightsSha256), got ${sha256(OTHER)}`));
});

test("the portable SHA-256 and SHA-1 (browsers) agree with Node's, in any chunking", async () => {
  const { createHash, gitBlobSha1 } = await import(pathToFileURL(path.join(PACKAGE_DIR, "digest.js")).href);
  const data = crypto.randomBytes(200_003);
  for (const algorithm of ["sha256", "sha1"]) {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 128, 1000, data.length]) {
      for (const step of [1, 7, 64, 4096]) {
        if (step === 1 && n > 1000) continue;
        const h = createHash(algorithm, { portable: true });
        for (let i = 0; i < n; i += step) h.update(data.subarray(i, Math.min(n, i + step)));
        assert.equal(await h.hex(), crypto.createHash(algorithm).update(data.subarray(0, n)).digest("hex"), `${algorithm} of ${n} bytes by ${step}`);
      }
    }
  }
  // git hash-object of "hello\n", a value anyone can reproduce with git
  assert.equal(await gitBlobSha1(new TextEncoder().encode("hello\n"), { portable: true }), "ce013625030ba8dba906f756967f9e9ca394464a");
  assert.equal(await gitBlobSha1(VOCAB), gitSha1(VOCAB));
});

/** The ids the model generates for the manifest's first case (to compare two loads of the weights). */
const ids = (engine) => engine.generate(m.generate[0].input_ids, { maxNewTokens: m.generate[0].max_new_tokens });

test("loadModel streams the weights into the engine with downloadModel's checks: the same model, the same records", async () => {
  reset();
  const expected = NeedleWasm.load(WEIGHTS, VOCAB);
  const progress = [];
  const got = await loadModel({ ...urls(), cache: false, onProgress: (p) => progress.push(p) });
  assert.deepEqual(ids(got.model), ids(expected));
  assert.equal(got.model.run(m.runs[0].query, m.runs[0].tools), expected.run(m.runs[0].query, m.runs[0].tools));
  assert.equal(got.weightsBytes, WEIGHTS.length);
  const reference = await downloadModel({ ...urls(), cache: false });
  assert.deepEqual(got.integrity, reference.integrity);
  const weightsProgress = progress.filter((p) => p.file === "weights");
  assert.deepEqual(weightsProgress.at(-1), { file: "weights", url: urls().weightsUrl, loaded: WEIGHTS.length, total: WEIGHTS.length, fromCache: false, done: true });
  assert.ok(progress.some((p) => p.file === "vocab" && p.done));
  got.model.free();
  expected.free();

  // a small file's git blob sha1 (no redirect), computed as the bytes stream in
  files["needle.safetensors"].redirect = false;
  const direct = await loadModel({ ...urls(), cache: false });
  assert.deepEqual(direct.integrity.weights, { status: "hub", sha256: sha256(WEIGHTS), algorithm: "git blob sha1",
    expected: gitSha1(WEIGHTS), source: `the ETag header of ${hub.host}`, note: null, fromCache: false });
  direct.model.free();
});

test("loadModel refuses tampered weights before making the engine, with downloadModel's message; the next load works", async () => {
  for (const redirect of [true, false]) {
    reset();
    files["needle.safetensors"].announced = WEIGHTS;
    files["needle.safetensors"].bytes = OTHER;
    files["needle.safetensors"].redirect = redirect;
    const caches = memoryCaches();
    await assert.rejects(loadModel({ ...urls(), caches }), (e) => {
      assert.equal(e.kind, "DOWNLOAD");
      assert.match(e.message, new RegExp(`^the weights downloaded from ${hub.base}/resolve/needle.safetensors do not have the expected`
        + ` ${redirect ? "sha256" : "git blob sha1"}: expected ${redirect ? sha256(WEIGHTS) : gitSha1(WEIGHTS)} \\(the ${redirect ? "X-Linked-Etag" : "ETag"} header`));
      return true;
    });
    assert.ok(![...caches.entries.keys()].some((k) => k.endsWith("needle.safetensors")), "not cached");
  }
  reset();
  await assert.rejects(loadModel({ ...urls(), cache: false, weightsSha256: { sha256: sha256(OTHER), source: "WEIGHTS_SHA256" } }),
    (e) => e.kind === "DOWNLOAD" && e.message.includes(`expected ${sha256(OTHER)} (WEIGHTS_SHA256), got ${sha256(WEIGHTS)}`));
  // a vocabulary that fails its check fails the load too
  const changed = Buffer.from(VOCAB);
  changed[5] ^= 1;
  files["vocab.txt"].announced = VOCAB;
  files["vocab.txt"].bytes = changed;
  await assert.rejects(loadModel({ ...urls(), cache: false }), (e) => e.kind === "DOWNLOAD" && e.message.startsWith("the vocabulary downloaded"));
  reset();
  const ok = await loadModel({ ...urls(), cache: false, weightsSha256: sha256(WEIGHTS) });
  assert.equal(ok.integrity.weights.status, "pinned");
  ok.model.free();
});

test("loadModel's options: the vocabulary given as text with vocabUrl null, no weights URL refused", async () => {
  reset();
  const got = await loadModel({ weightsUrl: urls().weightsUrl, vocabUrl: null, vocab: VOCAB.toString("utf8"), cache: false });
  assert.equal(got.integrity.vocab, null);
  assert.ok(got.model.hasVocab);
  got.model.free();
  const bare = await loadModel({ weightsUrl: urls().weightsUrl, vocabUrl: null, cache: false, simd: false });
  assert.equal(bare.model.hasVocab, false);
  assert.equal(bare.model.simd, false);
  bare.model.free();
  await assert.rejects(loadModel({ weightsUrl: null, cache: false }), (e) => e.kind === "INPUT" && /needs options.weightsUrl/.test(e.message));
  await assert.rejects(loadModel({ ...urls(), vocab: "x", cache: false }), (e) => e.kind === "INPUT" && /vocabUrl is null/.test(e.message));
});

test("loadModel and the Cache API: a download is cached from the engine's copy, read back through the stream and hashed again; a changed copy is downloaded again", async () => {
  reset();
  const caches = memoryCaches();
  const options = { ...urls(), caches };
  const first = await loadModel(options);
  const key = `${hub.base}/resolve/needle.safetensors`;
  const entry = caches.entries.get(key);
  assert.deepEqual(Buffer.from(entry.body), WEIGHTS, "the cached copy is the file (read from the linear memory before the engine changed it)");
  assert.equal(new Map(entry.headers).get("x-needle-sha256"), sha256(WEIGHTS));
  hits.length = 0;
  const second = await loadModel(options);
  assert.equal(hits.length, 0, "read from the cache");
  assert.deepEqual(second.integrity.weights, { ...first.integrity.weights, fromCache: true });
  assert.deepEqual(ids(second.model), ids(first.model));
  second.model.free();
  // downloadModel reads what loadModel cached, and the other way round
  assert.equal((await downloadModel(options)).integrity.weights.fromCache, true);

  // changed in the cache (in the data, then in the header): downloaded again, and the cache repaired
  for (const at of [WEIGHTS.length - 10, 12]) {
    caches.entries.get(key).body[at] ^= 1;
    hits.length = 0;
    const repaired = await loadModel(options);
    assert.equal(repaired.integrity.weights.fromCache, false, "byte " + at);
    assert.ok(hits.includes("/resolve/needle.safetensors"));
    assert.deepEqual(ids(repaired.model), ids(first.model));
    assert.deepEqual(Buffer.from(caches.entries.get(key).body), WEIGHTS);
    repaired.model.free();
  }
  // a pin the cached copy does not have: downloaded again and refused
  await assert.rejects(loadModel({ ...options, weightsSha256: sha256(OTHER) }), (e) => e.kind === "DOWNLOAD");
  // weights no hash verifies are cached with their sha256 (as downloadModel caches them) and read back as not verified
  files["needle.safetensors"].hash = false;
  const other = memoryCaches();
  const unverified = await loadModel({ ...options, caches: other });
  assert.equal(unverified.integrity.weights.status, "not_verified");
  assert.equal(new Map(other.entries.get(key).headers).get("x-needle-sha256"), sha256(WEIGHTS));
  const again = await loadModel({ ...options, caches: other });
  assert.deepEqual(again.integrity.weights, { ...unverified.integrity.weights, fromCache: true });
  unverified.model.free();
  again.model.free();
  first.model.free();
});
