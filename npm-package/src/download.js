// downloadModel(): fetches the weights and vocabulary (Hugging Face by default) with progress
// reports, checks each file's hash while it arrives, and keeps them in the Cache API where there
// is one (browsers, service workers) so that a second visit reads them from the cache instead of
// the network.
//
// The hash: a sha256 the caller pins (weightsSha256, vocabSha256) always wins; otherwise the one
// the hub announces on its own answers (never on those of the CDN it redirects to): Hugging
// Face's X-Linked-Etag (a large file's sha256, on the redirect), or the ETag of an answer that
// carries X-Repo-Commit (a small file's git blob sha1, 40 hex digits: not a sha256). The
// redirect is followed by hand to read it; where fetch hides redirects (browsers: an opaque
// answer) the file is reported not verified unless pinned. A mismatch is an error, never cached.
import { loadStreamWith, NeedleError } from "./api.js";
import { createHash, gitBlobSha1 } from "./digest.js";

const REPOSITORY = "https://huggingface.co/Abdalrahman/needle-rs-safetensors/resolve/main/";
/** The INT4 Needle weights needle-rs publishes (about 22 MB). */
export const DEFAULT_WEIGHTS_URL = REPOSITORY + "needle.safetensors";
/** The vocabulary that goes with them. */
export const DEFAULT_VOCAB_URL = REPOSITORY + "vocab.txt";
/** The Cache API cache downloadModel() uses unless told otherwise. */
export const DEFAULT_CACHE_NAME = "needle-java-wasm";

const MAX_REDIRECTS = 10;
/** Headers of a cached copy: the sha256 of its bytes and how they were verified when downloaded. */
const SHA256_HEADER = "x-needle-sha256";
const INTEGRITY_HEADER = "x-needle-integrity";

/**
 * Downloads weights and vocabulary; resolves to { weights: Uint8Array, vocab: string, integrity },
 * ready for NeedleWasm.load(weights, vocab). Options (all optional): weightsUrl, vocabUrl (null:
 * that file is not downloaded, and is null in the result),
 * weightsSha256 and vocabSha256 (a pinned sha256, or { sha256, source } with the name messages
 * give it), onProgress(p) with p = { file: "weights" | "vocab", url, loaded, total (null when
 * unknown), fromCache, done }, cache (false: never read or write the cache), cacheName, caches (a
 * CacheStorage; default globalThis.caches, absent in Node), fetch (default globalThis.fetch),
 * signal (an AbortSignal). integrity: { weights, vocab }, each { status: "pinned" | "hub" |
 * "not_verified", sha256, algorithm, expected, source, note, fromCache }.
 */
export async function downloadModel(options = {}) {
  const { weightsUrl, vocabUrl, pins, store, fetchFn, signal, onProgress } = await settings(options);
  const get = (url, file) => url === null ? { bytes: null, integrity: null }
    : fetchBytes({ url: String(url), file, pin: pins[file], store, fetchFn, signal, onProgress });
  const [weights, vocabFile] = await Promise.all([get(weightsUrl, "weights"), get(vocabUrl, "vocab")]);
  return { weights: weights.bytes, vocab: vocabTextOf(vocabFile.bytes, vocabUrl), integrity: { weights: weights.integrity, vocab: vocabFile.integrity } };
}

/**
 * downloadModel's streaming sibling: downloads the weights (and vocabulary) with the same checks,
 * cache and options, and loads them as they arrive (NeedleWasm.loadStream), so that the whole
 * weight file is never held outside the engine's linear memory (with the SIMD kernels). Resolves
 * to { model: NeedleWasm, integrity: { weights, vocab }, weightsBytes }. The weights' hash is
 * checked once they are all in, before the engine is made: a mismatch rejects (kind DOWNLOAD) and
 * leaves nothing loaded or cached. A cached copy is streamed the same way and hashed again; one
 * whose hash is not the recorded one (or the pinned one), or that does not load, is replaced by a
 * download. Extra options: simd (as load's), vocab (the vocabulary's text or bytes when vocabUrl
 * is null). weightsUrl cannot be null. A download that passed its checks is written to the cache
 * (with its sha256, as downloadModel writes it) from the engine's copy, before the engine is made.
 */
export async function loadModel(options = {}) {
  const { weightsUrl, vocabUrl, pins, store, fetchFn, signal, onProgress } = await settings(options);
  if (weightsUrl === null) {
    throw new NeedleError("INPUT", "loadModel needs options.weightsUrl (null: nothing to load; downloadModel takes it)");
  }
  if (options.vocab !== undefined && options.vocab !== null && vocabUrl !== null) {
    throw new NeedleError("INPUT", "options.vocab is the vocabulary when vocabUrl is null: give one of them");
  }
  const loadOptions = { simd: options.simd };
  const vocabFile = vocabUrl === null ? Promise.resolve({ bytes: null, integrity: null })
    : fetchBytes({ url: String(vocabUrl), file: "vocab", pin: pins.vocab, store, fetchFn, signal, onProgress });
  const vocab = vocabFile.then((f) => vocabUrl === null ? options.vocab ?? null : vocabTextOf(f.bytes, vocabUrl));
  // their failures reject the load once the weights are in (awaited there); not unhandled before
  vocabFile.catch(() => {});
  vocab.catch(() => {});
  const weights = await streamFile({ url: String(weightsUrl), pin: pins.weights, store, fetchFn, signal, onProgress, vocab, loadOptions });
  return { model: weights.model, integrity: { weights: weights.integrity, vocab: (await vocabFile).integrity }, weightsBytes: weights.length };
}

/** The options both functions take, checked, with the cache opened. */
async function settings(options) {
  if (options === null || typeof options !== "object") {
    throw new NeedleError("INPUT", "the options must be an object");
  }
  const {
    weightsUrl = DEFAULT_WEIGHTS_URL,
    vocabUrl = DEFAULT_VOCAB_URL,
    onProgress,
    cache = true,
    cacheName = DEFAULT_CACHE_NAME,
    caches: cacheStorage = globalThis.caches,
    fetch: fetchFn = globalThis.fetch,
    signal,
  } = options;
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new NeedleError("INPUT", "onProgress must be a function");
  }
  const pins = { weights: pinOf(options.weightsSha256, "weightsSha256"), vocab: pinOf(options.vocabSha256, "vocabSha256") };
  if (typeof fetchFn !== "function") {
    throw new NeedleError("DOWNLOAD", "there is no fetch() here to download with; pass options.fetch");
  }
  let store = null;
  if (cache && cacheStorage) {
    try {
      store = await cacheStorage.open(cacheName);
    } catch {
      store = null; // no usable cache (private mode, opaque origin): download every time
    }
  }
  return { weightsUrl, vocabUrl, pins, store, fetchFn, signal, onProgress };
}

function vocabTextOf(bytes, vocabUrl) {
  if (bytes === null) {
    return null;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new NeedleError("VOCAB", "the vocabulary downloaded from " + vocabUrl + " is not UTF-8 text");
  }
}

/**
 * The weights at `url` streamed into a new engine: from the cache when it holds a copy that still
 * has its recorded hash (and the pinned one) and loads, else from the network, verified as
 * downloadModel verifies. Resolves to { model, integrity, length }.
 */
async function streamFile({ url, pin, store, fetchFn, signal, onProgress, vocab, loadOptions }) {
  const report = (fromCache) => onProgress === undefined ? undefined
    : ({ loaded, total }) => onProgress({ file: "weights", url, loaded, total, fromCache, done: false });
  const done = (length, fromCache) => onProgress?.({ file: "weights", url, loaded: length, total: length, fromCache, done: true });
  if (store !== null) {
    const hit = await store.match(url).catch(() => undefined);
    const recorded = hit?.headers.get(SHA256_HEADER) ?? null;
    if (hit && recorded === null) {
      await hit.body?.cancel().catch(() => {});
    } else if (hit) {
      let checked = false; // a copy that fails before its hash is checked is replaced by a download
      const details = {};
      try {
        const model = await loadStreamWith(hit, vocab, { ...loadOptions, onProgress: report(true) }, {
          verify: async ({ sha256 }) => {
            if (sha256 !== recorded || (pin !== null && pin.hex !== sha256)) {
              throw new NeedleError("DOWNLOAD", "the cached copy of " + url + " changed"); // (not shown: a download follows)
            }
            checked = true;
          },
        }, details);
        done(details.length, true);
        return { model, integrity: { ...cachedIntegrity(hit, pin, details.sha256), fromCache: true }, length: details.length };
      } catch (e) {
        if (checked) {
          throw e; // the bytes were the right ones: the vocabulary or the engine refused
        }
      }
    }
  }
  const { response, announced, noHash } = await fetchFromHub(url, fetchFn, signal);
  let integrity = null;
  const details = {};
  const model = await loadStreamWith(response, vocab, { ...loadOptions, onProgress: report(false) }, {
    gitBlobSha1: announced?.algorithm === "git blob sha1",
    verify: async ({ sha256, gitBlobSha1 }) => {
      integrity = await verify("weights", url, sha256, async () => gitBlobSha1, pin, announced, noHash);
    },
    store: store === null ? null : async (read, length) => {
      const { fromCache: _, ...record } = integrity;
      await store.put(url, copyResponse(read, length, integrity.sha256, record)).catch(() => {});
    },
  }, details);
  done(details.length, false);
  return { model, integrity, length: details.length };
}

/** The integrity record of a cached copy whose bytes have their recorded sha256. */
function cachedIntegrity(hit, pin, sha256) {
  if (pin !== null) {
    return { status: "pinned", sha256, algorithm: "sha256", expected: pin.hex, source: pin.source, note: null };
  }
  try {
    return { ...JSON.parse(hit.headers.get(INTEGRITY_HEADER)), sha256 };
  } catch {
    return { status: "not_verified", sha256, algorithm: null, expected: null, source: null, note: "cached without a record" };
  }
}

/** A pinned sha256 option as { hex, source }, or null; a value that is no sha256 is an INPUT error. */
function pinOf(value, name) {
  if (value === undefined || value === null) {
    return null;
  }
  const given = typeof value === "object" ? value.sha256 : value;
  const source = typeof value === "object" && typeof value.source === "string" ? value.source : "options." + name;
  const hex = typeof given === "string" ? given.trim().toLowerCase() : "";
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new NeedleError("INPUT", `${source} must be a sha256: 64 hex digits, got ${JSON.stringify(given)}`);
  }
  return { hex, source };
}

async function fetchBytes({ url, file, pin, store, fetchFn, signal, onProgress }) {
  const report = (loaded, total, fromCache, done) =>
    onProgress?.({ file, url, loaded, total, fromCache, done });
  if (store !== null) {
    const hit = await store.match(url).catch(() => undefined);
    if (hit) {
      const cached = await fromCache(hit, url, pin, (loaded, total) => report(loaded, total, true, false));
      if (cached !== null) {
        report(cached.bytes.length, cached.bytes.length, true, true);
        return cached;
      }
      // changed since it was stored, stored by a version that kept no hash, or not the pinned file
    }
  }
  const { response, announced, noHash } = await fetchFromHub(url, fetchFn, signal);
  const hash = createHash("sha256");
  const bytes = await readBody(response, url, (loaded, total) => report(loaded, total, false, false), hash);
  const sha256 = await hash.hex();
  const integrity = await verify(file, url, sha256, () => gitBlobSha1(bytes), pin, announced, noHash);
  report(bytes.length, bytes.length, false, true);
  if (store !== null) {
    const { fromCache: _, ...record } = integrity;
    const copy = new Response(bytes, {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(bytes.length),
        [SHA256_HEADER]: sha256,
        [INTEGRITY_HEADER]: JSON.stringify(record),
      },
    });
    await store.put(url, copy).catch(() => {}); // a full or unavailable cache only costs the next visit
  }
  return { bytes, integrity };
}

/**
 * What the cache keeps of a verified file: its bytes (read from where they are, a mebibyte at a
 * time, as the cache takes them), its sha256 and how it was verified.
 */
function copyResponse(read, length, sha256, record) {
  let at = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (at >= length) {
        controller.close();
        return;
      }
      const n = Math.min(1 << 20, length - at);
      controller.enqueue(read(at, n));
      at += n;
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(length),
      [SHA256_HEADER]: sha256,
      [INTEGRITY_HEADER]: JSON.stringify(record),
    },
  });
}

/**
 * A cached copy, hashed again as it is read: { bytes, integrity } when its sha256 is the one
 * recorded when it was stored (and the pin, if any), else null.
 */
async function fromCache(hit, url, pin, progress) {
  const recorded = hit.headers.get(SHA256_HEADER);
  if (recorded === null) {
    await hit.body?.cancel().catch(() => {});
    return null;
  }
  const hash = createHash("sha256");
  const bytes = await readBody(hit, url, progress, hash);
  const sha256 = await hash.hex();
  if (sha256 !== recorded || (pin !== null && pin.hex !== sha256)) {
    return null;
  }
  const integrity = cachedIntegrity(hit, pin, sha256);
  return { bytes, integrity: { ...integrity, fromCache: true } };
}

/**
 * Requests `url`, following redirects by hand so that the hub's own answers can be read: the hash
 * it announces is taken from the answers of the URL's origin, up to the first redirect elsewhere.
 * Resolves to { response (the body's), announced ({ algorithm, hex, source } or null), noHash }.
 */
async function fetchFromHub(url, fetchFn, signal) {
  let current;
  try {
    current = new URL(url);
  } catch {
    throw new NeedleError("DOWNLOAD", "could not download " + url + ": not a valid URL");
  }
  const origin = current.origin;
  const hubHost = current.host;
  let onHub = true;
  let seen = null; // { announced, noHash } once an answer of the hub carried a hash header
  for (let hop = 0; ; hop++) {
    let response;
    try {
      response = await fetchFn(current.href, { signal, redirect: "manual" });
    } catch (e) {
      throw new NeedleError("DOWNLOAD", "could not download " + url + ": " + (e?.message ?? e), { cause: e });
    }
    if (response.type === "opaqueredirect") {
      // a browser: the redirect and its headers are hidden; let fetch follow it
      try {
        response = await fetchFn(current.href, { signal });
      } catch (e) {
        throw new NeedleError("DOWNLOAD", "could not download " + url + ": " + (e?.message ?? e), { cause: e });
      }
      return finish(response, url, seen, "the hub's redirect cannot be read here (fetch hides it)");
    }
    onHub = onHub && current.origin === origin;
    if (onHub && seen === null) {
      seen = announcedBy(response, current.host);
    }
    const location = response.headers.get("location");
    if (![301, 302, 303, 307, 308].includes(response.status) || location === null) {
      return finish(response, url, seen, hubHost + " sent no hash for it");
    }
    await response.body?.cancel().catch(() => {});
    if (hop + 1 > MAX_REDIRECTS) {
      throw new NeedleError("DOWNLOAD", "could not download " + url + ": more than " + MAX_REDIRECTS + " redirects");
    }
    let next;
    try {
      next = new URL(location, current);
    } catch {
      throw new NeedleError("DOWNLOAD", "could not download " + url + ": bad redirect to " + JSON.stringify(location));
    }
    if (current.protocol === "https:" && next.protocol !== "https:") {
      throw new NeedleError("DOWNLOAD", "could not download " + url + ": refusing a redirect from https to " + next.protocol);
    }
    current = next;
  }
}

function finish(response, url, seen, noHashReason) {
  if (!response.ok) {
    throw new NeedleError("DOWNLOAD", "could not download " + url + ": HTTP " + response.status
        + (response.statusText ? " " + response.statusText : ""));
  }
  return { response, announced: seen?.announced ?? null, noHash: seen?.noHash ?? (seen === null ? noHashReason : null) };
}

/**
 * What one answer of the hub announces: X-Linked-Etag, else the ETag of an answer carrying
 * X-Repo-Commit (Hugging Face's mark; a mirror's plain ETag is no hash); null without either.
 */
function announcedBy(response, host) {
  const linked = response.headers.get("x-linked-etag");
  let header;
  let value;
  if (linked !== null && linked.trim() !== "") {
    header = "X-Linked-Etag";
    value = linked;
  } else {
    const etag = response.headers.get("etag");
    if (response.headers.get("x-repo-commit") === null || etag === null || etag.trim() === "") {
      return null;
    }
    header = "ETag";
    value = etag;
  }
  const source = `the ${header} header of ${host}`;
  // as huggingface_hub reads it: without a weak W/ prefix and the quotes
  const hex = value.trim().replace(/^W\//i, "").replace(/^"(.*)"$/, "$1").toLowerCase();
  const algorithm = /^[0-9a-f]{64}$/.test(hex) ? "sha256" : /^[0-9a-f]{40}$/.test(hex) ? "git blob sha1" : null;
  if (algorithm === null) {
    return { announced: null, noHash: `${source} is no sha256 or git blob sha1 (${JSON.stringify(value.trim())})` };
  }
  return { announced: { algorithm, hex, source }, noHash: null };
}

/**
 * The file's integrity record, or a DOWNLOAD error naming both hashes and the expected one's
 * source (gitSha1: async () => the file's git blob sha1, asked for only when the hub announces one).
 */
async function verify(file, url, sha256, gitSha1, pin, announced, noHash) {
  const what = file === "weights" ? "the weights downloaded from " + url + " do" : "the vocabulary downloaded from " + url + " does";
  const refuse = (expected, actual, more) => new NeedleError("DOWNLOAD", `${what} not have the expected ${expected.algorithm}:`
      + ` expected ${expected.hex} (${expected.source}), got ${actual}`
      + (expected.algorithm === "sha256" ? "" : ` (sha256 ${sha256})`) + "; they were discarded, not cached" + more);
  if (pin !== null) {
    const hubAgrees = announced?.algorithm === "sha256" && announced.hex === sha256;
    if (pin.hex !== sha256) {
      throw refuse({ ...pin, algorithm: "sha256" }, sha256,
        hubAgrees ? `; ${announced.source} announces the sha256 that arrived: is the pin for another version?` : "");
    }
    const note = announced?.algorithm === "sha256" && !hubAgrees ? `${announced.source} announces another sha256, ${announced.hex}` : null;
    return { status: "pinned", sha256, algorithm: "sha256", expected: pin.hex, source: pin.source, note, fromCache: false };
  }
  if (announced === null) {
    return { status: "not_verified", sha256, algorithm: null, expected: null, source: null, note: noHash, fromCache: false };
  }
  const actual = announced.algorithm === "sha256" ? sha256 : await gitSha1();
  if (actual !== announced.hex) {
    throw refuse(announced, actual, "");
  }
  return { status: "hub", sha256, algorithm: announced.algorithm, expected: announced.hex, source: announced.source, note: null, fromCache: false };
}

/** The whole body as one Uint8Array, fed to `hash` and reporting progress per chunk. */
async function readBody(response, url, progress, hash) {
  const header = Number(response.headers.get("content-length"));
  const total = Number.isSafeInteger(header) && header > 0 ? header : null;
  try {
    if (!response.body) {
      const bytes = new Uint8Array(await response.arrayBuffer());
      hash.update(bytes);
      progress(bytes.length, total ?? bytes.length);
      return bytes;
    }
    // content-length is the encoded size: with compression the body may be longer, so the
    // buffer grows when needed
    let buffer = new Uint8Array(total ?? 1 << 20);
    let loaded = 0;
    const reader = response.body.getReader();
    progress(0, total);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      if (loaded + value.length > buffer.length) {
        const bigger = new Uint8Array(Math.max(buffer.length * 2, loaded + value.length));
        bigger.set(buffer.subarray(0, loaded));
        buffer = bigger;
      }
      buffer.set(value, loaded);
      hash.update(value);
      loaded += value.length;
      progress(loaded, total === null ? null : Math.max(total, loaded));
    }
    return loaded === buffer.length ? buffer : buffer.slice(0, loaded);
  } catch (e) {
    if (e instanceof NeedleError) {
      throw e;
    }
    throw new NeedleError("DOWNLOAD", "could not download " + url + ": " + (e?.message ?? e), { cause: e });
  }
}
