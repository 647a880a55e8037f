package io.needle.wasm;

import io.needle.tools.ToolReportTest;
import io.needle.tools.ToolReport;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.engine.TokenListener;
import io.needle.engine.ToolScore;
import io.needle.json.Json;
import io.needle.model.Exp;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TensorType;
import io.needle.synthetic.TestVocab;
import io.needle.testing.Shared;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Writes the JVM side of the npm package's parity tests (npm-package/test): generated models and
 * vocabularies, and what the JVM engine answers for them, into the folder named by the system
 * property {@code needle.node.fixtures} (wasm-bridge/TARGET/node-fixtures). The node tests run the
 * same inputs through the packed needle-java-wasm and require identical answers:
 * <ul>
 *   <li>{@code generate}: raw encoder ids → greedy ids (unconstrained), as {@code needle generate};</li>
 *   <li>{@code runs}: (query, tools) → text and token ids, constrained and not, as {@code needle run};</li>
 *   <li>{@code prompts}: (query, tools) → encoder input ids, as {@code needle prompt};</li>
 *   <li>{@code retrieve}: contrastive-head rankings (index, float score);</li>
 *   <li>{@code fullsize}: the full-size random model (about 22.3 MB) with the real vocabulary, one
 *       request, and the JVM's load and run times for the report;</li>
 *   <li>{@code tool_reports}: tool lists (the run's, {@link ToolReportTest}'s sound lists and
 *       problems) → the engine's reading of them ({@link ToolReport}), as {@code normalizeTools};</li>
 *   <li>{@code exp}: a file of float pairs (x, (float) {@link Exp#exp}(x)) over the whole float
 *       range, which the SIMD kernels' exp must give bit for bit.</li>
 * </ul>
 * The manifest is {@code manifest.json}; the folder is rewritten on every run.
 */
class NodeFixturesTest {
    private static final String[] TOOL_SETS = {
        // the flat Needle form, a camelCase name (renamed to snake_case and restored)
        "[{\"name\":\"get_weather\",\"description\":\"Get the current weather for a city\",\"parameters\":"
                + "{\"location\":{\"type\":\"string\",\"description\":\"City name\",\"required\":true},"
                + "\"units\":{\"type\":\"string\",\"description\":\"celsius or fahrenheit\",\"required\":false}}},"
                + "{\"name\":\"setAlarm\",\"description\":\"Set an alarm\",\"parameters\":{\"time\":{\"type\":"
                + "\"string\",\"description\":\"HH:MM\",\"required\":true},\"repeat\":{\"type\":\"boolean\","
                + "\"description\":\"every day\",\"required\":false}}}]",
        // JSON Schema parameters
        "[{\"name\":\"send_message\",\"description\":\"Send a text message\",\"parameters\":{\"type\":\"object\","
                + "\"properties\":{\"recipient\":{\"type\":\"string\",\"description\":\"who\"},\"count\":{\"type\":"
                + "\"integer\",\"description\":\"how many times\"}},\"required\":[\"recipient\"]}}]",
        // the OpenAI form, a name with a dash
        "[{\"type\":\"function\",\"function\":{\"name\":\"play-music\",\"description\":\"Play music\","
                + "\"parameters\":{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},"
                + "\"volume\":{\"type\":\"number\"}},\"required\":[\"query\"]}}}]",
        "[]",
    };

    private static final String[] QUERIES = {
        "What's the weather in Paris?",
        "R\u00e9veille-moi \u00e0 7h \u2600\ufe0f \u2014 \u6771\u4eac\u306e\u5929\u6c17\u306f?",
        "Send Alice a message: \"I'll be late\"\n(twice)",
        "",
    };

    private static final String[] DESCRIPTIONS = {
        "Get the current weather for a city", "Set an alarm at a given time", "Send a text message to a contact",
        "Play music by artist or genre", "Book a table at a restaurant",
    };

    @Test
    void writeFixtures() throws IOException {
        Path dir = Path.of(System.getProperty("needle.node.fixtures", "target/node-fixtures"));
        Files.createDirectories(dir);
        try (var old = Files.list(dir)) {
            for (Path p : old.toList()) {
                Files.delete(p);
            }
        }
        // every variation a real-layout file may hold (docs/spec/WEIGHTS.md): export.py's metadata,
        // an older export's spellings, no metadata at all; F32, BF16 and F16 norms and gates;
        // gates [1] and []; FFN widths that need padded I4 rows; contrastive heads whose hidden
        // width is not d_model / 4; plain float linears next to I4 ones; odd INT4 group sizes
        List<Object> models = new ArrayList<>();
        // export.py's file: metadata, F32 norms, gates [1], every linear I4, no FFN
        models.add(model(dir, "tiny-drelu", ModelWriter.tiny().seed(11), 512, "metadata"));
        // an older export (max_seq_len, d_ff, "false"), BF16 norms, gates [], contrastive hidden 24 (not d/4)
        models.add(model(dir, "swiglu-contrastive", new ModelWriter().seed(12).vocabSize(1024).dModel(64)
                .heads(8, 4).layers(1, 2).ffn(96, "swiglu").contrastive(24, 32)
                .metadata(ModelWriter.Metadata.LEGACY).normDtype(TensorType.BF16).scalarGates(true), 1024, "metadata"));
        // FFN 75 (down_proj rows padded to 96: groups of 32, 32 and 11), F16 norms and gates,
        // rope_theta 1000, plain F32/BF16/F16 linears among the I4 ones, vocab not a multiple of 16
        models.add(model(dir, "geglu-mixed", new ModelWriter().seed(13).vocabSize(700).dModel(128).heads(4, 4)
                .layers(2, 1).ffn(75, "geglu").ropeTheta(1000).normDtype(TensorType.F16)
                .linearDtype("encoder.0.self_attn.wo", TensorType.F32)
                .linearDtype("encoder.1.ffn.up_proj", TensorType.F32)
                .linearDtype("decoder.0.cross_attn.wk", TensorType.F16)
                .linearDtype("decoder.0.ffn.down_proj", TensorType.BF16), 700, "metadata"));
        // no __metadata__ at all (the first export): everything inferred from the tensors; BF16
        // norms, gates [], GQA 8/2, contrastive hidden 40. The Worker's tests (worker/test) route
        // their query bank with it and need varied answers: seed 32 gives, over that bank, empty
        // call lists, several calls, every tool and outputs cut by the budget
        models.add(model(dir, "drelu-gqa-contrastive", new ModelWriter().seed(32).vocabSize(2048).dModel(64)
                .heads(8, 2).layers(1, 1).ffn(64, "drelu").contrastive(40, 64)
                .metadata(ModelWriter.Metadata.NONE).normDtype(TensorType.BF16).scalarGates(true), 2048, "tensors"));
        // odd INT4 groups for the SIMD kernels: d_model 48 (wq/wk/wv/gate/up rows padded from 48
        // to 64: a group of 32 and one of 16), FFN 17 (down_proj: one group of 17 rows, an odd
        // group size, I4 [9, 48]); an F16 embedding (the portable logits)
        models.add(model(dir, "odd-groups", new ModelWriter().seed(15).vocabSize(512).dModel(48).heads(4, 2)
                .layers(2, 2).ffn(17, "drelu").embeddingDtype(TensorType.F16), 512, "metadata"));

        // the shared parity models as the JVM engine reads them (config; the node tests compare
        // their ids with the fixtures' float64 reference themselves)
        List<Object> parity = new ArrayList<>();
        for (String name : Shared.parityModels()) {
            Map<?, ?> spec = Shared.parityCases(name);
            Map<?, ?> model = (Map<?, ?>) spec.get("model");
            NeedleEngine engine = NeedleEngine.load(Shared.bytes("parity/" + model.get("file")), null);
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("name", name);
            p.put("config", engine.config().toMap());
            parity.add(p);
        }

        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("models", models);
        manifest.put("needle_rs", needleRs(dir, List.of("swiglu-contrastive", "drelu-gqa-contrastive"), "tiny-drelu"));
        manifest.put("parity", parity);
        manifest.put("fullsize", fullSize(dir));
        manifest.put("tool_reports", toolReports());
        manifest.put("exp", exp(dir));
        Files.writeString(dir.resolve("manifest.json"), Json.write(manifest), StandardCharsets.UTF_8);
        assertTrue(Files.size(dir.resolve("manifest.json")) > 0);
    }

    /**
     * The inputs of needle-rs's documentation snippets (its README and docs/wasm-integration.md,
     * GitHub Geekgineer/needle-rs) that npm-package/test/needle-rs.test.mjs runs unchanged against
     * needle-java-wasm, with the globals they use: {@code toolsJson}, {@code tools},
     * {@code translatorTools}. {@code tools} is the tool of wasm-integration.md's page example, as
     * its {@code JSON.stringify} writes it.
     */
    static final String NEEDLE_RS_TOOLS_JSON = "[{\"name\":\"book_flight\",\"description\":\"Book a flight\","
            + "\"parameters\":{\"origin\":{\"type\":\"string\",\"description\":\"Departure city or airport\","
            + "\"required\":true},\"destination\":{\"type\":\"string\",\"description\":\"Arrival city or airport\","
            + "\"required\":true},\"date\":{\"type\":\"string\",\"description\":\"Travel date\",\"required\":false}}},"
            + "{\"name\":\"getWeather\",\"description\":\"Get the weather\",\"parameters\":{\"location\":"
            + "{\"type\":\"string\",\"description\":\"City\",\"required\":true}}}]";
    static final String NEEDLE_RS_TOOLS = "[{\"name\":\"get_weather\",\"description\":\"Get current weather for a city\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"}}}}]";
    static final String NEEDLE_RS_TRANSLATOR_TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"translate\","
            + "\"description\":\"Translate a text\",\"parameters\":{\"type\":\"object\",\"properties\":{\"text\":"
            + "{\"type\":\"string\"},\"target_language\":{\"type\":\"string\"}},\"required\":[\"text\",\"target_language\"]}}}]";
    /** (query, tools) of the snippets' runs, then of needle-rs's crates/needle-wasm/tests/node_e2e.js and two more. */
    static final String[][] NEEDLE_RS_RUNS = {
        {"Book a flight from London to JFK tomorrow", NEEDLE_RS_TOOLS_JSON},
        {"Book a flight from London to New York", NEEDLE_RS_TOOLS},
        {"What is the weather in Paris?", NEEDLE_RS_TOOLS},
        {"Translate 'hello' to Spanish", NEEDLE_RS_TRANSLATOR_TOOLS},
        {"What's the weather in Paris?", "[{\"name\":\"get_weather\",\"description\":\"Get weather\","
                + "\"parameters\":{\"location\":{\"type\":\"string\"}}}]"},
        {"Search for Python tutorials", "[{\"name\":\"web_search\",\"description\":\"Search\","
                + "\"parameters\":{\"query\":{\"type\":\"string\"}}}]"},
        {"R\u00e9serve un vol pour T\u014dky\u014d \u2708\ufe0f demain", NEEDLE_RS_TOOLS_JSON},
        {"", NEEDLE_RS_TOOLS},
    };
    /**
     * A tool whose one argument must be a non-ASCII name: the output, when the model calls it,
     * holds characters that only byte pieces spell with the test vocabularies (needle-rs streams
     * and prints those as {@code <0xC3><0xBC>}). The first of these queries whose run calls the
     * tool is recorded, marked {@code non_ascii}.
     */
    static final String NEEDLE_RS_CITY_TOOLS = "[{\"name\":\"set_city\",\"description\":\"Choose the city\","
            + "\"parameters\":{\"city\":{\"type\":\"string\",\"description\":\"City\",\"required\":true,"
            + "\"enum\":[\"Z\u00fcrich\",\"T\u014dky\u014d\",\"Krak\u00f3w\",\"S\u00e3o Paulo\"]}}}]";
    static final String[] NEEDLE_RS_CITY_QUERIES = {
        "Set the city to Z\u00fcrich", "Take me to S\u00e3o Paulo", "Krak\u00f3w please", "Choose the city",
        "T\u014dky\u014d", "city", "Which city? Z\u00fcrich!", "I live in Krak\u00f3w", "weather there",
        "set city", "Go", "Paulo", "Choose Tokyo", "The city of S\u00e3o Paulo", "Pick a city for me",
    };

    /** The texts the snippets and tests embed (encode_contrastive). */
    static final String[] NEEDLE_RS_TEXTS = {
        "weather forecast", "What is the weather in Paris?", "Get weather data", "Search the web",
        "Send an email", "M\u00e9t\u00e9o \u00e0 Paris \u2600\ufe0f", "",
    };
    /** retrieve_tools calls: query, descriptions, top_k (the first is wasm-integration.md's). */
    static final Object[][] NEEDLE_RS_RETRIEVALS = {
        {"What is the weather in Paris?", List.of("Get weather data", "Search the web", "Send an email"), 2},
        {"What's the weather in Paris?", List.of("Get current weather conditions for a location",
                "Search the web for information", "Send an email to a recipient"), 2},
        {"Send Alice a message", Arrays.asList(DESCRIPTIONS), 10},
        {"wake me up at 7", Arrays.asList(DESCRIPTIONS), 0},
    };

    /**
     * What the JVM engine answers to needle-rs's JavaScript API calls on the given models (each
     * with a contrastive head), and the model without a head whose contrastive calls the node test
     * checks: {@code run}: the text of a default run and the (id, piece) pairs a token listener
     * hears; {@code embeddings}: contrastive embeddings; {@code retrievals}: the string needle-rs's
     * retrieve_tools returns, {@code [{"index":i,"score":s}, ...]} with the score written as Rust's
     * {@code {:.6}} writes an f32 (its exact value rounded half to even, the sign kept).
     */
    private static Map<String, Object> needleRs(Path dir, List<String> names, String noHead) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> globals = new LinkedHashMap<>();
        globals.put("toolsJson", NEEDLE_RS_TOOLS_JSON);
        globals.put("tools", NEEDLE_RS_TOOLS);
        globals.put("translatorTools", NEEDLE_RS_TRANSLATOR_TOOLS);
        out.put("globals", globals);
        out.put("no_head_model", noHead);
        List<Object> models = new ArrayList<>();
        for (String name : names) {
            NeedleEngine engine = NeedleEngine.load(Files.readAllBytes(dir.resolve(name + ".safetensors")),
                    Files.readString(dir.resolve(name + ".vocab.txt"), StandardCharsets.UTF_8));
            assertTrue(engine.model().hasContrastiveHead(), name + " has a contrastive head");
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("contrastive_dim", engine.config().contrastiveDim);
            List<Object> runs = new ArrayList<>();
            for (String[] r : NEEDLE_RS_RUNS) {
                runs.add(streamedRun(engine, r[0], r[1]));
            }
            Map<String, Object> nonAscii = null;
            for (String q : NEEDLE_RS_CITY_QUERIES) {
                Map<String, Object> run = streamedRun(engine, q, NEEDLE_RS_CITY_TOOLS);
                if (((String) run.get("text")).chars().anyMatch(c -> c > 127)) {
                    nonAscii = run;
                    break;
                }
            }
            assertTrue(nonAscii != null, name + ": no query of NEEDLE_RS_CITY_QUERIES makes the model call set_city"
                    + " (add queries)");
            nonAscii.put("non_ascii", true);
            runs.add(nonAscii);
            m.put("runs", runs);
            List<Object> embeddings = new ArrayList<>();
            for (String text : NEEDLE_RS_TEXTS) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("text", text);
                List<Object> vector = new ArrayList<>();
                for (float v : engine.contrastiveEmbedding(text)) {
                    vector.add((double) v); // exact: the node test compares Math.fround of it
                }
                e.put("vector", vector);
                embeddings.add(e);
            }
            m.put("embeddings", embeddings);
            List<Object> retrievals = new ArrayList<>();
            for (Object[] r : NEEDLE_RS_RETRIEVALS) {
                @SuppressWarnings("unchecked")
                List<String> descriptions = (List<String>) r[1];
                StringBuilder json = new StringBuilder("[");
                for (ToolScore s : engine.retrieveTools((String) r[0], descriptions, (Integer) r[2])) {
                    json.append(json.length() > 1 ? "," : "").append("{\"index\":").append(s.index)
                            .append(",\"score\":").append(rustFixed6(s.score)).append('}');
                }
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("query", r[0]);
                e.put("descriptions", descriptions);
                e.put("top_k", r[2]);
                e.put("json", json.append(']').toString());
                retrievals.add(e);
            }
            m.put("retrievals", retrievals);
            models.add(m);
        }
        out.put("models", models);
        return out;
    }

    /** A default run with its (id, piece) pairs as a token listener hears them. */
    private static Map<String, Object> streamedRun(NeedleEngine engine, String query, String tools) {
        List<Object> pieces = new ArrayList<>();
        String[] tail = {null};
        RunResult result = engine.run(query, tools, new RunOptions().listener(new TokenListener() {
            @Override
            public void onToken(int id, String piece) {
                pieces.add(List.of(id, piece));
            }

            @Override
            public void onFinish(String rest) {
                tail[0] = rest;
            }
        }));
        assertEquals(engine.run(query, tools).text, result.text);
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("query", query);
        run.put("tools", tools);
        run.put("text", result.text);
        run.put("pieces", pieces);
        run.put("tail", tail[0]);
        return run;
    }

    /** Rust's {@code format!("{:.6}", x)} of an f32: the exact value, rounded half to even, its sign kept. */
    static String rustFixed6(float x) {
        String digits = new BigDecimal((double) x).abs().setScale(6, RoundingMode.HALF_EVEN).toPlainString();
        return (Float.floatToRawIntBits(x) < 0 ? "-" : "") + digits;
    }

    /** Tool lists and the JVM's ToolReport of each. */
    /**
     * exp.bin: little-endian float pairs (x, (float) Exp.exp(x)) for every 9973rd float from -0
     * down to -110 (the softmax's s - max, 112 k of them), every 19997th from +0 up to 89, and the
     * special values (NaN, the infinities, the largest floats, the ends of the range).
     */
    private static Map<String, Object> exp(Path dir) throws IOException {
        List<Float> xs = new ArrayList<>();
        for (int b = Float.floatToRawIntBits(-0f); b <= Float.floatToRawIntBits(-110f); b += 9973) {
            xs.add(Float.intBitsToFloat(b));
        }
        for (int b = 0; b <= Float.floatToRawIntBits(89f); b += 19997) {
            xs.add(Float.intBitsToFloat(b));
        }
        for (float x : new float[] {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -Float.MAX_VALUE,
            Float.MAX_VALUE, -103.97f, -87.3f, 88.72f, 88.73f, Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f}) {
            xs.add(x);
        }
        ByteBuffer out = ByteBuffer.allocate(8 * xs.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : xs) {
            out.putFloat(x).putFloat((float) Exp.exp(x));
        }
        Files.write(dir.resolve("exp.bin"), out.array());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", "exp.bin");
        m.put("count", xs.size());
        return m;
    }

    private static List<Object> toolReports() {
        List<String> texts = new ArrayList<>(Arrays.asList(TOOL_SETS));
        texts.addAll(Arrays.asList(ToolReportTest.SOUND));
        for (String[] c : ToolReportTest.PROBLEMS) {
            texts.add(c[0]);
        }
        texts.add(ToolReportTest.SEVERAL);
        List<Object> out = new ArrayList<>();
        for (String text : texts) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("tools", text);
            m.put("report", ToolReport.of(text));
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> model(Path dir, String name, ModelWriter writer, int vocabSize,
            String source) throws IOException {
        byte[] weights = writer.build();
        String vocab = TestVocab.make(vocabSize, vocabSize);
        Files.write(dir.resolve(name + ".safetensors"), weights);
        Files.writeString(dir.resolve(name + ".vocab.txt"), vocab, StandardCharsets.UTF_8);
        NeedleEngine engine = NeedleEngine.load(weights, vocab);
        assertEquals(vocabSize, engine.config().vocabSize);
        assertEquals(source, engine.config().toMap().get("source"), name + ": where the config came from");

        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("weights", name + ".safetensors");
        m.put("vocab", name + ".vocab.txt");
        m.put("config", engine.config().toMap());

        // raw ids in, unconstrained greedy ids out (needle generate --no-constrain)
        Random random = new Random(name.hashCode());
        List<Object> generate = new ArrayList<>();
        for (int length : new int[] {1, 3, 17, 60}) {
            int[] input = new int[length];
            for (int i = 0; i < length; i++) {
                input[i] = random.nextInt(vocabSize);
            }
            int maxNew = 24;
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("input_ids", input);
            c.put("max_new_tokens", maxNew);
            c.put("ids", engine.generate(input, maxNew));
            generate.add(c);
        }
        m.put("generate", generate);

        // (query, tools) → text and ids, constrained (default) and not
        List<Object> runs = new ArrayList<>();
        List<Object> prompts = new ArrayList<>();
        for (int i = 0; i < QUERIES.length; i++) {
            String tools = TOOL_SETS[i % TOOL_SETS.length];
            runs.add(run(engine, QUERIES[i], tools, 40, true));
            runs.add(run(engine, QUERIES[i], TOOL_SETS[(i + 1) % TOOL_SETS.length], 12, false));
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("query", QUERIES[i]);
            p.put("tools", tools);
            p.put("ids", engine.prompt(QUERIES[i], tools));
            prompts.add(p);
        }
        m.put("runs", runs);
        m.put("prompts", prompts);

        if (engine.model().hasContrastiveHead()) {
            List<Object> retrieve = new ArrayList<>();
            for (int k : new int[] {3, 5}) {
                String query = QUERIES[k == 3 ? 0 : 2];
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("query", query);
                r.put("descriptions", Arrays.asList(DESCRIPTIONS));
                r.put("top_k", k);
                List<Object> results = new ArrayList<>();
                for (ToolScore s : engine.retrieveTools(query, Arrays.asList(DESCRIPTIONS), k)) {
                    results.add(List.of(s.index, (double) s.score));
                }
                r.put("results", results);
                retrieve.add(r);
            }
            m.put("retrieve", retrieve);
        }
        return m;
    }

    private static Map<String, Object> run(NeedleEngine engine, String query, String tools, int maxNew,
            boolean constrain) {
        RunResult r = engine.run(query, tools, new RunOptions().maxNewTokens(maxNew).constrain(constrain));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("query", query);
        m.put("tools", tools);
        m.put("max_new_tokens", maxNew);
        m.put("constrain", constrain);
        m.put("text", r.text);
        m.put("tokens", r.tokens);
        m.put("complete", r.complete);
        return m;
    }

    /** The full-size random model with the real vocabulary: one request, and JVM times for the report. */
    private static Map<String, Object> fullSize(Path dir) throws IOException {
        byte[] weights = ModelWriter.fullSize().seed(7).build();
        Files.write(dir.resolve("fullsize.safetensors"), weights);
        String vocab = Shared.vocab();
        String query = QUERIES[0];
        String tools = TOOL_SETS[0];
        int maxNew = 32;

        double t0 = System.nanoTime();
        NeedleEngine engine = NeedleEngine.load(weights, vocab);
        double loadMs = (System.nanoTime() - t0) / 1e6;
        RunOptions options = new RunOptions().maxNewTokens(maxNew);
        t0 = System.nanoTime();
        RunResult first = engine.run(query, tools, options);
        double firstMs = (System.nanoTime() - t0) / 1e6;
        double[] warm = new double[3];
        for (int i = 0; i < warm.length; i++) {
            t0 = System.nanoTime();
            RunResult again = engine.run(query, tools, options);
            warm[i] = (System.nanoTime() - t0) / 1e6;
            assertEquals(first.text, again.text);
        }
        Arrays.sort(warm);

        Map<String, Object> m = new LinkedHashMap<>();
        m.put("weights", "fullsize.safetensors");
        m.put("bytes", weights.length);
        m.put("query", query);
        m.put("tools", tools);
        m.put("max_new_tokens", maxNew);
        m.put("text", first.text);
        m.put("tokens", first.tokens);
        m.put("prefill_tokens", first.timings.prefillTokens);
        Map<String, Object> jvm = new LinkedHashMap<>();
        jvm.put("load_ms", loadMs);
        jvm.put("first_run_ms", firstMs);
        jvm.put("warm_run_ms", warm[warm.length / 2]);
        m.put("jvm", jvm);
        return m;
    }
}
