// @ts-check
// The model of this isolate: downloaded at the first request that needs it and kept in memory for
// the next ones. Requests arriving while it loads wait for the same load (one download). A failed
// load is remembered for LOAD_RETRY_SECONDS (those requests fail at once with the same error), then
// the next request tries again.
//
// Memory: the weights stream into the engine as they arrive (the package's loadModel, or
// NeedleWasm.loadStream for an R2 object): with the SIMD kernels each chunk goes straight into
// the engine's linear memory, and no array of the whole file is ever made in this isolate. The
// bodies are read with BYOB readers into one reused buffer: no array per chunk either.
//
// Integrity: each file must have the sha256 pinned by WEIGHTS_SHA256 / VOCAB_SHA256 when set;
// otherwise a URL's file is checked against the hash its hub announces (the package's loadModel
// and downloadModel: Hugging Face's X-Linked-Etag, or the git blob sha1 ETag of a small file), and
// an r2: file is not verified. The weights' hash is computed as they stream in and checked before
// the engine is made. A mismatch fails the load (503, kind DOWNLOAD); /health tells how each
// loaded file was verified.

import { downloadModel, loadModel, NeedleError, NeedleWasm } from "needle-java-wasm";

let engine = null;
let loading = null; // the promise of the load under way
let failure = null; // { error, at (Date.now()) } of the last failed load
let info = null; // what /health reports once loaded

/** The loaded engine: { engine, waitedMs } (waitedMs: how long this request waited for the load). */
export async function getEngine(settings, env, ctx) {
  if (engine !== null) {
    return { engine, waitedMs: 0 };
  }
  if (loading === null) {
    if (failure !== null && Date.now() - failure.at < settings.loadRetryMs) {
      throw failure.error;
    }
    loading = load(settings, env).then(
      (loaded) => {
        engine = loaded;
        failure = null;
        loading = null;
        return loaded;
      },
      (error) => {
        failure = { error, at: Date.now() };
        loading = null;
        throw error;
      });
    // keep the load going even if the request that started it goes away
    ctx?.waitUntil?.(loading.catch(() => {}));
  }
  const started = Date.now();
  const loaded = await loading;
  return { engine: loaded, waitedMs: Date.now() - started };
}

/** not_loaded | loading | loaded | failed, with details. */
export function modelStatus() {
  if (engine !== null) {
    return { state: "loaded", ...info };
  }
  if (loading !== null) {
    return { state: "loading" };
  }
  if (failure !== null) {
    return { state: "failed", error: { kind: failure.error?.kind ?? "INTERNAL", message: failure.error?.message } };
  }
  return { state: "not_loaded" };
}

async function load(settings, env) {
  const started = Date.now();
  const { model: loaded, integrity, weightsBytes } = await loadModelFiles(settings, env);
  const config = loaded.config;
  info = {
    weights_bytes: weightsBytes,
    // the weights stream into the engine as they arrive: the download and the load overlap
    download_ms: Date.now() - started,
    load_ms: Math.round(loaded.loadMs * 1000) / 1000,
    simd: loaded.simd, // the package's Wasm SIMD kernels (one copy of the weights, in the linear memory)
    config: {
      vocab_size: config.vocab_size,
      d_model: config.d_model,
      num_encoder_layers: config.num_encoder_layers,
      num_decoder_layers: config.num_decoder_layers,
      no_feedforward: config.no_feedforward,
      ffn_dim: config.ffn_dim,
      activation: config.activation,
      contrastive_dim: config.contrastive_dim,
      source: config.source,
    },
    integrity: { weights: integrityReport(integrity.weights), vocab: integrityReport(integrity.vocab) },
  };
  return loaded;
}

/** How a file was verified, for /health (snake_case, as the rest of it). */
function integrityReport(i) {
  return {
    status: i.status, sha256: i.sha256, algorithm: i.algorithm, expected: i.expected, source: i.source, note: i.note,
    from_cache: i.fromCache,
  };
}

/**
 * { model, integrity: { weights, vocab }, weightsBytes }: the weights streamed into the engine as
 * they arrive, never held whole outside its linear memory. URLs go through the package's loadModel
 * (the weights) and downloadModel (a vocabulary beside R2 weights), which check their hashes and
 * keep the files in the data center's Cache API for MODEL_CACHE_SECONDS (0: no cache); r2:KEY is
 * read from the MODEL_BUCKET binding, hashed as it is read.
 */
async function loadModelFiles(settings, env) {
  const { weightsUrl, vocabUrl } = settings;
  const pins = {
    weights: settings.weightsSha256 === null ? undefined : { sha256: settings.weightsSha256, source: "WEIGHTS_SHA256" },
    vocab: settings.vocabSha256 === null ? undefined : { sha256: settings.vocabSha256, source: "VOCAB_SHA256" },
  };
  // the vocabulary first when it is not a download beside the weights (it is small)
  let vocab = null;
  if (isR2(vocabUrl)) {
    const file = await r2File(vocabUrl, env, pins.vocab);
    vocab = { text: vocabText(file.bytes, vocabUrl), integrity: file.integrity };
  } else if (isR2(weightsUrl)) {
    const files = await downloadModel({ ...downloadOptions(settings), weightsUrl: null, vocabUrl, vocabSha256: pins.vocab });
    vocab = { text: files.vocab, integrity: files.integrity.vocab };
  }
  if (isR2(weightsUrl)) {
    const weights = await r2Weights(weightsUrl, env, pins.weights, present(vocab).text);
    return { model: weights.model, integrity: { weights: weights.integrity, vocab: present(vocab).integrity }, weightsBytes: weights.length };
  }
  const loaded = await loadModel({
    ...downloadOptions(settings),
    weightsUrl,
    vocabUrl: vocab === null ? vocabUrl : null,
    vocab: vocab?.text,
    weightsSha256: pins.weights,
    vocabSha256: pins.vocab,
  });
  return {
    model: loaded.model,
    integrity: { weights: loaded.integrity.weights, vocab: present(vocab?.integrity ?? loaded.integrity.vocab) },
    weightsBytes: loaded.weightsBytes,
  };
}

/** The cache options of the package's downloads (MODEL_CACHE_SECONDS; 0: none). */
function downloadOptions(settings) {
  const seconds = settings.modelCacheSeconds;
  const cache = seconds > 0 && typeof caches !== "undefined" && typeof caches.open === "function";
  return { cache, caches: cache ? cachesKeepingFor(seconds) : undefined, cacheName: "needle-worker-model" };
}

/**
 * @param {Uint8Array} bytes
 * @param {string} source
 */
function vocabText(bytes, source) {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new NeedleError("VOCAB", `the vocabulary from ${source} is not UTF-8 text`);
  }
}

/**
 * `value`, which the branches above always set (from R2 or from the download).
 * @template T
 * @param {T | null | undefined} value
 * @returns {T}
 */
function present(value) {
  if (value === null || value === undefined) {
    throw new NeedleError("INTERNAL", "a model file was neither downloaded nor read from R2");
  }
  return value;
}

const isR2 = (source) => source.startsWith("r2:");

/**
 * The Cache API with the entries downloadModel writes marked to stay `seconds` (its copies carry
 * no Cache-Control, which Cloudflare keeps for its default edge TTL and workerd locally not at all).
 */
function cachesKeepingFor(seconds) {
  return {
    async open(name) {
      const cache = await caches.open(name);
      return {
        match: (key) => cache.match(key),
        put: (key, response) => {
          const headers = new Headers(response.headers);
          headers.set("cache-control", `public, max-age=${seconds}`);
          return cache.put(key, new Response(response.body, { status: response.status, headers }));
        },
      };
    },
  };
}

/**
 * The weights from the MODEL_BUCKET binding streamed into the engine: { model, integrity, length }.
 * Their sha256 is computed as they pass (Workers' crypto.DigestStream); a pin is checked by the
 * package before the engine is made.
 */
async function r2Weights(source, env, pin, vocab) {
  const key = source.slice(3);
  const object = await r2Object(key, env);
  const digest = new crypto.DigestStream("SHA-256");
  const writer = digest.getWriter();
  let whole = false; // every byte passed (and was hashed)
  const hashed = async function* () {
    // an R2 body is a byte stream: read into one buffer handed back at every read (no array per
    // chunk), else (a stream without BYOB reads) chunk by chunk
    const byob = byobReader(object.body);
    const reader = byob ?? object.body.getReader();
    let buffer = new ArrayBuffer(byob === null ? 0 : R2_CHUNK);
    try {
      for (;;) {
        const { done, value } = await (byob === null ? reader.read() : byob.read(new Uint8Array(buffer)));
        if (done) {
          whole = true;
          return;
        }
        // hashed once the write settled (DigestStream reads the bytes where they are until then)
        await writer.write(value);
        // the package copies the chunk into the engine before it asks for the next one
        yield value;
        buffer = value.buffer;
      }
    } finally {
      if (!whole) {
        await reader.cancel().catch(() => {});
      }
    }
  };
  const sha256 = async () => {
    await writer.close();
    return [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  };
  let model;
  try {
    model = await NeedleWasm.loadStream(hashed(), vocab, { length: object.size, sha256: pin });
  } catch (e) {
    if (!(e instanceof NeedleError) || e.kind !== "DOWNLOAD") {
      throw e;
    }
    if (whole && pin !== undefined) {
      throw new NeedleError("DOWNLOAD", `${source} does not have the expected sha256: expected ${pin.sha256} (${pin.source}), got ${await sha256()}; it was not loaded`);
    }
    throw new NeedleError("DOWNLOAD", `could not read ${key} from the R2 bucket MODEL_BUCKET: ${e.message}`);
  }
  const hex = await sha256();
  const integrity = pin === undefined
    ? { status: "not_verified", sha256: hex, algorithm: null, expected: null, source: null, note: "an R2 object: nothing announces its hash", fromCache: false }
    : { status: "pinned", sha256: hex, algorithm: "sha256", expected: pin.sha256, source: pin.source, note: null, fromCache: false };
  return { model, integrity, length: object.size };
}

/** The one buffer an R2 object's weights are read into, as the package reads a fetch body. */
const R2_CHUNK = 256 * 1024;

/** A BYOB reader of `body`, or null when it is no byte stream. */
function byobReader(body) {
  try {
    return body.getReader({ mode: "byob" });
  } catch {
    return null;
  }
}

/** The object `key` of the MODEL_BUCKET binding, or a DOWNLOAD error naming what is missing. */
async function r2Object(key, env) {
  let object;
  try {
    object = await env.MODEL_BUCKET.get(key);
  } catch (e) {
    throw new NeedleError("DOWNLOAD", `could not read ${key} from the R2 bucket MODEL_BUCKET: ${e?.message ?? e}`);
  }
  if (object === null) {
    throw new NeedleError("DOWNLOAD", `the R2 bucket MODEL_BUCKET has no object ${key}`);
  }
  return object;
}

/**
 * An object of the MODEL_BUCKET binding: { bytes, integrity }, its sha256 computed as it is read
 * (Workers' crypto.DigestStream) and compared with `pin` ({ sha256, source }) when there is one.
 */
async function r2File(source, env, pin) {
  const key = source.slice(3);
  const object = await r2Object(key, env);
  const bytes = new Uint8Array(object.size);
  const digest = new crypto.DigestStream("SHA-256");
  const writer = digest.getWriter();
  const reader = object.body.getReader();
  let at = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      if (at + value.length > bytes.length) {
        throw new Error(`the object is larger than the ${bytes.length} bytes R2 announced`);
      }
      bytes.set(value, at);
      at += value.length;
      await writer.write(value);
    }
    await writer.close();
  } catch (e) {
    throw new NeedleError("DOWNLOAD", `could not read ${key} from the R2 bucket MODEL_BUCKET: ${e?.message ?? e}`);
  }
  if (at !== bytes.length) {
    throw new NeedleError("DOWNLOAD", `could not read ${key} from the R2 bucket MODEL_BUCKET: got ${at} of ${bytes.length} bytes`);
  }
  const sha256 = [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (pin === undefined) {
    return { bytes, integrity: { status: "not_verified", sha256, algorithm: null, expected: null, source: null, note: "an R2 object: nothing announces its hash", fromCache: false } };
  }
  if (pin.sha256 !== sha256) {
    throw new NeedleError("DOWNLOAD", `${source} does not have the expected sha256: expected ${pin.sha256} (${pin.source}), got ${sha256}; it was not loaded`);
  }
  return { bytes, integrity: { status: "pinned", sha256, algorithm: "sha256", expected: pin.sha256, source: pin.source, note: null, fromCache: false } };
}
