// A TypeScript program using every export of needle-java-wasm's index.d.ts, as users would write
// it. It is not run: types.test.mjs type-checks it (tsc --noEmit -p test/tsconfig.json) against
// the installed package and checks that it names every export. `@ts-expect-error` lines are
// mistakes the declarations must refuse.
import init, {
  DEFAULT_CACHE_NAME,
  DEFAULT_VOCAB_URL,
  DEFAULT_WEIGHTS_URL,
  downloadModel,
  initSync,
  loadModel,
  isInitialized,
  NeedleError,
  NeedleTokenizer,
  NeedleWasm,
  normalizeTools,
} from "needle-java-wasm";
import type {
  BatchPair,
  DetailedOptions,
  DownloadOptions,
  DownloadedFile,
  DownloadedModel,
  DownloadProgress,
  FileIntegrity,
  GenerateOptions,
  InitInput,
  LoadedModel,
  LoadModelOptions,
  LoadOptions,
  LoadStreamOptions,
  ModelCache,
  ModelCacheStorage,
  ModelConfig,
  NeedleErrorKind,
  PinnedSha256,
  NormalizedTool,
  NormalizedTools,
  RunOptions,
  RunResult,
  StreamOptions,
  SyncInitInput,
  Timings,
  ToolCall,
  ToolDefinition,
  ToolForm,
  ToolParameter,
  ToolProblem,
  Tools,
  WeightSource,
} from "needle-java-wasm";

export async function usage(weights: Uint8Array, vocab: string): Promise<void> {
  // init from every kind of input
  const inputs: InitInput[] = ["needle.wasm", new URL("https://example.com/needle.wasm"), new ArrayBuffer(8),
    new Uint8Array(8), new Response(null), new WebAssembly.Module(new Uint8Array(8))];
  await init(inputs[0]);
  await init(Promise.resolve(inputs[1]!));
  await init();
  // wasm-bindgen's forms (needle-rs): { module_or_path }, initSync
  await init({ module_or_path: "needle.wasm" });
  await init({ module_or_path: Promise.resolve(new URL("https://example.com/needle.wasm")) });
  const syncInput: SyncInitInput = new WebAssembly.Module(new Uint8Array(8));
  initSync(syncInput);
  initSync({ module: new Uint8Array(8) });
  // @ts-expect-error initSync cannot find needle.wasm by itself: it takes the module or its bytes
  initSync();
  const ready: boolean = isInitialized();

  // tools in every form, normalized without a model
  const weather: ToolDefinition = { name: "get_weather", parameters: { city: { type: "string", required: true } } };
  const openAi: ToolDefinition = { type: "function", function: { name: "playMusic", parameters: { type: "object", properties: {} } } };
  const tools: Tools = [weather, openAi];
  const asText: Tools = JSON.stringify(tools);
  const report: NormalizedTools = normalizeTools(tools);
  const sameReport: NormalizedTools = normalizeTools(asText);
  const json: boolean = report.json && sameReport.json;
  const modelText: string = report.text;
  const renamed: Record<string, string> = report.renamed;
  for (const tool of report.tools) {
    const t: NormalizedTool = tool;
    const index: number = t.index;
    const names: [string, string] = [t.name, t.original];
    const description: string | null = t.description;
    const form: ToolForm = t.form;
    const definition: Record<string, unknown> = t.definition;
    for (const p of t.parameters) {
      const parameter: ToolParameter = p;
      const type: string | null = parameter.type;
      const required: boolean = parameter.required;
      const values: unknown[] | null = parameter.enum;
      void [index, names, description, form, definition, type, required, values, parameter.name];
    }
  }
  for (const problem of report.problems) {
    const p: ToolProblem = problem;
    const where: number | null = p.index;
    const line: number | undefined = p.line;
    const column: number | undefined = p.column;
    void [where, line, column, p.message];
  }
  // @ts-expect-error a form the engine does not have
  const badForm: ToolForm = "yaml";

  // loading, options and runs
  const loadOptions: LoadOptions = { simd: false };
  const engine: NeedleWasm = NeedleWasm.load(weights, vocab, loadOptions);
  NeedleWasm.load(weights.slice().buffer, new TextEncoder().encode(vocab));
  // @ts-expect-error the load options are an object
  NeedleWasm.load(weights, vocab, false);
  NeedleWasm.load(new Int8Array(weights.buffer), null);
  // @ts-expect-error the constructor is private: NeedleWasm.load makes engines
  new NeedleWasm();
  const simd: boolean = engine.simd;
  const text: string = engine.run("What's the weather in Paris?", tools);

  const runOptions: RunOptions = { maxNewTokens: 64, constrain: true };
  const detailedOptions: DetailedOptions = { ...runOptions, ignoreEos: false };
  const result: RunResult = engine.runDetailed("query", asText, detailedOptions);
  const calls: ToolCall[] | null = result.calls;
  if (calls !== null && calls.length > 0) {
    const call: ToolCall = calls[0]!;
    const args: Record<string, unknown> = call.arguments;
    void [call.name, args];
  }
  const timings: Timings = result.timings;
  const numbers: number[] = [timings.loadMs, timings.encodeMs, timings.decodeMs, timings.prefillTokens,
    timings.decodeTokens, ...result.tokens];
  const complete: boolean = result.complete;
  // @ts-expect-error maxNewTokens is a number
  engine.runDetailed("query", tools, { maxNewTokens: "64" });

  const streamOptions: StreamOptions = { maxNewTokens: 32, onFinish: (tail: string) => void tail };
  const streamed: string = engine.runStream("query", tools, (tokenId: number, piece: string) => void [tokenId, piece],
    streamOptions);

  const pairs: BatchPair[] = [["query", tools], { query: "other", tools: asText }];
  const batch: RunResult[] = engine.runBatch(pairs, runOptions);

  const ranking: Array<[number, number]> = engine.retrieveTools("query", ["Get the weather", "Play music"], 2);
  const ids: number[] = engine.tokenize("hello");
  const back: string = engine.detokenize(ids);
  const prompt: number[] = engine.prompt("query", tools);
  const generateOptions: GenerateOptions = { maxNewTokens: 8, tools, constrain: true };
  const generated: number[] = engine.generate(new Int32Array(prompt), generateOptions);

  const config: Readonly<ModelConfig> = engine.config;
  const sizes: number[] = [config.d_model, config.num_heads, config.num_kv_heads, config.num_encoder_layers,
    config.num_decoder_layers, config.vocab_size, config.max_enc_len, config.max_dec_len, config.ffn_dim,
    config.rope_theta, config.head_dim, config.contrastive_hidden, config.contrastive_dim];
  const source: "metadata" | "metadata+tensors" | "tensors" = config.source;
  const shape: [boolean, string] = [config.no_feedforward, config.activation];
  // @ts-expect-error the configuration is read-only
  engine.config.d_model = 1;
  const flags: boolean[] = [engine.hasContrastiveHead, engine.hasVocab];
  const loadMs: number = engine.loadMs;

  // code written for needle-rs (its needle_wasm.d.ts: load may return undefined there)
  const maybe: NeedleWasm | undefined = NeedleWasm.load(weights, vocab);
  if (!maybe) {
    throw new Error("load failed");
  }
  const toolsJson: string = JSON.stringify([weather]);
  const out: string = maybe.run("Book a flight from London to JFK tomorrow", toolsJson);
  const final: string = maybe.run_stream("query", toolsJson, (id: number, piece: string) => void [id, piece]);
  const texts: string[] = maybe.run_batch([{ query: "q1", tools: toolsJson }, { query: "q2", tools: [weather] }]);
  const embedding: Float32Array | undefined = maybe.encode_contrastive("weather forecast");
  if (embedding) {
    const cosine: number = embedding.reduce((s, v) => s + v * v, 0);
    void cosine;
  }
  const dim: number = maybe.contrastive_dim();
  const rankedJson: string = maybe.retrieve_tools("query", JSON.stringify(["Get weather data", "Send an email"]), 2);
  const ranked: Array<{ index: number; score: number }> = JSON.parse(rankedJson);
  maybe.retrieve_tools("query", ["Get weather data"]);
  // @ts-expect-error contrastive_dim is a method, as in needle-rs
  const notANumber: number = maybe.contrastive_dim;
  // @ts-expect-error run_batch takes {query, tools} objects
  maybe.run_batch(["q1", "q2"]);
  maybe.free();
  engine.free();

  const tokenizer: NeedleTokenizer = NeedleTokenizer.load(vocab);
  const pieces: number = tokenizer.size;
  const decoded: string = tokenizer.decode(tokenizer.encode("hello"));

  // errors
  try {
    engine.run("hi", "[{");
  } catch (e) {
    if (e instanceof NeedleError) {
      const kind: NeedleErrorKind = e.kind;
      const position: [number | undefined, number | undefined] = [e.line, e.column];
      void [kind, position, e.message];
    }
  }
  const mine = new NeedleError("INPUT", "a message", { cause: new Error("why"), line: 1, column: 2 });
  // @ts-expect-error not a kind
  const wrongKind: NeedleErrorKind = "NETWORK";

  // the download helper, with a stand-in cache and the browser's
  const store = new Map<string, Response>();
  const cache: ModelCache = {
    match: async (url) => store.get(url)?.clone(),
    put: async (url, response) => void store.set(url, response),
  };
  const standIn: ModelCacheStorage = { open: async (name: string) => (void name, cache) };
  const browserCaches: ModelCacheStorage = caches;
  const downloadOptions: DownloadOptions = {
    weightsUrl: DEFAULT_WEIGHTS_URL,
    vocabUrl: new URL(DEFAULT_VOCAB_URL),
    onProgress: (p: DownloadProgress) => {
      const file: "weights" | "vocab" = p.file;
      const total: number | null = p.total;
      void [file, p.url, p.loaded, total, p.fromCache, p.done];
    },
    cache: true,
    cacheName: DEFAULT_CACHE_NAME,
    caches: standIn,
    fetch,
    signal: AbortSignal.timeout(60_000),
    weightsSha256: "0".repeat(64),
    vocabSha256: { sha256: "0".repeat(64), source: "VOCAB_SHA256" },
  };
  // options typed DownloadOptions may have null URLs: each file may be null
  const maybeFiles: { weights: Uint8Array | null; vocab: string | null } = await downloadModel(downloadOptions);
  // @ts-expect-error the weights may be null with such options
  const notSure: Uint8Array = (await downloadModel(downloadOptions)).weights;
  // no URLs given, or URLs: the files
  const files: { weights: Uint8Array; vocab: string } = await downloadModel({ weightsSha256: "0".repeat(64) });
  const given: Uint8Array = (await downloadModel({ weightsUrl: DEFAULT_WEIGHTS_URL, vocabUrl: new URL(DEFAULT_VOCAB_URL) })).weights;
  const integrity: FileIntegrity = (await downloadModel({ caches: browserCaches })).integrity.weights;
  // a null URL: that file is null
  const vocabOnly: { weights: null; vocab: string; integrity: { weights: null; vocab: FileIntegrity } } =
    await downloadModel({ weightsUrl: null });
  const typedResult: DownloadedModel = await downloadModel(downloadOptions);
  const skipped: DownloadedFile<{ weightsUrl: null }, "weightsUrl", Uint8Array> = null;
  // untyped options (JavaScript's any): the file or null
  const untyped: any = { weightsUrl: null };
  const fromJs: DownloadedFile<{ weightsUrl: typeof untyped }, "weightsUrl", Uint8Array> = null;
  // @ts-expect-error it may be null
  const fromJsSure: Uint8Array = (await downloadModel({ weightsUrl: untyped })).weights;
  // @ts-expect-error a file asked for is not null
  const fetched: DownloadedFile<{ weightsUrl: string }, "weightsUrl", Uint8Array> = null;
  const status: "pinned" | "hub" | "not_verified" = integrity.status;
  const expected: string | null = integrity.expected;
  const pin: PinnedSha256 = integrity.sha256;
  void [status, expected, pin, integrity.algorithm, integrity.source, integrity.note, integrity.fromCache];
  await downloadModel({ vocabUrl: null });
  await downloadModel();

  // streamed weights: a Response, a ReadableStream, (async) iterables of chunks
  const loadStreamOptions: LoadStreamOptions = {
    simd: true, length: weights.length, sha256: { sha256: "0".repeat(64), source: "PIN" },
    onProgress: ({ loaded, total }) => void [loaded / total],
  };
  const fromResponse: NeedleWasm = await NeedleWasm.loadStream(await fetch(DEFAULT_WEIGHTS_URL), vocab, loadStreamOptions);
  const chunk = new Uint8Array(8);
  const sources: WeightSource[] = [new Response(chunk), new Blob([chunk]).stream(), [chunk, chunk.buffer],
    (async function* () { yield chunk; })()];
  await NeedleWasm.loadStream(sources[1], null);
  // @ts-expect-error a string is no stream of bytes
  await NeedleWasm.loadStream("needle.safetensors", vocab);
  // @ts-expect-error the length is a number
  await NeedleWasm.loadStream(sources[0], vocab, { length: "22 MB" });
  const modelOptions: LoadModelOptions = { ...downloadOptions, weightsUrl: DEFAULT_WEIGHTS_URL, simd: false, vocab: null };
  const loaded: LoadedModel = await loadModel(modelOptions);
  const loadedVocab: FileIntegrity | null = loaded.integrity.vocab;
  const loadedWeights: FileIntegrity = loaded.integrity.weights;
  void [loaded.model.run("hi", []), loaded.weightsBytes, loadedVocab, loadedWeights];
  // @ts-expect-error loadModel needs the weights' URL
  await loadModel({ weightsUrl: null });

  void [ready, json, modelText, renamed, badForm, simd, text, numbers, complete, streamed, batch, ranking, back,
    generated, sizes, source, shape, flags, loadMs, pieces, decoded, mine, wrongKind, files, out, final, texts, dim,
    ranked, notANumber, maybeFiles, notSure, given, vocabOnly, typedResult, skipped, fetched, fromJs, fromJsSure,
    fromResponse];
}
