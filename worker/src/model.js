// @ts-check
// The model of this isolate: downloaded at the first request that needs it and kept in memory for
// the next ones. Requests arriving while it loads wait for the same load (one download). A failed
// load is remembered for LOAD_RETRY_SECONDS (those requests fail at once with the same error), then
// the next request tries again.

import { downloadModel, NeedleError, NeedleWasm } from "needle-java-wasm";

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
  const { weights, vocab } = await modelFiles(settings, env);
  const downloadMs = Date.now() - started;
  const loaded = NeedleWasm.load(weights, vocab); // copies the bytes: ours are dropped after this
  const config = loaded.config;
  info = {
    weights_bytes: weights.length,
    download_ms: downloadMs,
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
  };
  return loaded;
}

/**
 * { weights: Uint8Array, vocab: string }. Two URLs: the package's downloadModel, which keeps the
 * files in the data center's Cache API for MODEL_CACHE_SECONDS (0: no cache). Otherwise each file
 * on its own: r2:KEY from the MODEL_BUCKET binding, a URL with a plain fetch.
 */
async function modelFiles(settings, env) {
  const { weightsUrl, vocabUrl, modelCacheSeconds } = settings;
  if (!isR2(weightsUrl) && !isR2(vocabUrl)) {
    const cache = modelCacheSeconds > 0 && typeof caches !== "undefined" && typeof caches.open === "function";
    return downloadModel({
      weightsUrl,
      vocabUrl,
      cache,
      caches: cache ? cachesKeepingFor(modelCacheSeconds) : undefined,
      cacheName: "needle-worker-model",
    });
  }
  const [weights, vocab] = await Promise.all([fileBytes(weightsUrl, env), fileBytes(vocabUrl, env)]);
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(vocab);
  } catch {
    throw new NeedleError("VOCAB", `the vocabulary from ${vocabUrl} is not UTF-8 text`);
  }
  return { weights, vocab: text };
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

async function fileBytes(source, env) {
  if (isR2(source)) {
    const key = source.slice(3);
    let object;
    try {
      object = await env.MODEL_BUCKET.get(key);
    } catch (e) {
      throw new NeedleError("DOWNLOAD", `could not read ${key} from the R2 bucket MODEL_BUCKET: ${e?.message ?? e}`);
    }
    if (object === null) {
      throw new NeedleError("DOWNLOAD", `the R2 bucket MODEL_BUCKET has no object ${key}`);
    }
    return new Uint8Array(await object.arrayBuffer());
  }
  let response;
  try {
    response = await fetch(source);
  } catch (e) {
    throw new NeedleError("DOWNLOAD", `could not download ${source}: ${e?.message ?? e}`);
  }
  if (!response.ok) {
    throw new NeedleError("DOWNLOAD", `could not download ${source}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}
