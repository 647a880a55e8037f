package io.needle.wasm;

import io.needle.tools.ToolReport;
import io.needle.engine.BatchItem;
import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.engine.TokenListener;
import io.needle.engine.ToolScore;
import io.needle.json.Json;
import io.needle.safetensors.SafeTensors;
import io.needle.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.teavm.jso.JSExport;
import org.teavm.jso.JSProperty;

/**
 * The WebAssembly entry point: TeaVM compiles this class, and everything it reaches in
 * needle-engine-portable, to {@code needle.wasm}. Its static {@link JSExport} methods are the
 * module's exports ({@link #load}, {@link #loadTokenizer}); {@link #load} returns an engine object
 * whose exported methods mirror {@link NeedleEngine}.
 *
 * <p>This is the raw layer under the npm package {@code needle-java-wasm}, whose JavaScript
 * wrapper gives the public API (see npm-package/README.md). Only strings, numbers, booleans, int
 * and byte arrays and one callback cross the boundary: structured arguments and results are JSON
 * texts, int[] results arrive as {@code Int32Array}s. A {@link NeedleException} arrives in
 * JavaScript as an error whose message is {@code "NeedleException[KIND] message"} ({@link
 * WasmError}).
 *
 * <p>Raw use, for reference (Node 22+ or a browser with Wasm GC; the package does this for you):
 * <pre>
 * const weights = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length); // the fast copy path
 * const engine = exports.load(weights, vocabText);
 * const result = JSON.parse(engine.runDetailed(query, toolsJson, 511, true));
 * </pre>
 */
public final class NeedleWasm {
    private NeedleEngine engine; // null after free()
    private LinearMemory simdFile; // the weight file in the linear memory, for the SIMD kernels
    private boolean simd; // the SIMD kernels are installed
    /**
     * The linear memory of the last freed engine's weight file, reused by the next engine that
     * fits in it (the linear memory never shrinks, and a freed block otherwise waits for the
     * garbage collector): loading, freeing and loading again does not grow it.
     */
    private static LinearMemory spareFile;

    private NeedleWasm(NeedleEngine engine) {
        this.engine = engine;
    }

    /**
     * Loads an engine from the bytes of a .safetensors file and the text of vocab.txt (vocab may be
     * null: generate-only use). The engine keeps this byte[] (TeaVM's one copy of the JavaScript
     * bytes) and no other copy of the weights. Pass the bytes as an {@code Int8Array}: other array
     * types are copied element by element, which is slow for a weight file.
     */
    @JSExport
    public static NeedleWasm load(byte[] weights, String vocabText) {
        return WasmError.guard(() -> new NeedleWasm(NeedleEngine.load(weights, vocabText)));
    }

    /**
     * The engine's reading of a tools text, without a model: a JSON object {@code {"json", "text",
     * "tools": [{"index", "name", "original", "description", "form", "parameters": [{"name",
     * "type", "required", "enum"}], "definition"}], "renamed": {snake: original}, "problems":
     * [{"index", "message", "line"?, "column"?}]}}; see {@link ToolReport}. Never fails on the
     * text itself: text that is not JSON gives {@code "json": false} and a problem with the
     * parser's position.
     */
    @JSExport
    public static String normalizeTools(String toolsJson) {
        return WasmError.guard(() -> Json.write(ToolReport.of(toolsJson)));
    }

    /** A tokenizer alone, without weights. */
    @JSExport
    public static NeedleTokenizer loadTokenizer(String vocabText) {
        return WasmError.guard(() -> {
            if (vocabText == null) {
                throw new NeedleException(NeedleException.Kind.VOCAB, "no vocabulary text given (null)");
            }
            return new NeedleTokenizer(Tokenizer.fromVocab(vocabText));
        });
    }

    /**
     * Loads an engine whose matrix products run in the Wasm SIMD kernels of npm-package's
     * needle-simd.wasm (see {@link SimdKernels}), chosen here for good, with <b>one copy of the
     * weights</b>: the file is only in the linear memory, where that module computes on it, and
     * never in a Java array. {@code head} is the file's first bytes (its 8-byte length prefix and
     * JSON header; fewer when the file is shorter), {@code length} the whole file's length; once
     * the header is read and checked, {@code filler} copies the whole file, in bulk, into the block
     * reserved at the address it is given. A file with a layer the kernels do not take (see
     * {@link SimdKernels#takesAll}) is then also copied into a Java array for the portable kernels.
     * Only where the host has Wasm SIMD ({@link SimdKernels#available}; the package checks it and
     * uses {@link #load} elsewhere).
     */
    @JSExport
    public static NeedleWasm loadSimd(byte[] head, int length, String vocabText, FileFiller filler) {
        if (filler == null) {
            throw WasmError.of(new NeedleException(NeedleException.Kind.WEIGHTS, "no weight bytes given"));
        }
        WeightUpload upload = reserveSimd(head, length);
        try {
            filler.fill(upload.getAddress());
        } catch (RuntimeException e) {
            upload.release();
            throw e;
        }
        return upload.finish(vocabText);
    }

    /**
     * The first half of {@link #loadSimd} for bytes that arrive over time (the package's
     * {@code loadStream}): reads and checks the header in {@code head} (the file's first bytes, at
     * least its length prefix and JSON header unless the file is shorter) for a file of
     * {@code length} bytes and reserves the block; the caller copies the file there and calls
     * {@link WeightUpload#finish}, or {@link WeightUpload#release} if the bytes do not all arrive.
     */
    @JSExport
    public static WeightUpload reserveSimd(byte[] head, int length) {
        return WasmError.guard(() -> {
            if (!SimdKernels.available()) {
                throw new NeedleException(NeedleException.Kind.INPUT,
                        "the Wasm SIMD kernels are not available on this host: load the weights with load()");
            }
            if (head == null) {
                throw new NeedleException(NeedleException.Kind.WEIGHTS, "no weight bytes given");
            }
            LinearMemoryFile source = new LinearMemoryFile(head, length);
            SafeTensors st = SafeTensors.parse(source); // the header only, from head
            return new WeightUpload(source, st, length, fileMemory(SimdKernels.fileBlockBytes(st)));
        });
    }

    /** The engine on a block that holds the whole file (see {@link WeightUpload#finish}). */
    static NeedleWasm loadFilled(LinearMemoryFile source, SafeTensors st, int length, LinearMemory block,
            String vocabText) {
        try {
            source.filled(block);
            byte[] copy = null;
            if (!SimdKernels.takesAll(st)) {
                copy = new byte[length];
                block.getBytes(0, copy, 0, length);
                st = SafeTensors.parse(copy);
            }
            NeedleWasm w = new NeedleWasm(NeedleEngine.load(st, vocabText, new SimdKernels(block, length, copy)));
            w.simdFile = block;
            w.simd = true;
            return w;
        } catch (RuntimeException e) {
            spare(block); // a failed load (a bad tensor, a vocabulary that does not fit) does not grow the memory
            throw e;
        }
    }

    /** Keeps a weight-file block no engine uses any more for the next load (the larger one of two). */
    static void spare(LinearMemory block) {
        if (spareFile == null || block.size > spareFile.size) {
            spareFile = block;
        }
    }

    private static LinearMemory fileMemory(int size) {
        LinearMemory m = spareFile;
        if (m != null && m.size >= size) {
            spareFile = null;
            return m;
        }
        return new LinearMemory(size);
    }

    /** Whether the Wasm SIMD kernels are in use (see {@link #loadSimd}). */
    @JSExport
    @JSProperty
    public boolean isSimd() {
        return simd;
    }

    /** Runs (query, tools) with default options (constrained, up to 511 tokens); returns the text. */
    @JSExport
    public String run(String query, String toolsJson) {
        return WasmError.guard(() -> engine().run(query, toolsJson).text);
    }

    /**
     * Runs (query, tools); returns the JSON object {@code {"text", "calls", "complete", "tokens",
     * "timings":{"load_ms", "encode_ms", "decode_ms", "prefill_tokens", "decode_tokens"}}}, as the
     * command line's {@code run --json}.
     */
    @JSExport
    public String runDetailed(String query, String toolsJson, int maxNewTokens, boolean constrain) {
        return WasmError.guard(() -> resultJson(engine().run(query, toolsJson, options(maxNewTokens, constrain))));
    }

    /**
     * As {@link #runDetailed}; with {@code ignoreEos} the end-of-sequence token is never chosen, so
     * exactly maxNewTokens steps run (benchmarks; see RunOptions.ignoreEos).
     */
    @JSExport
    public String runDetailedEos(String query, String toolsJson, int maxNewTokens, boolean constrain,
            boolean ignoreEos) {
        return runDetailedWith(query, toolsJson, maxNewTokens, constrain, ignoreEos, false);
    }

    /**
     * As {@link #runDetailedEos}; with {@code requireCall} (constrained decoding) the grammar refuses
     * {@code []} while a tool can be called, so the answer holds at least one call (RunOptions.requireCall:
     * OpenAI's tool_choice "required", or a named function with a one-tool list).
     */
    @JSExport
    public String runDetailedWith(String query, String toolsJson, int maxNewTokens, boolean constrain,
            boolean ignoreEos, boolean requireCall) {
        return WasmError.guard(() -> resultJson(engine().run(query, toolsJson,
                options(maxNewTokens, constrain).ignoreEos(ignoreEos).requireCall(requireCall))));
    }

    /**
     * As {@link #runDetailed}, calling {@code onToken(id, piece)} for each generated token as it is
     * produced. The pieces plus the returned text's remainder (held-back bytes, usually none) make
     * the text.
     */
    @JSExport
    public String runStream(String query, String toolsJson, int maxNewTokens, boolean constrain,
            TokenCallback onToken) {
        return runStreamWith(query, toolsJson, maxNewTokens, constrain, false, onToken);
    }

    /** As {@link #runStream}, with {@code requireCall} as in {@link #runDetailedWith}. */
    @JSExport
    public String runStreamWith(String query, String toolsJson, int maxNewTokens, boolean constrain,
            boolean requireCall, TokenCallback onToken) {
        return WasmError.guard(() -> {
            RunOptions options = options(maxNewTokens, constrain).requireCall(requireCall);
            if (onToken != null) {
                options.listener(new TokenListener() {
                    @Override
                    public void onToken(int tokenId, String piece) {
                        onToken.onToken(tokenId, piece);
                    }
                });
            }
            return resultJson(engine().run(query, toolsJson, options));
        });
    }

    /**
     * Runs many pairs: {@code pairsJson} is a JSON array of {@code {"query": text, "tools": text}}
     * (tools as a JSON text, as {@link #run} takes it). Returns a JSON array of results (see
     * {@link #runDetailed}), in order.
     */
    @JSExport
    public String runBatch(String pairsJson, int maxNewTokens, boolean constrain) {
        return WasmError.guard(() -> {
            NeedleEngine e = engine();
            List<BatchItem> items = batchItems(pairsJson);
            List<Object> results = new ArrayList<>();
            for (RunResult r : e.runBatch(items, options(maxNewTokens, constrain))) {
                results.add(resultMap(r));
            }
            return Json.write(results);
        });
    }

    /**
     * Ranks tool descriptions (a JSON array of strings) by similarity to the query with the
     * model's contrastive head; returns the JSON array {@code [[index, score], ...]}, best first.
     */
    @JSExport
    public String retrieveTools(String query, String descriptionsJson, int topK) {
        return WasmError.guard(() -> {
            NeedleEngine e = engine();
            List<String> descriptions = strings(descriptionsJson, "tool descriptions");
            List<Object> out = new ArrayList<>();
            for (ToolScore s : e.retrieveTools(query, descriptions, topK)) {
                List<Object> pair = new ArrayList<>();
                pair.add(s.index);
                pair.add((double) s.score);
                out.add(pair);
            }
            return Json.write(out);
        });
    }

    /**
     * The contrastive embedding of {@code text} ({@link NeedleEngine#contrastiveEmbedding}: the
     * text encoded alone, at most 256 tokens, L2-normalized), contrastive_dim floats; arrives in
     * JavaScript as a {@code Float32Array}. Fails (WEIGHTS) when the model has no contrastive head.
     */
    @JSExport
    public float[] contrastiveEmbedding(String text) {
        return WasmError.guard(() -> engine().contrastiveEmbedding(text));
    }

    /** The SentencePiece ids of {@code text}. */
    @JSExport
    public int[] tokenize(String text) {
        return WasmError.guard(() -> tokenizer().encode(text == null ? "" : text));
    }

    /** The text of {@code ids}. */
    @JSExport
    public String detokenize(int[] ids) {
        return WasmError.guard(() -> tokenizer().decode(ids));
    }

    /** The encoder input ids {@link #run} would feed the model. */
    @JSExport
    public int[] prompt(String query, String toolsJson) {
        return WasmError.guard(() -> engine().prompt(query, toolsJson));
    }

    /** Encoder + greedy decoder on raw encoder ids, unconstrained; generated ids, eos excluded. */
    @JSExport
    public int[] generate(int[] encoderIds, int maxNewTokens) {
        return WasmError.guard(() -> engine().generate(encoderIds, maxNewTokens));
    }

    /** Encoder + greedy decoder on raw encoder ids, constrained by the grammar of {@code toolsJson}. */
    @JSExport
    public int[] generateConstrained(int[] encoderIds, String toolsJson, int maxNewTokens) {
        return WasmError.guard(() -> engine().generate(encoderIds, toolsJson, options(maxNewTokens, true)));
    }

    /**
     * The model configuration as a JSON object text ({@link io.needle.model.Config#toMap}: export.py's
     * metadata names vocab_size, d_model, ..., max_enc_len, ffn_dim, then head_dim, contrastive_hidden,
     * contrastive_dim, source).
     */
    @JSExport
    public String config() {
        return WasmError.guard(() -> Json.write(engine().config().toMap()));
    }

    /** Whether the weights have a contrastive head (needed by {@link #retrieveTools}). */
    @JSExport
    @JSProperty
    public boolean isHasContrastiveHead() {
        return WasmError.guard(() -> engine().model().hasContrastiveHead());
    }

    /** Whether the engine was loaded with a vocabulary. */
    @JSExport
    @JSProperty
    public boolean isHasVocab() {
        return WasmError.guard(() -> engine().tokenizer() != null);
    }

    /** Milliseconds {@link #load} took. */
    @JSExport
    @JSProperty
    public double getLoadMs() {
        return WasmError.guard(() -> engine().loadMs());
    }

    /** Drops the engine (weights, caches) so the garbage collector can reclaim it; later calls fail. */
    @JSExport
    public void free() {
        engine = null; // the linear memory of the SIMD kernels is released with the engine (GC)
        if (simdFile != null) {
            spare(simdFile);
        }
        simd = false;
        simdFile = null;
    }

    private NeedleEngine engine() {
        if (engine == null) {
            throw new NeedleException(NeedleException.Kind.INPUT, "this engine was freed (free() was called)");
        }
        return engine;
    }

    private Tokenizer tokenizer() {
        Tokenizer t = engine().tokenizer();
        if (t == null) {
            throw new NeedleException(NeedleException.Kind.VOCAB, "this engine was loaded without a vocabulary (vocab.txt)");
        }
        return t;
    }

    private static RunOptions options(int maxNewTokens, boolean constrain) {
        return new RunOptions().maxNewTokens(maxNewTokens).constrain(constrain);
    }

    private static List<BatchItem> batchItems(String pairsJson) {
        Object parsed = Json.parse(pairsJson == null ? "null" : pairsJson);
        if (!(parsed instanceof List)) {
            throw new NeedleException(NeedleException.Kind.INPUT, "the batch must be a JSON array of {query, tools} objects");
        }
        List<BatchItem> items = new ArrayList<>();
        List<?> list = (List<?>) parsed;
        for (int i = 0; i < list.size(); i++) {
            Object o = list.get(i);
            Object query = o instanceof Map ? ((Map<?, ?>) o).get("query") : null;
            Object tools = o instanceof Map ? ((Map<?, ?>) o).get("tools") : null;
            if (!(query instanceof String) || !(tools instanceof String)) {
                throw new NeedleException(NeedleException.Kind.INPUT,
                        "batch item " + i + " must be an object with a string query and tools as a JSON text");
            }
            items.add(new BatchItem((String) query, (String) tools));
        }
        return items;
    }

    private static List<String> strings(String json, String what) {
        Object parsed;
        try {
            parsed = Json.parse(json == null ? "null" : json);
        } catch (NeedleException e) {
            // needle-rs's retrieve_tools takes the descriptions as a JSON text the caller writes
            String m = e.getMessage();
            throw new NeedleException(e.kind(), "the " + what + " are not valid JSON: "
                    + (m.startsWith("invalid JSON: ") ? m.substring("invalid JSON: ".length()) : m));
        }
        if (!(parsed instanceof List)) {
            throw new NeedleException(NeedleException.Kind.INPUT, "the " + what + " must be an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) parsed) {
            if (!(o instanceof String)) {
                throw new NeedleException(NeedleException.Kind.INPUT, "the " + what + " must be an array of strings");
            }
            out.add((String) o);
        }
        return out;
    }

    private static String resultJson(RunResult r) {
        return Json.write(resultMap(r));
    }

    private static Map<String, Object> resultMap(RunResult r) {
        Map<String, Object> timings = new LinkedHashMap<>();
        timings.put("load_ms", r.timings.loadMs);
        timings.put("encode_ms", r.timings.encodeMs);
        timings.put("decode_ms", r.timings.decodeMs);
        timings.put("prefill_tokens", r.timings.prefillTokens);
        timings.put("decode_tokens", r.timings.decodeTokens);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", r.text);
        m.put("calls", r.calls);
        m.put("complete", r.complete);
        m.put("tokens", r.tokens);
        m.put("timings", timings);
        return m;
    }
}
