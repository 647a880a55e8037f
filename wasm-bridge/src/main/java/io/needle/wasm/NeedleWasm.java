package io.needle.wasm;

import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.engine.Timings;
import io.needle.json.Json;
import io.needle.tokenizer.Tokenizer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.teavm.jso.JSExport;
import org.teavm.jso.JSProperty;

/**
 * The WebAssembly entry point: TeaVM compiles this class, and everything it reaches in
 * needle-engine-portable, to {@code needle.wasm}. Its {@link JSExport} methods are the module's
 * JavaScript exports; {@link #load} returns an engine object whose exported methods mirror
 * {@link NeedleEngine}.
 *
 * <p>Only strings, numbers, booleans and int/byte arrays cross the boundary; structured results
 * are JSON texts (parse them with {@code JSON.parse}). Java exceptions (for example
 * {@link io.needle.engine.NeedleException}) surface in JavaScript as thrown errors carrying the
 * Java message.
 *
 * <p>From JavaScript (Node 22+ or a browser with Wasm GC):
 * <pre>
 * import { load } from "./needle-runtime.js";
 * const teavm = await load("needle.wasm");
 * const weights = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length); // fast copy path
 * const engine = teavm.exports.load(weights, vocabText);
 * const result = JSON.parse(engine.run(query, toolsJson));
 * </pre>
 */
public final class NeedleWasm {
    private final NeedleEngine engine;

    private NeedleWasm(NeedleEngine engine) {
        this.engine = engine;
    }

    /**
     * Loads an engine from the bytes of a .safetensors file and the text of vocab.txt (vocab may be
     * null: generate-only use). Pass the bytes as an {@code Int8Array}: other array types are
     * copied element by element, which is slow for a weight file.
     */
    @JSExport
    public static NeedleWasm load(byte[] weights, String vocabText) {
        return new NeedleWasm(NeedleEngine.load(weights, vocabText));
    }

    /** A tokenizer alone, without weights, for tokenization in JavaScript. */
    @JSExport
    public static NeedleTokenizer loadTokenizer(String vocabText) {
        return new NeedleTokenizer(Tokenizer.fromVocab(vocabText));
    }

    /** Runs (query, tools) with default options; returns the result JSON (see {@link #runWith}). */
    @JSExport
    public String run(String query, String toolsJson) {
        return resultJson(engine.run(query, toolsJson));
    }

    /**
     * Runs (query, tools). {@code onToken} (may be null) receives each token as it is generated.
     * Returns the JSON object {@code {"text", "calls", "complete", "tokens", "timings":{"load_ms",
     * "encode_ms", "decode_ms", "prefill_tokens", "decode_tokens"}}}, as the CLI's {@code --json}.
     */
    @JSExport
    public String runWith(String query, String toolsJson, int maxNewTokens, boolean constrain,
            TokenCallback onToken) {
        RunOptions options = new RunOptions().maxNewTokens(maxNewTokens).constrain(constrain);
        if (onToken != null) {
            options.listener(onToken::onToken);
        }
        return resultJson(engine.run(query, toolsJson, options));
    }

    /** The encoder input ids {@link #run} would feed the model. */
    @JSExport
    public int[] prompt(String query, String toolsJson) {
        return engine.prompt(query, toolsJson);
    }

    /** Encoder + greedy decoder on raw encoder ids, unconstrained; generated ids, eos excluded. */
    @JSExport
    public int[] generate(int[] encoderIds, int maxNewTokens) {
        return engine.generate(encoderIds, maxNewTokens);
    }

    /** Encoder + greedy decoder on raw encoder ids, constrained by the tools grammar when asked. */
    @JSExport
    public int[] generateWith(int[] encoderIds, String toolsJson, int maxNewTokens, boolean constrain) {
        return engine.generate(encoderIds, toolsJson,
                new RunOptions().maxNewTokens(maxNewTokens).constrain(constrain));
    }

    /** The model configuration as a JSON object text (metadata names). */
    @JSExport
    public String config() {
        return Json.write(engine.config().toMap());
    }

    /** The engine's tokenizer, or null when it was loaded without a vocabulary. */
    @JSExport
    public NeedleTokenizer tokenizer() {
        Tokenizer t = engine.tokenizer();
        return t == null ? null : new NeedleTokenizer(t);
    }

    /** Milliseconds {@link #load} took. */
    @JSExport
    @JSProperty
    public double getLoadMs() {
        return engine.loadMs();
    }

    private static String resultJson(RunResult r) {
        Map<String, Object> timings = new LinkedHashMap<>();
        Timings t = r.timings;
        timings.put("load_ms", t.loadMs);
        timings.put("encode_ms", t.encodeMs);
        timings.put("decode_ms", t.decodeMs);
        timings.put("prefill_tokens", t.prefillTokens);
        timings.put("decode_tokens", t.decodeTokens);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", r.text);
        m.put("calls", r.calls);
        m.put("complete", r.complete);
        m.put("tokens", r.tokens);
        m.put("timings", timings);
        return Json.write(m);
    }
}
