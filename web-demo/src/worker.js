// The demo's Web Worker: owns the needle-java-wasm engine, so that its synchronous calls (a run
// takes from milliseconds to seconds) never block the page. It speaks with app.js by messages:
//
//   page → worker                                   worker → page
//   {type: "load", weightsUrl, vocabUrl}            {type: "progress", file, loaded, total, fromCache, done}
//                                                   {type: "loaded", config, hasContrastiveHead, …}
//   {type: "run", id, query, tools, maxNewTokens,   {type: "token", id, tokenId, piece} for each token,
//    constrain}                                     then {type: "result", id, text, calls, complete, …}
//   {type: "retrieve", id, query, descriptions}     {type: "retrieval", id, ranking: [[index, score], …]}
//   {type: "cacheInfo"} / {type: "clearCache"}      {type: "cache", files, bytes, cleared}
//   any failure                                     {type: "error", op, id, kind, message}
//
// On start it sends {type: "hello", …} with the package's default URLs and version.
import init, {
  DEFAULT_CACHE_NAME,
  DEFAULT_VOCAB_URL,
  DEFAULT_WEIGHTS_URL,
  NeedleWasm,
  downloadModel,
} from "./needle-java-wasm/index.js";

const PACKAGE_URL = new URL("./needle-java-wasm/package.json", import.meta.url);
/** Progress messages per file are at most this often (but the first and the last always go). */
const PROGRESS_INTERVAL_MS = 40;

let engine = null;
const wasmReady = init(); // compiles needle.wasm at once, while the page settles
wasmReady.catch(() => {}); // reported by the first load

const post = (message) => self.postMessage(message);

function errorMessage(op, id, e) {
  return {
    type: "error",
    op,
    id,
    kind: e?.kind ?? (op === "load" && e instanceof TypeError ? "DOWNLOAD" : "INTERNAL"),
    message: String(e?.message ?? e),
  };
}

async function hello() {
  let version = null;
  try {
    version = (await (await fetch(PACKAGE_URL)).json()).version;
  } catch {
    // the version is only shown in the footer
  }
  post({
    type: "hello",
    version,
    weightsUrl: DEFAULT_WEIGHTS_URL,
    vocabUrl: DEFAULT_VOCAB_URL,
    cacheName: DEFAULT_CACHE_NAME,
    hasCache: typeof caches !== "undefined",
  });
}

async function load({ weightsUrl, vocabUrl }) {
  const t0 = performance.now();
  if (engine !== null) {
    engine.free();
    engine = null;
  }
  await wasmReady;
  const last = new Map();
  const fromCache = {};
  const abort = new AbortController(); // when one file fails, the other download stops
  const { weights, vocab } = await downloadModel({
    weightsUrl,
    vocabUrl,
    signal: abort.signal,
    onProgress: (p) => {
      fromCache[p.file] = p.fromCache;
      const now = performance.now();
      if (p.done || p.loaded === 0 || !last.has(p.file) || now - last.get(p.file) >= PROGRESS_INTERVAL_MS) {
        last.set(p.file, now);
        post({ type: "progress", file: p.file, url: p.url, loaded: p.loaded, total: p.total, fromCache: p.fromCache, done: p.done });
      }
    },
  }).catch((e) => {
    abort.abort();
    throw e;
  });
  const t1 = performance.now();
  engine = NeedleWasm.load(weights, vocab);
  const t2 = performance.now();
  post({
    type: "loaded",
    config: engine.config,
    hasContrastiveHead: engine.hasContrastiveHead,
    simd: typeof engine.simd === "boolean" ? engine.simd : null, // newer packages: Wasm SIMD kernels in use
    weightsBytes: weights.length,
    vocabBytes: vocab.length,
    downloadMs: t1 - t0,
    engineLoadMs: engine.loadMs,
    loadMs: t2 - t0,
    fromCache: Boolean(fromCache.weights && fromCache.vocab),
  });
}

function requireEngine() {
  if (engine === null) {
    throw Object.assign(new Error("no model is loaded yet"), { kind: "STATE" });
  }
  return engine;
}

function run({ id, query, tools, maxNewTokens, constrain }) {
  const e = requireEngine();
  const tokens = [];
  let detailed = null;
  let tail = "";
  let firstTokenAt = null;
  const t0 = performance.now();
  const text = e.runStream(query, tools, (tokenId, piece) => {
    if (firstTokenAt === null) {
      firstTokenAt = performance.now();
    }
    tokens.push(tokenId);
    post({ type: "token", id, tokenId, piece });
  }, {
    maxNewTokens,
    constrain,
    // newer versions of the package may hand over the whole result as well
    onFinish: (rest, result) => {
      tail = rest;
      if (result && typeof result === "object" && result.timings) {
        detailed = result;
      }
    },
  });
  const t1 = performance.now();
  if (typeof text === "object" && text !== null && text.timings) {
    detailed = text;
  }
  post({ type: "result", id, tail, wallMs: t1 - t0, ...(detailed ?? estimate(text, tokens, t0, firstTokenAt, t1,
    maxNewTokens, constrain, e.prompt(query, tools).length)) });
}

/**
 * The result details from what the stream showed, for package versions whose runStream returns
 * only the text: the engine's own definitions (complete: stopped at eos, or a constrained output
 * whose call list is closed), times measured here (the first token arrives after the encoder
 * and the first decoder step).
 */
function estimate(text, tokens, t0, firstTokenAt, t1, maxNewTokens, constrain, prefillTokens) {
  let calls = null;
  try {
    const parsed = JSON.parse(text);
    calls = Array.isArray(parsed) ? parsed : null;
  } catch {
    calls = null;
  }
  const stoppedAtEos = tokens.length < maxNewTokens;
  const first = firstTokenAt ?? t1;
  return {
    text,
    calls,
    complete: stoppedAtEos || (constrain && calls !== null),
    tokens,
    timings: {
      loadMs: 0,
      encodeMs: first - t0,
      decodeMs: t1 - first,
      prefillTokens,
      decodeTokens: tokens.length + (stoppedAtEos ? 1 : 0),
    },
    estimated: true,
  };
}

function retrieve({ id, query, descriptions }) {
  const e = requireEngine();
  const t0 = performance.now();
  const ranking = e.retrieveTools(query, descriptions, descriptions.length);
  post({ type: "retrieval", id, ranking, ms: performance.now() - t0 });
}

async function cacheInfo(cleared = false) {
  if (typeof caches === "undefined") {
    post({ type: "cache", available: false, files: 0, bytes: 0, cleared });
    return;
  }
  let files = 0;
  let bytes = 0;
  if (await caches.has(DEFAULT_CACHE_NAME)) {
    const cache = await caches.open(DEFAULT_CACHE_NAME);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      files++;
      bytes += Number(response?.headers.get("content-length")) || 0;
    }
  }
  post({ type: "cache", available: true, files, bytes, cleared });
}

async function clearCache() {
  if (typeof caches !== "undefined") {
    await caches.delete(DEFAULT_CACHE_NAME);
  }
  await cacheInfo(true);
}

const handlers = { load, run, retrieve, cacheInfo: () => cacheInfo(false), clearCache };

// one message at a time, in order (a run waits for the load before it)
let queue = Promise.resolve();
self.onmessage = ({ data }) => {
  queue = queue.then(async () => {
    const handler = handlers[data?.type];
    if (!handler) {
      post(errorMessage(data?.type, data?.id, new Error("unknown message " + JSON.stringify(data?.type))));
      return;
    }
    try {
      await handler(data);
    } catch (e) {
      post(errorMessage(data.type, data.id, e));
    }
  });
};

hello();
