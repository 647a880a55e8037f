package io.needle.engine;

import io.needle.base.SpecialTokens;
import io.needle.base.Clock;
import io.needle.base.NeedleException;
import io.needle.decoding.Decoding;
import io.needle.decoding.Generation;
import io.needle.decoding.Prompt;
import io.needle.grammar.DecodeConstraint;
import io.needle.tools.NameRestorer;
import io.needle.tools.ToolCatalog;
import io.needle.grammar.ConstrainedDecoder;
import io.needle.grammar.TokenTexts;
import io.needle.grammar.TokenTrie;
import io.needle.grammar.ToolGrammar;
import io.needle.json.Json;
import io.needle.model.Config;
import io.needle.model.DecoderBatch;
import io.needle.model.DecoderState;
import io.needle.model.Kernels;
import io.needle.model.NeedleModel;
import io.needle.model.WeightLoader;
import io.needle.safetensors.SafeTensors;
import io.needle.tokenizer.StreamDecoder;
import io.needle.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * The engine API: load a Needle weight file and vocabulary from memory, then turn (query, tools)
 * into tool-call text. Portable Java: the same class runs on the JVM and, through TeaVM, in Wasm.
 *
 * <pre>
 * NeedleEngine engine = NeedleEngine.load(weightBytes, vocabText);
 * RunResult r = engine.run("What's the weather in Paris?", toolsJson);
 * r.text   // [{"name":"get_weather","arguments":{"location":"Paris"}}]
 * </pre>
 *
 * The engine keeps the weight bytes it is given (INT4 linears and the embedding are read from
 * them in place) and is safe to reuse for many requests, one at a time.
 */
public final class NeedleEngine {
    /** The {@code <tool_call>} id the model emits first. */
    /**
     * Longest query, tools text or retrieval text the engine takes, in chars: 1 MiB. The encoder
     * keeps at most 1024 tokens (a few KB of text) and tokenizing needs about 60 bytes of working
     * memory per char, so longer texts are refused (INPUT) rather than exhausting memory; texts
     * up to the limit are cut by the recipe's token rule (docs/spec/MODEL.md section 3), never refused.
     */
    public static final int MAX_TEXT_LENGTH = 1 << 20;
    /**
     * Longest normalized tools text (what is tokenized), in chars: 4 MiB. Normalizing writes each
     * non-ASCII char and DEL as a 6-char {@code \\uXXXX} escape, which is at most 3 chars per
     * UTF-8 byte of non-ASCII text, so a tools text of 1 MiB of UTF-8 fits (unless it is mostly
     * raw DEL characters).
     */
    public static final int MAX_NORMALIZED_TOOLS_LENGTH = 4 << 20;

    private final NeedleModel model;
    private final Tokenizer tokenizer;
    private final double loadMs;
    private volatile TokenTrie trie; // built on the first constrained request (volatile: published whole to other threads)

    private NeedleEngine(NeedleModel model, Tokenizer tokenizer, double loadMs) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.loadMs = loadMs;
    }

    /**
     * Loads weights (the bytes of a .safetensors file, kept by reference) and a vocab.txt text.
     * vocabText may be null for generate-only use (raw ids in, ids out).
     *
     * @throws NeedleException on a malformed file, a missing tensor or a vocabulary that does not
     *     fit the model
     */
    public static NeedleEngine load(byte[] weights, String vocabText) {
        return load(weights, vocabText, null);
    }

    /**
     * As {@link #load(byte[], String)}, with a host's faster kernels ({@link Kernels}: the Wasm
     * SIMD module, the JVM's parallel kernels) installed for good; null: the portable kernels.
     * The kernels compute the portable kernels' floats, so the tokens are the same either way.
     */
    public static NeedleEngine load(byte[] weights, String vocabText, Kernels kernels) {
        double t0 = Clock.nowMs();
        if (weights == null) {
            throw new NeedleException(NeedleException.Kind.WEIGHTS, "no weight bytes given");
        }
        return load(SafeTensors.parse(weights), vocabText, kernels, t0);
    }

    /**
     * As {@link #load(byte[], String, Kernels)} from a parsed file, which may be held by the host
     * outside the Java heap ({@link io.needle.safetensors.WeightBytes}: the npm package's linear
     * memory, one copy of the weights); the host's kernels must then take every layer that reads
     * the file's large tensors ({@link WeightLoader#load(SafeTensors, Kernels)}).
     */
    public static NeedleEngine load(SafeTensors weights, String vocabText, Kernels kernels) {
        return load(weights, vocabText, kernels, Clock.nowMs());
    }

    private static NeedleEngine load(SafeTensors weights, String vocabText, Kernels kernels, double t0) {
        NeedleModel model = WeightLoader.load(weights, kernels);
        Tokenizer tok = null;
        if (vocabText != null) {
            tok = Tokenizer.fromVocab(vocabText);
            if (tok.size() != model.config.vocabSize) {
                throw new NeedleException(NeedleException.Kind.VOCAB, "the vocabulary has " + tok.size()
                        + " entries but the model's vocab_size is " + model.config.vocabSize);
            }
        }
        return new NeedleEngine(model, tok, Clock.nowMs() - t0);
    }

    public Config config() {
        return model.config;
    }

    /** The underlying model (forward pass), for tests and tools. */
    public NeedleModel model() {
        return model;
    }

    /** The tokenizer, or null when loaded without a vocabulary. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Milliseconds {@link #load} took. */
    public double loadMs() {
        return loadMs;
    }

    public RunResult run(String query, String toolsJson) {
        return run(query, toolsJson, new RunOptions());
    }

    /**
     * Runs one request: builds the encoder input from query and tools, decodes greedily
     * (constrained unless {@code options.constrain(false)}), and returns the tool-call text.
     */
    public RunResult run(String query, String toolsJson, RunOptions options) {
        if (options == null) {
            options = new RunOptions();
        }
        Request r = prepare(query, toolsJson, options);
        Generation g = Generation.run(model, r.input, options.maxNewTokens(), r.constraint, r.ids,
                options.ignoreEos());
        return r.finish(g);
    }

    /** One request between its prompt and its result: the input ids, the grammar, the text as it streams. */
    private final class Request {
        final int[] input;
        final double promptMs;
        final ConstrainedDecoder grammar;
        final DecodeConstraint constraint;
        final Generation.IdListener ids;
        final TokenListener listener;
        final StreamDecoder stream;
        final NameRestorer names;
        final StringBuilder out = new StringBuilder();

        Request(int[] input, double promptMs, ConstrainedDecoder grammar, DecodeConstraint constraint,
                TokenListener listener, StreamDecoder stream, NameRestorer names) {
            this.input = input;
            this.promptMs = promptMs;
            this.grammar = grammar;
            this.constraint = constraint;
            this.listener = listener;
            this.stream = stream;
            this.names = names;
            // the text is built as it streams: detokenized piece by piece, tool names restored
            final boolean[] first = {true};
            this.ids = id -> {
                boolean leadingToolCall = first[0] && id == SpecialTokens.TOOL_CALL;
                first[0] = false;
                String piece = leadingToolCall ? "" : names.push(stream.push(id));
                out.append(piece);
                if (listener != null) {
                    listener.onToken(id, piece);
                }
            };
        }

        RunResult finish(Generation g) {
            String tail = names.push(stream.finish()) + names.finish();
            out.append(tail);
            if (listener != null) {
                listener.onFinish(tail);
            }
            String text = out.toString();
            List<Object> calls = parseCalls(text);
            Timings timings = new Timings(0, promptMs + g.encodeMs, g.decodeMs, input.length, g.steps);
            // constrained: the closing ']' completes the output even when the budget ends before the
            // (then forced) eos step
            boolean complete = g.stoppedAtEos || (grammar != null && grammar.isDone());
            return new RunResult(text, calls, complete, g.ids, timings);
        }
    }

    /** Checks the request and builds its encoder input and grammar (what run() does before decoding). */
    private Request prepare(String query, String toolsJson, RunOptions options) {
        Tokenizer tok = requireTokenizer();
        double t0 = Clock.nowMs();
        checkLength("the query", query);
        ToolCatalog catalog = catalog(toolsJson);
        if (!catalog.isJson()) {
            // the recipe would feed such text as is (see prompt()), but a router given unreadable
            // tools can only answer [], which hides the caller's mistake
            throw new NeedleException(NeedleException.Kind.JSON, "the tools are not valid JSON: " + jsonError(toolsJson));
        }
        int[] input = Prompt.encoderInput(tok, query == null ? "" : query, catalog, model.config.maxEncLen);
        double promptMs = Clock.nowMs() - t0;
        ConstrainedDecoder grammar = constraintFor(options, catalog);
        DecodeConstraint constraint = grammar;
        if (options.wrapper() != null) {
            constraint = options.wrapper().wrap(grammar);
        }
        return new Request(input, promptMs, grammar, constraint, options.listener(), new StreamDecoder(tok),
                new NameRestorer(catalog.renamedOriginals()));
    }

    /** Requests decoded together by {@link #runBatch} (each holds a decoder's KV cache of up to 511 positions). */
    static final int BATCH_SIZE = 8;

    /**
     * Runs many (query, tools) pairs; the results are those of one-by-one {@link #run} calls with
     * the same options, in order. A pair that fails (tools not JSON) fails the whole call with the
     * item's index in the message.
     *
     * <p>Up to {@value #BATCH_SIZE} requests at a time are decoded together ({@link
     * DecoderBatch}: each linear layer runs once per step for all of them), with the same tokens
     * as one by one. Each result's decode time is that of the batch steps it took part in. With a
     * token listener the requests run one by one, so that the listener hears each item whole, in
     * order.
     */
    public List<RunResult> runBatch(List<BatchItem> items, RunOptions options) {
        if (items == null) {
            throw new NeedleException(NeedleException.Kind.INPUT, "no batch items given (null)");
        }
        if (options == null) {
            options = new RunOptions();
        }
        List<RunResult> results = new ArrayList<>();
        for (int from = 0; from < items.size(); from += BATCH_SIZE) {
            int to = Math.min(items.size(), from + BATCH_SIZE);
            if (options.listener() != null) {
                for (int i = from; i < to; i++) {
                    BatchItem item = item(items, i);
                    try {
                        results.add(run(item.query, item.tools, options));
                    } catch (NeedleException e) {
                        throw new NeedleException(e.kind(), "batch item " + i + ": " + e.getMessage());
                    }
                }
            } else {
                results.addAll(decodeTogether(items, from, to, options));
            }
        }
        return results;
    }

    private static BatchItem item(List<BatchItem> items, int i) {
        BatchItem item = items.get(i);
        if (item == null) {
            throw new NeedleException(NeedleException.Kind.INPUT, "batch item " + i + " is null");
        }
        return item;
    }

    /** Items [from, to): prompts and encoders one by one, then the decoders stepping together. */
    private List<RunResult> decodeTogether(List<BatchItem> items, int from, int to, RunOptions options) {
        int count = to - from;
        int max = options.maxNewTokens();
        Request[] requests = new Request[count];
        DecoderState[] decoders = new DecoderState[count];
        Decoding[] decodings = new Decoding[count];
        double[] encodeMs = new double[count];
        double[] decodeMs = new double[count];
        for (int k = 0; k < count; k++) {
            int i = from + k;
            BatchItem item = item(items, i);
            try {
                requests[k] = prepare(item.query, item.tools, options);
                Generation.checkMaxNewTokens(max);
                Generation.checkEncoderInput(requests[k].input, model.config.maxEncLen);
                int[] input = requests[k].input;
                double t0 = Clock.nowMs();
                decoders[k] = model.encodeAndStart(input, max);
                encodeMs[k] = Clock.nowMs() - t0;
            } catch (NeedleException e) {
                throw new NeedleException(e.kind(), "batch item " + i + ": " + e.getMessage());
            }
            decodings[k] = new Decoding(model.config.vocabSize, max, requests[k].constraint, requests[k].ids,
                    options.ignoreEos());
        }
        DecoderBatch batch = new DecoderBatch(model);
        DecoderState[] states = new DecoderState[count];
        int[] tokens = new int[count];
        int[][] subsets = new int[count][];
        int[] subsetCounts = new int[count];
        int[] active = new int[count];
        while (true) {
            int n = 0;
            for (int k = 0; k < count; k++) {
                if (decodings[k].next()) {
                    active[n] = k;
                    states[n] = decoders[k];
                    tokens[n] = decodings[k].token();
                    subsets[n] = decodings[k].subset();
                    subsetCounts[n] = subsets[n] == null ? 0 : subsets[n].length;
                    n++;
                }
            }
            if (n == 0) {
                break;
            }
            double t0 = Clock.nowMs();
            batch.step(states, tokens, subsets, subsetCounts, n);
            for (int a = 0; a < n; a++) {
                int k = active[a];
                try {
                    decodings[k].take(DecoderBatch.logits(states[a]));
                } catch (NeedleException e) {
                    throw new NeedleException(e.kind(), "batch item " + (from + k) + ": " + e.getMessage());
                }
            }
            double ms = Clock.nowMs() - t0;
            for (int a = 0; a < n; a++) {
                decodeMs[active[a]] += ms;
            }
        }
        for (DecoderState decoder : decoders) {
            decoder.release();
        }
        List<RunResult> results = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            results.add(requests[k].finish(Generation.of(decodings[k], encodeMs[k], decodeMs[k])));
        }
        return results;
    }

    /** The default number of retrieval results. */
    public static final int DEFAULT_TOP_K = 5;
    /** Retrieval texts are encoded alone and truncated to this many tokens. */
    public static final int RETRIEVAL_MAX_TOKENS = 256;

    /** {@link #retrieveTools(String, List, int)} with the default top-k ({@value #DEFAULT_TOP_K}). */
    public ToolScore[] retrieveTools(String query, List<String> descriptions) {
        return retrieveTools(query, descriptions, DEFAULT_TOP_K);
    }

    /**
     * Ranks tool descriptions by similarity to the query with the model's contrastive head
     * (docs/spec/MODEL.md section 2): each text is encoded alone (no separator token, at most 256 tokens),
     * pooled and projected; the score is the dot product of the normalized vectors. Returns up to
     * topK results, best first (ties: lower index first).
     *
     * @throws NeedleException when the model has no contrastive head
     */
    public ToolScore[] retrieveTools(String query, List<String> descriptions, int topK) {
        Tokenizer tok = requireTokenizer();
        model.requireContrastiveHead();
        if (topK < 0) {
            throw new NeedleException(NeedleException.Kind.INPUT, "top_k must be >= 0, got " + topK);
        }
        if (descriptions == null) {
            throw new NeedleException(NeedleException.Kind.INPUT, "no tool descriptions given (null)");
        }
        checkLength("the query", query);
        for (int i = 0; i < descriptions.size(); i++) {
            checkLength("tool description " + i, descriptions.get(i));
        }
        float[] q = embedding(tok, query);
        ToolScore[] all = new ToolScore[descriptions.size()];
        for (int i = 0; i < all.length; i++) {
            float[] d = embedding(tok, descriptions.get(i));
            float dot = 0f;
            for (int k = 0; k < q.length; k++) {
                dot += q[k] * d[k];
            }
            all[i] = new ToolScore(i, dot);
        }
        // stable insertion sort by score, best first (n is small)
        for (int i = 1; i < all.length; i++) {
            ToolScore x = all[i];
            int j = i - 1;
            while (j >= 0 && all[j].score < x.score) {
                all[j + 1] = all[j];
                j--;
            }
            all[j + 1] = x;
        }
        int n = Math.min(topK, all.length);
        ToolScore[] top = new ToolScore[n];
        System.arraycopy(all, 0, top, 0, n);
        return top;
    }

    /**
     * The contrastive embedding of a text, as {@link #retrieveTools} computes it for the query and
     * each description (docs/spec/MODEL.md section 2): the text encoded alone (no separator token,
     * at most {@value #RETRIEVAL_MAX_TOKENS} tokens), pooled over its positions, projected and
     * L2-normalized; {@code contrastive_dim} floats. The retrieval score of two texts is the dot
     * product of their embeddings. An empty text pools nothing: the head's output for a zero
     * vector, normalized.
     *
     * @throws NeedleException when the model has no contrastive head (WEIGHTS) or no vocabulary
     */
    public float[] contrastiveEmbedding(String text) {
        Tokenizer tok = requireTokenizer();
        model.requireContrastiveHead();
        checkLength("the text", text);
        return embedding(tok, text);
    }

    private float[] embedding(Tokenizer tok, String text) {
        return model.contrastiveEmbedding(tok.encodePrefix(text == null ? "" : text, RETRIEVAL_MAX_TOKENS));
    }

    /** The encoder input ids run() would feed the model (docs/spec/MODEL.md section 3 steps 1-2). Needs a vocab. */
    public int[] prompt(String query, String toolsJson) {
        Tokenizer tok = requireTokenizer();
        checkLength("the query", query);
        return Prompt.encoderInput(tok, query == null ? "" : query, catalog(toolsJson), model.config.maxEncLen);
    }

    /** Encoder + greedy decoder on raw encoder ids, unconstrained; returns generated ids, eos excluded. */
    public int[] generate(int[] encoderIds, int maxNewTokens) {
        return Generation.run(model, encoderIds, maxNewTokens, null, null).ids;
    }

    /**
     * Encoder + greedy decoder on raw encoder ids. With {@code options.constrain()} the grammar over
     * {@code toolsJson} masks logits (needs a vocab).
     */
    public int[] generate(int[] encoderIds, String toolsJson, RunOptions options) {
        if (options == null) {
            options = new RunOptions();
        }
        DecodeConstraint c = null;
        if (options.constrain()) {
            requireTokenizer();
            c = constraintFor(options, catalog(toolsJson));
        }
        return Generation.run(model, encoderIds, options.maxNewTokens(), c, null, options.ignoreEos()).ids;
    }

    /** The text of generated ids: detokenized, a leading {@code <tool_call>} dropped. */
    public String outputText(int[] ids) {
        Tokenizer tok = requireTokenizer();
        if (ids == null) {
            throw new NeedleException(NeedleException.Kind.INPUT, "no ids given (null)");
        }
        int start = ids.length > 0 && ids[0] == SpecialTokens.TOOL_CALL ? 1 : 0;
        int[] rest = new int[ids.length - start];
        System.arraycopy(ids, start, rest, 0, rest.length);
        return tok.decode(rest);
    }

    private ConstrainedDecoder constraintFor(RunOptions options, ToolCatalog catalog) {
        if (!options.constrain()) {
            return null;
        }
        Tokenizer tok = requireTokenizer();
        TokenTrie t = trie;
        if (t == null) {
            t = new TokenTrie(tok, TokenTexts.of(tok)); // two threads may both build one: equal tries
            trie = t;
        }
        return new ConstrainedDecoder(ToolGrammar.compile(catalog, options.requireCall()), t, t.texts());
    }

    /** The normalized tools of a request, within {@link #MAX_TEXT_LENGTH} and {@link #MAX_NORMALIZED_TOOLS_LENGTH}. */
    private static ToolCatalog catalog(String toolsJson) {
        String text = toolsJson == null ? "[]" : toolsJson;
        checkLength("the tools text", text);
        ToolCatalog catalog = ToolCatalog.parse(text);
        int n = catalog.serialized().length();
        if (n > MAX_NORMALIZED_TOOLS_LENGTH) {
            throw new NeedleException(NeedleException.Kind.INPUT, "the tools text has " + n
                    + " characters once normalized (each non-ASCII character is written as a 6-character"
                    + " \\uXXXX escape), more than the limit of " + MAX_NORMALIZED_TOOLS_LENGTH);
        }
        return catalog;
    }

    private static void checkLength(String what, String text) {
        if (text != null && text.length() > MAX_TEXT_LENGTH) {
            throw new NeedleException(NeedleException.Kind.INPUT, what + " has " + text.length()
                    + " characters, more than the limit of " + MAX_TEXT_LENGTH);
        }
    }

    private static String jsonError(String text) {
        try {
            Json.parse(text);
            return "unknown error";
        } catch (NeedleException e) {
            String m = e.getMessage();
            return m.startsWith("invalid JSON: ") ? m.substring("invalid JSON: ".length()) : m;
        }
    }

    private static List<Object> parseCalls(String text) {
        try {
            Object v = Json.parse(text);
            if (v instanceof List) {
                @SuppressWarnings("unchecked")
                List<Object> list = (List<Object>) v;
                return list;
            }
        } catch (NeedleException e) {
            // not JSON: calls stay null
        }
        return null;
    }

    private Tokenizer requireTokenizer() {
        if (tokenizer == null) {
            throw new NeedleException(NeedleException.Kind.VOCAB, "this engine was loaded without a vocabulary (vocab.txt)");
        }
        return tokenizer;
    }
}
