// downloadModel(): fetches the weights and vocabulary (Hugging Face by default) with progress
// reports, keeping them in the Cache API where there is one (browsers, service workers) so that a
// second visit reads them from the cache instead of the network.
import { NeedleError } from "./api.js";

const REPOSITORY = "https://huggingface.co/Abdalrahman/needle-rs-safetensors/resolve/main/";
/** The INT4 Needle weights needle-rs publishes (about 22 MB). */
export const DEFAULT_WEIGHTS_URL = REPOSITORY + "needle.safetensors";
/** The vocabulary that goes with them. */
export const DEFAULT_VOCAB_URL = REPOSITORY + "vocab.txt";
/** The Cache API cache downloadModel() uses unless told otherwise. */
export const DEFAULT_CACHE_NAME = "needle-java-wasm";

/**
 * Downloads weights and vocabulary; resolves to { weights: Uint8Array, vocab: string }, ready for
 * NeedleWasm.load(weights, vocab). Options (all optional): weightsUrl, vocabUrl, onProgress(p)
 * with p = { file: "weights" | "vocab", url, loaded, total (null when unknown), fromCache, done },
 * cache (false: never read or write the cache), cacheName, caches (a CacheStorage; default
 * globalThis.caches, absent in Node), fetch (default globalThis.fetch), signal (an AbortSignal).
 */
export async function downloadModel(options = {}) {
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
  const get = (url, file) => fetchBytes({ url: String(url), file, store, fetchFn, signal, onProgress });
  const [weights, vocabBytes] = await Promise.all([get(weightsUrl, "weights"), get(vocabUrl, "vocab")]);
  let vocab;
  try {
    vocab = new TextDecoder("utf-8", { fatal: true }).decode(vocabBytes);
  } catch {
    throw new NeedleError("VOCAB", "the vocabulary downloaded from " + vocabUrl + " is not UTF-8 text");
  }
  return { weights, vocab };
}

async function fetchBytes({ url, file, store, fetchFn, signal, onProgress }) {
  const report = (loaded, total, fromCache, done) =>
    onProgress?.({ file, url, loaded, total, fromCache, done });
  if (store !== null) {
    const hit = await store.match(url).catch(() => undefined);
    if (hit) {
      const bytes = await readBody(hit, url, (loaded, total) => report(loaded, total, true, false));
      report(bytes.length, bytes.length, true, true);
      return bytes;
    }
  }
  let response;
  try {
    response = await fetchFn(url, { signal });
  } catch (e) {
    throw new NeedleError("DOWNLOAD", "could not download " + url + ": " + (e?.message ?? e), { cause: e });
  }
  if (!response.ok) {
    throw new NeedleError("DOWNLOAD", "could not download " + url + ": HTTP " + response.status
        + (response.statusText ? " " + response.statusText : ""));
  }
  const bytes = await readBody(response, url, (loaded, total) => report(loaded, total, false, false));
  report(bytes.length, bytes.length, false, true);
  if (store !== null) {
    const copy = new Response(bytes, {
      headers: { "content-type": "application/octet-stream", "content-length": String(bytes.length) },
    });
    await store.put(url, copy).catch(() => {}); // a full or unavailable cache only costs the next visit
  }
  return bytes;
}

/** The whole body as one Uint8Array, reporting progress per chunk. */
async function readBody(response, url, progress) {
  const header = Number(response.headers.get("content-length"));
  const total = Number.isSafeInteger(header) && header > 0 ? header : null;
  try {
    if (!response.body) {
      const bytes = new Uint8Array(await response.arrayBuffer());
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
