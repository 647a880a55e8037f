// Type declarations of needle-java-wasm (both entries: index.js and, for Cloudflare Workers,
// workerd.js share this API).

/** What init() can load needle.wasm from. */
export type InitInput =
  | string
  | URL
  | Response
  | ArrayBuffer
  | ArrayBufferView
  | WebAssembly.Module;

/**
 * Loads and instantiates needle.wasm; await it once before anything else. Without an argument
 * the package's own needle.wasm is used (fetched next to the module in browsers, read from disk in
 * Node). Later calls return the first call's promise. In Cloudflare Workers ("workerd" condition)
 * the module is instantiated at import and init() resolves at once. The object form
 * `{ module_or_path }` is wasm-bindgen's (needle-rs's init).
 */
export default function init(
  input?: InitInput | Promise<InitInput> | { module_or_path?: InitInput | Promise<InitInput> | undefined },
): Promise<void>;

/** What initSync() can instantiate: needle.wasm compiled, or its bytes. */
export type SyncInitInput = WebAssembly.Module | ArrayBuffer | ArrayBufferView;

/**
 * Instantiates needle.wasm synchronously (wasm-bindgen's initSync, for code written for
 * needle-rs): the compiled module or its bytes, or `{ module }`. Browsers compile large modules
 * synchronously only in Workers. Does nothing once initialized (and in Cloudflare Workers).
 */
export function initSync(input: SyncInitInput | { module: SyncInitInput }): void;

/** True once init() has finished. */
export function isInitialized(): boolean;

/**
 * What went wrong, for programs: WEIGHTS (not a valid Needle .safetensors file), CONFIG (model
 * metadata missing or inconsistent), VOCAB (malformed vocabulary or one that does not fit the
 * model), JSON (tools text that is not JSON), INPUT (any other bad argument: ids out of range,
 * maxNewTokens outside 0..511, wrong types), STATE (not initialized, or used after free()),
 * DOWNLOAD (downloadModel / loadModel / init could not fetch; a stream of weights failed or its
 * bytes do not have the expected hash), INTERNAL (an engine bug or a WebAssembly limit).
 */
export type NeedleErrorKind =
  | "WEIGHTS"
  | "CONFIG"
  | "VOCAB"
  | "JSON"
  | "INPUT"
  | "STATE"
  | "DOWNLOAD"
  | "INTERNAL";

/** The error every failing call throws; `message` is one line naming the problem. */
export class NeedleError extends Error {
  readonly kind: NeedleErrorKind;
  /** For a JSON error at a position of the text (kind "JSON"): its line, 1-based. */
  readonly line?: number;
  /** For a JSON error at a position of the text: its column, 1-based (UTF-16 units). */
  readonly column?: number;
  constructor(kind: NeedleErrorKind, message: string, options?: { cause?: unknown; line?: number; column?: number });
}

/** One tool definition: the flat Needle form, a JSON-Schema `parameters` object or an OpenAI tool. */
export type ToolDefinition = Record<string, unknown>;

/** Tools as a JSON text, or as values that JSON.stringify turns into one. */
export type Tools = string | ToolDefinition[];

/** Which of the accepted forms a tool was given in (docs/spec/MODEL.md of the repository, section 3). */
export type ToolForm = "flat" | "json-schema" | "openai";

/** One parameter of a normalized tool, as the constrained decoder reads it. */
export interface ToolParameter {
  /** The argument name the model writes. */
  name: string;
  /** The declared "type", lower-cased; null when it has none (any JSON value). */
  type: string | null;
  required: boolean;
  /** The declared "enum" values, or null. */
  enum: unknown[] | null;
}

/** One tool as the engine reads it. */
export interface NormalizedTool {
  /** Its position in the given list (0-based). */
  index: number;
  /** The snake_case name the model sees and writes. */
  name: string;
  /** The name as given: what run() outputs in the calls. */
  original: string;
  /** The description when it is a string, else null. */
  description: string | null;
  form: ToolForm;
  parameters: ToolParameter[];
  /** The tool in the flat form, as the model sees it (snake_case name). */
  definition: Record<string, unknown>;
}

/** Something the engine reads otherwise than the writer surely meant: one line, naming the tool. */
export interface ToolProblem {
  /** The tool's position in the list (0-based), or null for the list as a whole. */
  index: number | null;
  message: string;
  /** Where a text that is not JSON goes wrong (1-based). */
  line?: number;
  column?: number;
}

/** What normalizeTools() returns. */
export interface NormalizedTools {
  /** False when the text is not JSON (the engine then feeds it to the model as it is). */
  json: boolean;
  /** The tools text the model sees: compact JSON, flat form, snake_case names. */
  text: string;
  /** The tools the model can call, in order (elements without a string name are not among them). */
  tools: NormalizedTool[];
  /** snake_case name → original name, for the names snake_case changed. */
  renamed: Record<string, string>;
  /** Empty when the list is sound; else, in order, the first problem of each tool. */
  problems: ToolProblem[];
}

/**
 * The engine's reading of a tool list, without a model (after init()): the normalized tools, the
 * renamed names and the problems a host should refuse. Never throws for the text itself.
 */
export function normalizeTools(tools: Tools): NormalizedTools;

/** One tool call of the output. */
export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface RunOptions {
  /** Generated-token budget, 0..511 (default 511, the model's limit). */
  maxNewTokens?: number;
  /** Constrained decoding (default true): only valid calls of the given tools can be written. */
  constrain?: boolean;
  /**
   * With constrained decoding, refuse the empty answer `[]` while a tool can be called, so the
   * answer holds at least one call (OpenAI's tool_choice "required"; with a one-tool list, a named
   * function). Default false.
   */
  requireCall?: boolean;
}

export interface DetailedOptions extends RunOptions {
  /**
   * Benchmarks only: never pick the end-of-sequence token, so that exactly maxNewTokens steps run
   * (the JVM's RunOptions.ignoreEos). Default false.
   */
  ignoreEos?: boolean;
}

export interface LoadOptions {
  /**
   * Use the package's Wasm SIMD kernels (needle-simd.wasm) where the host has Wasm SIMD (default
   * true): 3-5x faster, the same results; they keep a second copy of the weights in the
   * WebAssembly linear memory. false: the portable kernels only.
   */
  simd?: boolean;
}

/** A stream of a .safetensors file for NeedleWasm.loadStream. */
export type WeightSource =
  | Response
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | ArrayBuffer | ArrayBufferView>
  | Iterable<Uint8Array | ArrayBuffer | ArrayBufferView>;

export interface LoadStreamOptions extends LoadOptions {
  /**
   * The file's length in bytes. Default: the Response's Content-Length (when it has no content
   * encoding), else the length the file's SafeTensors header describes.
   */
  length?: number;
  /** The file must have this sha256: checked once every byte arrived, before the engine is made. */
  sha256?: PinnedSha256;
  /** Called for each chunk that arrived (total: the file's length). */
  onProgress?: (progress: { loaded: number; total: number }) => void;
}

export interface StreamOptions extends RunOptions {
  /** Receives, at the end, any text the token pieces did not carry (usually ""). */
  onFinish?: (tail: string) => void;
}

export interface Timings {
  /** 0 in run results (loading is measured by NeedleWasm.loadMs). */
  loadMs: number;
  /** Prompt building, tokenization and the encoder pass. */
  encodeMs: number;
  /** All decoder steps. */
  decodeMs: number;
  /** Encoder input length in tokens. */
  prefillTokens: number;
  /** Decoder steps run (generated tokens, plus the final eos step when there was one). */
  decodeTokens: number;
}

export interface RunResult {
  /** The output: a JSON array of calls (original tool names restored). */
  text: string;
  /** The parsed calls, or null when the text is not a JSON array (unconstrained or cut short). */
  calls: ToolCall[] | null;
  /** True when the output is finished (not cut by maxNewTokens). */
  complete: boolean;
  /** The generated token ids (eos excluded). */
  tokens: number[];
  timings: Timings;
}

export interface GenerateOptions {
  /** Generated-token budget, 0..511 (default 511). */
  maxNewTokens?: number;
  /** Tools whose grammar constrains decoding; without them decoding is plain argmax. */
  tools?: Tools;
  /** Default: true when tools are given. */
  constrain?: boolean;
}

/**
 * The model's configuration: the weight file's metadata keys as needle-rs's export.py writes them
 * (older spellings such as max_seq_len and d_ff are read into max_enc_len and ffn_dim), checked
 * against the tensors or, for files without metadata, inferred from them; then derived values.
 */
export interface ModelConfig {
  d_model: number;
  num_heads: number;
  num_kv_heads: number;
  num_encoder_layers: number;
  num_decoder_layers: number;
  vocab_size: number;
  /** Longest encoder input (1024 in Needle). */
  max_enc_len: number;
  /** The decoder's length (512 in Needle; generation stops after 511 tokens). */
  max_dec_len: number;
  /** Width of the feed-forward blocks, as the file states it even when there are none. */
  ffn_dim: number;
  no_feedforward: boolean;
  /** "drelu", "swiglu" or "geglu". */
  activation: string;
  rope_theta: number;
  /** d_model / num_heads. */
  head_dim: number;
  /** Hidden width of the contrastive head, 0 without one. */
  contrastive_hidden: number;
  /** Size of a contrastive embedding, 0 without a head. */
  contrastive_dim: number;
  /**
   * Where the values came from: "metadata" (the file's __metadata__, checked against the
   * tensors), "metadata+tensors" (partial metadata), "tensors" (no metadata: all inferred).
   */
  source: "metadata" | "metadata+tensors" | "tensors";
}

/** A batch item: [query, tools] or { query, tools }. */
export type BatchPair = [string, Tools] | { query: string; tools: Tools };

/** A loaded model. Calls are synchronous and run one at a time. */
export class NeedleWasm {
  private constructor();

  /**
   * Loads the bytes of a Needle .safetensors file and the text (or UTF-8 bytes) of vocab.txt.
   * The weights are copied into the engine (with the SIMD kernels, also into the WebAssembly
   * linear memory they compute on): the caller's array may be dropped. vocab may be omitted for
   * generate()-only use.
   */
  static load(weights: Uint8Array | Int8Array | ArrayBuffer | ArrayBufferView, vocab?: string | Uint8Array | ArrayBuffer | null, options?: LoadOptions): NeedleWasm;

  /**
   * Loads the .safetensors file from a stream as it arrives: with the SIMD kernels each chunk is
   * copied straight into the engine's WebAssembly linear memory, so the whole file is never held
   * anywhere else; without them (options.simd false, or no Wasm SIMD) the chunks are gathered
   * into one array first. Rejects with one NeedleError when the stream fails (DOWNLOAD), ends
   * early or goes on past the file's length (WEIGHTS), the header is not valid (WEIGHTS) or the
   * bytes do not have options.sha256 (DOWNLOAD); the engine's memory is then reused by the next
   * load.
   */
  static loadStream(source: WeightSource, vocab?: string | Uint8Array | ArrayBuffer | null, options?: LoadStreamOptions): Promise<NeedleWasm>;

  /** Whether the Wasm SIMD kernels are in use (see LoadOptions.simd). */
  readonly simd: boolean;

  /** The tool-call text for (query, tools), e.g. '[{"name":"get_weather","arguments":{"location":"Paris"}}]'. */
  run(query: string, tools: Tools): string;

  /** Runs with options and returns the details. */
  runDetailed(query: string, tools: Tools, options?: DetailedOptions): RunResult;

  /** Runs, giving each token as it is generated to onToken; returns the final text. */
  runStream(query: string, tools: Tools, onToken: (tokenId: number, piece: string) => void, options?: StreamOptions): string;

  /** Runs many pairs in order (same results as one run each). */
  runBatch(pairs: BatchPair[], options?: RunOptions): RunResult[];

  /**
   * Ranks tool descriptions by similarity to the query with the model's contrastive head;
   * returns [index, score] pairs, best first, at most topK (default 5).
   */
  retrieveTools(query: string, descriptions: string[], topK?: number): Array<[number, number]>;

  /** The SentencePiece ids of a text (no bos/eos). */
  tokenize(text: string): number[];

  /** The text of token ids. */
  detokenize(ids: ArrayLike<number>): string;

  /** The encoder input ids run() feeds the model for (query, tools). */
  prompt(query: string, tools: Tools): number[];

  /** Encoder + greedy decoder on raw encoder ids; the generated ids, eos excluded. */
  generate(inputIds: ArrayLike<number>, options?: GenerateOptions): number[];

  /** The model's configuration. */
  readonly config: Readonly<ModelConfig>;

  /** Whether the weights have the contrastive head retrieveTools() needs. */
  readonly hasContrastiveHead: boolean;

  /** Whether a vocabulary was loaded (run, tokenize, retrieveTools need one). */
  readonly hasVocab: boolean;

  /** Milliseconds load() spent in the engine. */
  readonly loadMs: number;

  /** Releases the model for the garbage collector; later calls throw a NeedleError of kind STATE. */
  free(): void;

  // needle-rs's API (GitHub Geekgineer/needle-rs, crates/needle-wasm): the same names, arguments
  // and results. The differences (errors thrown where needle-rs returns undefined or "[]", pieces
  // and text without its byte-piece and leading-space defects) are in README.md, "Migrating from
  // needle-rs".

  /** needle-rs's run_stream: onToken gets each token as it is generated; returns the final text (as run). */
  run_stream(query: string, tools: Tools, onToken: (tokenId: number, piece: string) => void): string;

  /** needle-rs's run_batch: the output text of each {query, tools}, in order. */
  run_batch(examples: Array<{ query: string; tools: Tools }>): string[];

  /**
   * needle-rs's encode_contrastive: the L2-normalized contrastive embedding of a text (encoded
   * alone, at most 256 tokens), contrastive_dim() floats; undefined when the model has no
   * contrastive head.
   */
  encode_contrastive(text: string): Float32Array | undefined;

  /** needle-rs's contrastive_dim(): the size of a contrastive embedding, 0 without a head. */
  contrastive_dim(): number;

  /**
   * needle-rs's retrieve_tools: the descriptions (a JSON text of a string array, or the array)
   * ranked by similarity to the query, at most topK (default 5), as the JSON text
   * `[{"index":0,"score":0.950000},…]`, best first, scores with six decimals. Throws (WEIGHTS)
   * when the model has no contrastive head.
   */
  retrieve_tools(query: string, descriptionsJson: string | string[], topK?: number): string;
}

/** A vocabulary alone: text to SentencePiece ids and back. */
export class NeedleTokenizer {
  private constructor();
  static load(vocab: string | Uint8Array | ArrayBuffer): NeedleTokenizer;
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
  /** The number of pieces. */
  readonly size: number;
}

export interface DownloadProgress {
  file: "weights" | "vocab";
  url: string;
  /** Bytes received so far. */
  loaded: number;
  /** Expected bytes, or null when the server did not say. */
  total: number | null;
  /** True when read from the Cache API instead of the network. */
  fromCache: boolean;
  /** True on the last report for this file. */
  done: boolean;
}

/** What downloadModel uses of a CacheStorage (globalThis.caches fits, and so does a stand-in). */
export interface ModelCacheStorage {
  open(cacheName: string): Promise<ModelCache>;
}

/** What downloadModel uses of a Cache. */
export interface ModelCache {
  match(url: string): Promise<Response | undefined>;
  put(url: string, response: Response): Promise<void>;
}

/** A sha256 the file must have: 64 hex digits, or with the name messages give its source. */
export type PinnedSha256 = string | { sha256: string; source?: string };

/** How a downloaded file's hash was checked. */
export interface FileIntegrity {
  /**
   * "pinned": it has the sha256 pinned by the options; "hub": the hash the hub announced
   * (Hugging Face's X-Linked-Etag sha256, or the git blob sha1 ETag of a small file);
   * "not_verified": there was nothing to compare with (`note` says why).
   */
  status: "pinned" | "hub" | "not_verified";
  /** The sha256 of the bytes, lower-case hex. */
  sha256: string;
  /** "sha256" or "git blob sha1"; null when not verified. */
  algorithm: "sha256" | "git blob sha1" | null;
  /** The value compared with; null when not verified. */
  expected: string | null;
  /** Where it came from, e.g. "options.weightsSha256" or "the X-Linked-Etag header of huggingface.co". */
  source: string | null;
  /** Why it was not verified, or that the hub announced another hash than the pin. */
  note: string | null;
  /** Read from the Cache API (hashed again as it was read). */
  fromCache: boolean;
}

export interface DownloadOptions {
  /** Default: DEFAULT_WEIGHTS_URL (Hugging Face, Abdalrahman/needle-rs-safetensors); null: do not download it. */
  weightsUrl?: string | URL | null;
  /** Default: DEFAULT_VOCAB_URL; null: do not download it. */
  vocabUrl?: string | URL | null;
  /** The weights must have this sha256, whatever the hub announces. */
  weightsSha256?: PinnedSha256;
  /** The vocabulary must have this sha256, whatever the hub announces. */
  vocabSha256?: PinnedSha256;
  onProgress?: (progress: DownloadProgress) => void;
  /** Read and write the Cache API when there is one (default true). */
  cache?: boolean;
  /** Default: DEFAULT_CACHE_NAME. */
  cacheName?: string;
  /** The CacheStorage to use (default globalThis.caches, which Node lacks), or a stand-in. */
  caches?: ModelCacheStorage;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/**
 * Downloads weights and vocabulary, with progress reports, from the Cache API when present, each
 * checked against its pinned sha256 or the hash the hub announces (a mismatch rejects with a
 * DOWNLOAD NeedleError naming both hashes and where the expected one came from).
 */
export function downloadModel<O extends DownloadOptions = {}>(options?: O): Promise<DownloadedModel<O>>;

export interface LoadModelOptions extends DownloadOptions {
  /** The weights to download (default DEFAULT_WEIGHTS_URL); loadModel needs them. */
  weightsUrl?: string | URL;
  /** Load options (see LoadOptions.simd). */
  simd?: boolean;
  /** The vocabulary's text or UTF-8 bytes, when it is not downloaded (vocabUrl: null). */
  vocab?: string | Uint8Array | ArrayBuffer | null;
}

/** What loadModel gives: the loaded model and how its files were checked. */
export interface LoadedModel {
  model: NeedleWasm;
  integrity: {
    weights: FileIntegrity;
    /** null when the vocabulary was not downloaded (vocabUrl: null). */
    vocab: FileIntegrity | null;
  };
  /** The weight file's length in bytes. */
  weightsBytes: number;
}

/**
 * downloadModel's streaming sibling: downloads the vocabulary and streams the weights into the
 * engine as they arrive (NeedleWasm.loadStream), with downloadModel's checks (a pinned sha256 or
 * the hub's hash, computed as the bytes arrive and compared before the engine is made), progress
 * reports and Cache API (a cached copy is streamed and hashed again; a download that passed its
 * checks is cached from the engine's copy).
 */
export function loadModel(options?: LoadModelOptions): Promise<LoadedModel>;

/**
 * T, or null for a file whose URL option K is null: null when the options say null, T when they
 * leave it out or give a URL, T | null when their type allows both (or is any, as untyped
 * JavaScript's is).
 */
export type DownloadedFile<O, K extends "weightsUrl" | "vocabUrl", T> = K extends keyof O
  ? 0 extends 1 & O[K] ? T | null : [O[K]] extends [null] ? null : null extends O[K] ? T | null : T
  : T;

/** What downloadModel gives for options O (a file whose URL is null is not downloaded: null). */
export interface DownloadedModel<O extends DownloadOptions = DownloadOptions> {
  weights: DownloadedFile<O, "weightsUrl", Uint8Array>;
  vocab: DownloadedFile<O, "vocabUrl", string>;
  integrity: {
    weights: DownloadedFile<O, "weightsUrl", FileIntegrity>;
    vocab: DownloadedFile<O, "vocabUrl", FileIntegrity>;
  };
}

export const DEFAULT_WEIGHTS_URL: string;
export const DEFAULT_VOCAB_URL: string;
export const DEFAULT_CACHE_NAME: string;
