// The public API over the raw exports of needle.wasm (wasm-bridge's io.needle.wasm.NeedleWasm):
// converts arguments (Uint8Array → Int8Array view, tools objects → JSON text, id lists →
// Int32Array), parses the JSON texts the bridge returns, and turns engine errors into NeedleErrors.

import { JavaError } from "./runtime.js";
import { createHash } from "./digest.js";
import { streamWeights } from "./weight-stream.js";

let raw = null;
const constructToken = Symbol("NeedleWasm.construct"); // keeps the constructors private

/** Called by the entry (index.js, workerd.js) once needle.wasm is instantiated. */
export function attach(rawExports) {
  raw = rawExports;
}

/** True once the WebAssembly module is ready (after `await init()`). */
export function isInitialized() {
  return raw !== null;
}

const MAX_NEW_TOKENS = 511;
const KIND_PREFIX = /^NeedleException\[([A-Z]+)(?:@(\d+):(\d+))?\] ([\s\S]*)$/;

/**
 * The error every failing call throws: `message` is one line naming the problem, `kind` says what
 * kind of problem for programs: WEIGHTS, CONFIG, VOCAB, JSON, INPUT (from the engine), STATE (not
 * initialized, freed), DOWNLOAD (downloadModel) or INTERNAL (a bug or the Wasm engine's limits).
 * A JSON error at a position of the text also has `line` and `column` (1-based).
 */
export class NeedleError extends Error {
  constructor(kind, message, options) {
    super(message, options);
    this.name = "NeedleError";
    this.kind = kind;
    if (options?.line !== undefined) {
      this.line = options.line;
      this.column = options.column;
    }
  }
}

/** Runs a raw call; errors from the Java side come out as NeedleErrors with the engine's kind. */
function call(body) {
  try {
    return body();
  } catch (e) {
    throw translate(e);
  }
}

function translate(e) {
  if (e instanceof NeedleError) {
    return e;
  }
  if (e instanceof JavaError) {
    const message = String(e.message);
    const m = KIND_PREFIX.exec(message);
    if (m !== null) {
      return new NeedleError(m[1], m[4], m[2] === undefined ? undefined : { line: Number(m[2]), column: Number(m[3]) });
    }
    return new NeedleError("INTERNAL", "internal error in the engine: " + message, { cause: e });
  }
  if (e instanceof WebAssembly.RuntimeError) {
    return new NeedleError("INTERNAL", "the WebAssembly engine failed: " + e.message, { cause: e });
  }
  return e; // an error thrown by a callback of the caller's (runStream's onToken): passed on as is
}

function requireReady() {
  if (raw === null) {
    throw new NeedleError("STATE", "needle-java-wasm is not initialized: call `await init()` first");
  }
  return raw;
}

function input(message) {
  return new NeedleError("INPUT", message);
}

/** Weight bytes as the Int8Array view TeaVM copies fastest (no copy here). */
function weightBytes(weights) {
  if (weights instanceof ArrayBuffer) {
    return new Int8Array(weights);
  }
  if (ArrayBuffer.isView(weights)) {
    return new Int8Array(weights.buffer, weights.byteOffset, weights.byteLength);
  }
  throw input("the weights must be a Uint8Array, Int8Array, ArrayBuffer or another ArrayBuffer view, got "
      + describe(weights));
}

/**
 * How many leading bytes hold a SafeTensors file's 8-byte length prefix and JSON header (at most
 * the whole file): all the engine reads before the file is copied into the linear memory. A prefix
 * past the file or the format's cap gives the whole prefix only; the engine then names the problem.
 */
function headLength(bytes) {
  if (bytes.length < 8) {
    return bytes.length;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  return n <= bytes.length - 8 ? 8 + n : 8;
}

function vocabText(vocab) {
  if (vocab === undefined || vocab === null || typeof vocab === "string") {
    return vocab ?? null;
  }
  if (vocab instanceof ArrayBuffer || ArrayBuffer.isView(vocab)) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(vocab);
    } catch {
      throw new NeedleError("VOCAB", "the vocabulary bytes are not valid UTF-8");
    }
  }
  throw input("the vocabulary must be the text of vocab.txt (a string) or its bytes, got " + describe(vocab));
}

/** Tools as the JSON text the engine parses: a string as is, anything else through JSON.stringify. */
function toolsText(tools) {
  if (tools === undefined || tools === null) {
    return "[]";
  }
  if (typeof tools === "string") {
    return tools;
  }
  const text = JSON.stringify(tools);
  if (text === undefined) {
    throw input("the tools must be a JSON text or a JSON-serializable value, got " + describe(tools));
  }
  return text;
}

function text(value, what) {
  if (typeof value !== "string") {
    throw input(what + " must be a string, got " + describe(value));
  }
  return value;
}

function ids(values, what) {
  if (values === null || typeof values !== "object" || typeof values.length !== "number") {
    throw input(what + " must be an array of token ids, got " + describe(values));
  }
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw input(what + "[" + i + "] is not an integer token id: " + describe(v));
    }
    out[i] = v;
  }
  return out;
}

function int(value, fallback, what) {
  if (value === undefined) {
    return fallback;
  }
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw input(what + " must be an integer, got " + describe(value));
  }
  return value;
}

function bool(value, fallback, what) {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== "boolean") {
    throw input(what + " must be true or false, got " + describe(value));
  }
  return value;
}

function options(o) {
  if (o !== undefined && (o === null || typeof o !== "object")) {
    throw input("the options must be an object, got " + describe(o));
  }
  o = o ?? {};
  return {
    maxNewTokens: int(o.maxNewTokens, MAX_NEW_TOKENS, "maxNewTokens"),
    constrain: bool(o.constrain, true, "constrain"),
    ignoreEos: bool(o.ignoreEos, false, "ignoreEos"),
    requireCall: bool(o.requireCall, false, "requireCall"),
  };
}

function describe(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return v.constructor?.name ?? "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  return typeof v === "number" || typeof v === "boolean" ? String(v) : typeof v;
}

/**
 * A float32 score as Rust's format!("{:.6}", score) writes it (needle-rs's retrieve_tools): the
 * exact value rounded to six decimals, half to even, the sign kept (-0.000000 for a negative
 * value that rounds to zero).
 */
function rustFixed6(x) {
  const twice = Math.abs(x) * 2e6; // exact for a float32 (24 + 21 bits < 53)
  let digits;
  if (Number.isInteger(twice) && twice % 2 === 1) {
    // exactly halfway between two six-decimal numbers: the even one
    const below = (twice - 1) / 2;
    digits = ((below % 2 === 0 ? below : below + 1) / 1e6).toFixed(6);
  } else {
    digits = Math.abs(x).toFixed(6);
  }
  return (x < 0 || Object.is(x, -0) ? "-" : "") + digits;
}

/** The bridge's result JSON → RunResult (camelCase timings). */
function result(json) {
  const r = typeof json === "string" ? JSON.parse(json) : json;
  const t = r.timings;
  return {
    text: r.text,
    calls: r.calls,
    complete: r.complete,
    tokens: r.tokens,
    timings: {
      loadMs: t.load_ms,
      encodeMs: t.encode_ms,
      decodeMs: t.decode_ms,
      prefillTokens: t.prefill_tokens,
      decodeTokens: t.decode_tokens,
    },
  };
}

/**
 * The engine's reading of a tool list, without a model (after `await init()`): the text the model
 * sees, each tool normalized to the flat form with its snake_case name, the renamed names, and the
 * problems a host should refuse (a text that is not JSON, with its line and column; a tool without
 * a name, two tools with one name, malformed parameters…). The engine itself runs any JSON.
 */
export function normalizeTools(tools) {
  const r = requireReady();
  const t = toolsText(tools);
  return JSON.parse(call(() => r.normalizeTools(t)));
}

const engineOf = new WeakMap(); // NeedleWasm → raw engine object (absent after free())
const streaming = new WeakSet(); // engines inside runStream (their onToken may not call them)

function engine(self) {
  const e = engineOf.get(self);
  if (e === undefined) {
    throw new NeedleError("STATE", "this NeedleWasm was freed (free() was called)");
  }
  if (streaming.has(self)) {
    throw new NeedleError("STATE", "this NeedleWasm is busy with runStream (onToken cannot call it)");
  }
  return e;
}

/**
 * A loaded Needle model: weights, vocabulary, constrained decoder. One request at a time (calls
 * are synchronous). Create with `NeedleWasm.load(weights, vocab)` after `await init()`.
 */
export class NeedleWasm {
  #config = null;

  constructor(token, rawEngine) {
    if (token !== constructToken) {
      throw new TypeError("use NeedleWasm.load(weights, vocab)");
    }
    engineOf.set(this, rawEngine);
  }

  /**
   * Loads a model from the bytes of a .safetensors file and the text of vocab.txt. The bytes are
   * copied into the engine; the caller's array may be dropped. vocab may be omitted for
   * generate()-only use. Where the host has Wasm SIMD, the matrix products run in the package's
   * SIMD kernels (needle-simd.wasm), with the same results as the portable kernels, and the
   * engine's one copy of the weights is in the WebAssembly linear memory, where those kernels
   * compute; `options.simd: false` keeps the portable kernels (the copy is then in the Wasm GC heap).
   */
  static load(weights, vocab, opts) {
    const r = requireReady();
    const bytes = weightBytes(weights);
    const v = vocabText(vocab);
    if (opts !== undefined && (opts === null || typeof opts !== "object")) {
      throw input("the load options must be an object, got " + describe(opts));
    }
    const simd = bool(opts?.simd, true, "simd") && r.simd;
    // the kernels are chosen here, for good. The SIMD ones compute on the file in the linear
    // memory: the engine reads the header from a small copy, reserves the block and asks this
    // function to copy the whole file there, in bulk; no Java array of the file is made.
    const e = simd
      ? call(() => r.loadSimd(bytes.subarray(0, headLength(bytes)), bytes.length, v,
        (address) => new Int8Array(r.memory.buffer, address, bytes.length).set(bytes)))
      : call(() => r.load(bytes, v));
    return new NeedleWasm(constructToken, e);
  }

  /**
   * Loads a model from a stream of the .safetensors file: a Response (fetch's), a
   * ReadableStream<Uint8Array> or an (async) iterable of byte chunks. With the SIMD kernels the
   * file is never held whole outside the engine: the header is read first, the engine reserves the
   * file's block in the linear memory and each chunk is copied there as it arrives. Without them
   * (`options.simd: false`, or a host without Wasm SIMD) the chunks are gathered into one array
   * first, as load() needs. The file's length is options.length, else the Response's
   * Content-Length (without a content encoding), else the one its SafeTensors header describes.
   * options.sha256 (64 hex digits, or { sha256, source } naming it for messages) is checked before
   * the engine is made; options.onProgress({ loaded, total }) is called per chunk. A stream that
   * fails, ends early, goes on too long or has another sha256 rejects with one NeedleError (kinds
   * DOWNLOAD, WEIGHTS) and leaves no engine memory behind.
   */
  static async loadStream(source, vocab, opts) {
    return loadStreamWith(source, vocab, opts, null);
  }

  /** Whether the matrix products run in the Wasm SIMD kernels (see load). */
  get simd() {
    const e = engine(this);
    return e.simd === true;
  }

  /** The tool-call text for (query, tools): a JSON array of calls, constrained decoding, ≤ 511 tokens. */
  run(query, tools) {
    const e = engine(this);
    const q = text(query, "the query");
    const t = toolsText(tools);
    return call(() => e.run(q, t));
  }

  /** Runs with options; returns {text, calls, complete, tokens, timings}. */
  runDetailed(query, tools, opts) {
    const e = engine(this);
    const q = text(query, "the query");
    const t = toolsText(tools);
    const o = options(opts);
    return result(call(() => o.ignoreEos || o.requireCall
      ? e.runDetailedWith(q, t, o.maxNewTokens, o.constrain, o.ignoreEos, o.requireCall)
      : e.runDetailed(q, t, o.maxNewTokens, o.constrain)));
  }

  /**
   * Runs, calling onToken(id, piece) for each token as it is generated; returns the final text.
   * The pieces concatenate to the text, but for a tail (bytes of an unfinished character) that
   * options.onFinish(tail) receives at the end.
   */
  runStream(query, tools, onToken, opts) {
    const e = engine(this);
    const q = text(query, "the query");
    const t = toolsText(tools);
    if (typeof onToken !== "function") {
      throw input("onToken must be a function (id, piece) => void, got " + describe(onToken));
    }
    const o = options(opts);
    const onFinish = opts?.onFinish;
    if (onFinish !== undefined && typeof onFinish !== "function") {
      throw input("options.onFinish must be a function (tail) => void");
    }
    let streamed = 0;
    let json;
    streaming.add(this);
    try {
      json = call(() => e.runStreamWith(q, t, o.maxNewTokens, o.constrain, o.requireCall, (id, piece) => {
        streamed += piece.length;
        onToken(id, piece);
      }));
    } finally {
      streaming.delete(this);
    }
    const r = result(json);
    onFinish?.(r.text.slice(streamed));
    return r.text;
  }

  /** Runs many pairs ([query, tools] or {query, tools}) in order; returns their detailed results. */
  runBatch(pairs, opts) {
    const e = engine(this);
    if (!Array.isArray(pairs)) {
      throw input("the batch must be an array of [query, tools] pairs or {query, tools} objects");
    }
    const items = pairs.map((p, i) => {
      const [q, t] = Array.isArray(p) ? p : p !== null && typeof p === "object" ? [p.query, p.tools] : [];
      return { query: text(q, "the query of batch item " + i), tools: toolsText(t) };
    });
    const json = JSON.stringify(items);
    const o = options(opts);
    return JSON.parse(call(() => e.runBatch(json, o.maxNewTokens, o.constrain))).map(result);
  }

  /**
   * Ranks tool descriptions by similarity to the query (the model's contrastive head); returns
   * [[index, score], …], best first, at most topK (default 5).
   */
  retrieveTools(query, descriptions, topK = 5) {
    const e = engine(this);
    const q = text(query, "the query");
    if (!Array.isArray(descriptions)) {
      throw input("the descriptions must be an array of strings, got " + describe(descriptions));
    }
    descriptions.forEach((d, i) => text(d, "description " + i));
    const json = JSON.stringify(descriptions);
    const k = int(topK, 5, "topK");
    return JSON.parse(call(() => e.retrieveTools(q, json, k)));
  }

  /** The SentencePiece ids of a text. */
  tokenize(textToEncode) {
    const e = engine(this);
    const s = text(textToEncode, "the text");
    return Array.from(call(() => e.tokenize(s)));
  }

  /** The text of token ids. */
  detokenize(tokenIds) {
    const e = engine(this);
    const a = ids(tokenIds, "the ids");
    return call(() => e.detokenize(a));
  }

  /** The encoder input ids run() feeds the model for (query, tools). */
  prompt(query, tools) {
    const e = engine(this);
    const q = text(query, "the query");
    const t = toolsText(tools);
    return Array.from(call(() => e.prompt(q, t)));
  }

  /**
   * Encoder + greedy decoder on raw encoder ids (as `needle generate`); returns the generated ids,
   * eos excluded. Plain argmax unless options.tools is given, which constrains decoding to calls
   * of those tools (set options.constrain to false to give tools and still decode plainly).
   */
  generate(inputIds, opts) {
    const e = engine(this);
    const a = ids(inputIds, "the input ids");
    if (opts !== undefined && (opts === null || typeof opts !== "object")) {
      throw input("the options must be an object, got " + describe(opts));
    }
    const maxNewTokens = int(opts?.maxNewTokens, MAX_NEW_TOKENS, "maxNewTokens");
    const hasTools = opts?.tools !== undefined && opts?.tools !== null;
    const constrain = bool(opts?.constrain, hasTools, "constrain");
    if (constrain && !hasTools) {
      throw input("constrained generation needs options.tools");
    }
    const out = constrain
      ? call(() => e.generateConstrained(a, toolsText(opts.tools), maxNewTokens))
      : call(() => e.generate(a, maxNewTokens));
    return Array.from(out);
  }

  /** The model's configuration (export.py's metadata names: vocab_size, d_model, num_heads, ffn_dim, …, then head_dim, contrastive_hidden, contrastive_dim, source). */
  get config() {
    const e = engine(this);
    if (this.#config === null) {
      this.#config = Object.freeze(JSON.parse(call(() => e.config())));
    }
    return this.#config;
  }

  /** Whether the weights have the contrastive head retrieveTools needs. */
  get hasContrastiveHead() {
    const e = engine(this);
    return call(() => e.hasContrastiveHead);
  }

  /** Whether a vocabulary was loaded (run, tokenize and retrieveTools need one). */
  get hasVocab() {
    const e = engine(this);
    return call(() => e.hasVocab);
  }

  /** Milliseconds load() spent inside the engine (parsing and checking the weights and vocab). */
  get loadMs() {
    const e = engine(this);
    return call(() => e.loadMs);
  }

  // needle-rs's API (GitHub Geekgineer/needle-rs, crates/needle-wasm/src/lib.rs): the same names,
  // arguments and results, over the methods above. Where needle-rs's behaviour is a defect (byte
  // pieces printed as <0xE9>, a leading space kept in the text, undefined or "[]" returned for a
  // failure) these keep this package's behaviour; README.md, "Migrating from needle-rs".

  /**
   * needle-rs's run_stream: calls onToken(tokenId, piece) for each generated token, returns the
   * final text (the text run() returns). The pieces are those of runStream.
   */
  run_stream(query, tools, onToken) {
    return this.runStream(query, tools, onToken);
  }

  /** needle-rs's run_batch: `examples` is an array of {query, tools}; returns the texts, in order. */
  run_batch(examples) {
    if (!Array.isArray(examples)) {
      throw input("run_batch takes an array of {query, tools} objects, got " + describe(examples));
    }
    return this.runBatch(examples).map((r) => r.text);
  }

  /**
   * needle-rs's encode_contrastive: the L2-normalized contrastive embedding of a text (encoded
   * alone, at most 256 tokens) as a Float32Array of contrastive_dim() floats; undefined when the
   * model has no contrastive head. The dot product of two embeddings is their retrieval score.
   */
  encode_contrastive(textToEmbed) {
    const e = engine(this);
    const s = text(textToEmbed, "the text");
    if (!call(() => e.hasContrastiveHead)) {
      return undefined;
    }
    const v = call(() => e.contrastiveEmbedding(s));
    return v instanceof Float32Array ? v : Float32Array.from(v);
  }

  /** needle-rs's contrastive_dim(): the size of an embedding, 0 without a contrastive head. */
  contrastive_dim() {
    return this.config.contrastive_dim;
  }

  /**
   * needle-rs's retrieve_tools: ranks tool descriptions (a JSON text of an array of strings, or
   * the array) by similarity to the query; returns the JSON text
   * `[{"index":0,"score":0.950000},…]`, best first, at most topK, each score written with six
   * decimals as needle-rs writes it. A model without a contrastive head throws (kind WEIGHTS), as
   * retrieveTools.
   */
  retrieve_tools(query, descriptionsJson, topK) {
    const e = engine(this);
    const q = text(query, "the query");
    let json;
    if (typeof descriptionsJson === "string") {
      json = descriptionsJson;
    } else if (Array.isArray(descriptionsJson)) {
      descriptionsJson.forEach((d, i) => text(d, "description " + i));
      json = JSON.stringify(descriptionsJson);
    } else {
      throw input("the tool descriptions must be a JSON text of an array of strings, got " + describe(descriptionsJson));
    }
    const k = int(topK, 5, "topK");
    const ranked = JSON.parse(call(() => e.retrieveTools(q, json, k)));
    return "[" + ranked.map(([index, score]) => '{"index":' + index + ',"score":' + rustFixed6(score) + "}").join(",") + "]";
  }

  /** Releases the model: the memory is reclaimed by the garbage collector; later calls throw. */
  free() {
    const e = engineOf.get(this);
    if (streaming.has(this)) {
      throw new NeedleError("STATE", "this NeedleWasm is busy with runStream (onToken cannot free it)");
    }
    if (e !== undefined) {
      engineOf.delete(this);
      e.free();
    }
  }
}

/**
 * NeedleWasm.loadStream with more: `vocab` may also be a promise (awaited once the weights are
 * in), and `verify` (or null), given { sha256, length, gitBlobSha1 } once every byte arrived, may
 * throw to refuse them and `store`, given read(offset, n) and the length, may copy them elsewhere (a cache)
 * before the engine is made (downloadModel's streaming sibling loadModel uses both). Resolves to
 * the NeedleWasm; its sha256 and length are in `details` when given an object.
 */
export async function loadStreamWith(source, vocab, opts, more, details) {
  const r = requireReady();
  if (opts !== undefined && (opts === null || typeof opts !== "object")) {
    throw input("the load options must be an object, got " + describe(opts));
  }
  const simd = bool(opts?.simd, true, "simd") && r.simd;
  const pin = sha256Pin(opts?.sha256);
  const length = opts?.length;
  if (length !== undefined && length !== null && !(Number.isSafeInteger(length) && length >= 0)) {
    throw input("options.length must be the file's length in bytes (a non-negative integer), got " + describe(length));
  }
  const onProgress = opts?.onProgress;
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw input("options.onProgress must be a function ({ loaded, total }) => void");
  }
  if (!(vocab instanceof Promise)) {
    vocab = vocabText(vocab); // refused before any byte is read
  }
  const hashes = pin !== null || more !== null;
  const { engine: e, length: n, hashed } = await streamWeights(source, {
    raw: r, call, simd, length: length ?? null,
    vocab: async () => vocabText(await vocab),
    hash: hashes ? (fileLength) => fileHashes(fileLength, more?.gitBlobSha1 === true) : null,
    check: async (h) => {
      if (pin !== null && h.sha256 !== pin.hex) {
        throw new NeedleError("DOWNLOAD", "the weights do not have the expected sha256: expected " + pin.hex
            + " (" + pin.source + "), got " + h.sha256 + "; they were not loaded");
      }
      await more?.verify?.(h);
    },
    beforeFinish: more?.store ?? null,
    onProgress: onProgress === undefined ? null : (loaded, total) => onProgress({ loaded, total }),
  });
  if (details) {
    details.length = n;
    details.sha256 = hashed?.sha256 ?? null;
  }
  return new NeedleWasm(constructToken, e);
}

/** The sha256 of a file (and its git blob sha1 when asked), fed chunk by chunk. */
function fileHashes(length, withGitSha1) {
  const sha256 = createHash("sha256");
  const sha1 = withGitSha1 ? createHash("sha1") : null;
  sha1?.update(new TextEncoder().encode("blob " + length + "\0"));
  return {
    update: async (bytes) => {
      await sha256.update(bytes);
      await sha1?.update(bytes);
    },
    result: async () => ({ sha256: await sha256.hex(), gitBlobSha1: sha1 === null ? null : await sha1.hex() }),
  };
}

/** options.sha256 of loadStream as { hex, source }, or null. */
function sha256Pin(value) {
  if (value === undefined || value === null) {
    return null;
  }
  const given = typeof value === "object" ? value.sha256 : value;
  const source = typeof value === "object" && typeof value.source === "string" ? value.source : "options.sha256";
  const hex = typeof given === "string" ? given.trim().toLowerCase() : "";
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw input(source + " must be a sha256: 64 hex digits, got " + describe(given));
  }
  return { hex, source };
}

/** A vocabulary alone (no weights): text to SentencePiece ids and back. */
export class NeedleTokenizer {
  #raw;

  constructor(token, rawTokenizer) {
    if (token !== constructToken) {
      throw new TypeError("use NeedleTokenizer.load(vocab)");
    }
    this.#raw = rawTokenizer;
  }

  /** Loads the text (or UTF-8 bytes) of vocab.txt. */
  static load(vocab) {
    const r = requireReady();
    const v = vocabText(vocab);
    return new NeedleTokenizer(constructToken, call(() => r.loadTokenizer(v)));
  }

  encode(textToEncode) {
    const s = text(textToEncode, "the text");
    return Array.from(call(() => this.#raw.encode(s)));
  }

  decode(tokenIds) {
    const a = ids(tokenIds, "the ids");
    return call(() => this.#raw.decode(a));
  }

  /** The number of pieces. */
  get size() {
    return this.#raw.size;
  }
}

