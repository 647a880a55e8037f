package io.needle.reliability;

import io.needle.base.SpecialTokens;
import static io.needle.reliability.TinyEngine.fails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException.Kind;
import io.needle.decoding.Prompt;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.tools.ToolCatalog;
import io.needle.json.Json;
import io.needle.safetensors.SafeTensors;
import io.needle.synthetic.SafeTensorsWriter;
import io.needle.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Size limits and the truncation rule (issue 8 part 1): JSON depth and length caps, the engine's
 * text cap, 1 MB queries and tools cut by docs/spec/MODEL.md's token rule (never an exception), lone
 * surrogates, and bad arguments to generate.
 */
class LimitsTest {
    private static final String TOOLS = "[{\"name\":\"getWeather\",\"description\":\"Get the weather\","
            + "\"parameters\":{\"location\":{\"type\":\"string\",\"description\":\"city\",\"required\":true}}}]";
    private static final String[] ASCII_WORDS = {"get", "the", "current", "weather", "for", "a", "city", "in",
        "celsius", "send", "message", "to", "contact", "play", "music", "volume", "from", "0", "100"};
    private static final String[] WORDS = {"what", "is", "the", "weather", "in", "Paris", "today", "set", "an",
        "alarm", "for", "7", "am", "send", "a", "message", "to", "Alice", "play", "jazz", "émigré", "日本", "🎉"};

    /** About {@code chars} characters of words separated by spaces. */
    private static String words(int chars, long seed) {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder(chars + 16);
        while (sb.length() < chars) {
            sb.append(WORDS[r.nextInt(WORDS.length)]).append(' ');
        }
        sb.setLength(chars);
        return sb.toString();
    }

    private static String asciiWords(int chars, long seed) {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder(chars + 16);
        while (sb.length() < chars) {
            sb.append(ASCII_WORDS[r.nextInt(ASCII_WORDS.length)]).append(' ');
        }
        sb.setLength(chars);
        return sb.toString();
    }

    /** A tools array of about {@code chars} characters (many small tools; ASCII, plus one CJK word each). */
    private static String manyTools(int chars) {
        StringBuilder sb = new StringBuilder("[");
        int i = 0;
        while (sb.length() < chars - 200) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"name\":\"tool").append(i).append("\",\"description\":\"")
                    .append(asciiWords(120, i)).append(" \u65e5\u672c").append("\",\"parameters\":{\"x\":{\"type\":\"string\",\"required\":true}}}");
            i++;
        }
        return sb.append(']').toString();
    }

    // ------------------------------------------------------------------ JSON

    @Test
    void jsonNestingOf100000IsAnErrorNotAStackOverflow() {
        char[] open = new char[100_000];
        Arrays.fill(open, '[');
        fails(Kind.JSON, () -> Json.parse(new String(open)), "nesting deeper than " + Json.MAX_DEPTH);
        StringBuilder objects = new StringBuilder();
        for (int i = 0; i < 100_000; i++) {
            objects.append("{\"a\":");
        }
        fails(Kind.JSON, () -> Json.parse(objects.toString()), "nesting");
        // the same text as tools: not JSON, so run() refuses it with the parser's reason
        fails(Kind.JSON, () -> TinyEngine.get().run("hi", new String(open)), "not valid JSON", "nesting");
    }

    @Test
    void jsonLengthLimit() {
        char[] body = new char[Json.MAX_LENGTH - 2];
        Arrays.fill(body, 'a');
        String atLimit = "\"" + new String(body) + "\"";
        assertEquals(Json.MAX_LENGTH, atLimit.length());
        assertEquals(body.length, ((String) Json.parse(atLimit)).length());
        fails(Kind.JSON, () -> Json.parse(atLimit + " "), "invalid JSON", Integer.toString(Json.MAX_LENGTH + 1),
                "limit of " + Json.MAX_LENGTH);
        fails(Kind.JSON, () -> Json.parse("[1, 2]", 5), "limit of 5");
        assertEquals(2, ((java.util.List<?>) Json.parse("[1,2]", 5)).size());
    }

    @Test
    void safeTensorsHeaderMayExceedTheJsonDefaultLimit() {
        char[] v = new char[Json.MAX_LENGTH + 1000];
        Arrays.fill(v, 'x');
        byte[] file = new SafeTensorsWriter().metadata("note", new String(v)).toBytes();
        assertEquals(v.length, SafeTensors.parse(file).metadata().get("note").length());
    }

    @Test
    void toolCatalogOfOversizeTextIsNotJsonAndDoesNotThrow() {
        char[] v = new char[Json.MAX_LENGTH + 1];
        Arrays.fill(v, ' ');
        v[0] = '[';
        v[v.length - 1] = ']';
        ToolCatalog c = ToolCatalog.parse(new String(v));
        assertEquals(false, c.isJson());
    }

    // ------------------------------------------------------------------ the truncation rule

    @Test
    void megabyteQueryIsTruncatedNotRefused() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            NeedleEngine engine = TinyEngine.get();
            Tokenizer tok = engine.tokenizer();
            String query = words(1_000_000, 1);
            int[] ids = engine.prompt(query, TOOLS);
            assertEquals(Prompt.MAX_ENCODER_LEN, ids.length);
            int[] q = tok.encode(query);
            assertArrayEquals(Arrays.copyOf(q, Prompt.MAX_QUERY_TOKENS), Arrays.copyOf(ids, Prompt.MAX_QUERY_TOKENS));
            assertEquals(SpecialTokens.TOOLS, ids[Prompt.MAX_QUERY_TOKENS]);
            assertEquals(tok.encode(ToolCatalog.parse(TOOLS).serialized())[0], ids[Prompt.MAX_QUERY_TOKENS + 1]);

            RunResult u = engine.run(query, TOOLS, new RunOptions().maxNewTokens(8).constrain(false));
            assertNotNull(u.text);
            assertEquals(Prompt.MAX_ENCODER_LEN, u.timings.prefillTokens);
        });
    }

    @Test
    void megabyteToolsAreTruncatedNotRefused() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            NeedleEngine engine = TinyEngine.get();
            Tokenizer tok = engine.tokenizer();
            String tools = manyTools(1_000_000);
            String query = "what is the weather in Paris";
            int[] ids = engine.prompt(query, tools);
            int[] q = tok.encode(query);
            int[] t = tok.encode(ToolCatalog.parse(tools).serialized());
            assertEquals(Prompt.MAX_ENCODER_LEN, ids.length);
            assertArrayEquals(q, Arrays.copyOf(ids, q.length));
            assertEquals(SpecialTokens.TOOLS, ids[q.length]);
            assertArrayEquals(Arrays.copyOf(t, ids.length - q.length - 1),
                    Arrays.copyOfRange(ids, q.length + 1, ids.length));

            // both long, constrained: the query takes 1022 tokens, the tools one
            RunResult r = engine.run(words(1_000_000, 2), tools, new RunOptions().maxNewTokens(8));
            assertNotNull(r.text);
            assertEquals(Prompt.MAX_ENCODER_LEN, r.timings.prefillTokens);
        });
    }

    @Test
    void textsAtTheEngineLimitWorkAndLongerOnesAreRefusedClearly() {
        NeedleEngine engine = TinyEngine.get();
        String atLimit = words(NeedleEngine.MAX_TEXT_LENGTH, 3);
        assertEquals(Prompt.MAX_ENCODER_LEN, engine.prompt(atLimit, "[]").length);
        String over = atLimit + "x";
        String n = Integer.toString(NeedleEngine.MAX_TEXT_LENGTH + 1);
        String limit = "limit of " + NeedleEngine.MAX_TEXT_LENGTH;
        fails(Kind.INPUT, () -> engine.prompt(over, "[]"), "the query", n, limit);
        fails(Kind.INPUT, () -> engine.run(over, "[]"), "the query", limit);
        fails(Kind.INPUT, () -> engine.run("hi", over), "the tools text", n, limit);
        fails(Kind.INPUT, () -> engine.prompt("hi", over), "the tools text", limit);
        // non-ASCII characters take 6 once normalized (\\uXXXX): 1 MiB of UTF-8 fits, 1 MiB of chars may not
        char[] cjk = new char[(1 << 20) / 3];
        Arrays.fill(cjk, '\u65e5');
        String fits = "[{\"name\":\"x\",\"description\":\"" + new String(cjk) + "\"}]";
        assertEquals(Prompt.MAX_ENCODER_LEN, engine.prompt("hi", fits).length);
        char[] moreCjk = new char[NeedleEngine.MAX_TEXT_LENGTH - 100];
        Arrays.fill(moreCjk, '\u65e5');
        String wide = "[{\"name\":\"x\",\"description\":\"" + new String(moreCjk) + "\"}]";
        fails(Kind.INPUT, () -> engine.run("hi", wide), "once normalized",
                "limit of " + NeedleEngine.MAX_NORMALIZED_TOOLS_LENGTH);
        fails(Kind.INPUT, () -> engine.retrieveTools(over, java.util.List.of("a"), 1), "the query", limit);
        fails(Kind.INPUT, () -> engine.retrieveTools("a", java.util.List.of("b", over), 1), "tool description 1", limit);
    }

    // ------------------------------------------------------------------ lone surrogates

    @Test
    void loneSurrogatesInQueriesAreReadAsReplacementCharacters() {
        NeedleEngine engine = TinyEngine.get();
        String[][] cases = {
            {"weather \ud800 in Paris", "weather \ufffd in Paris"},
            {"\udc00", "\ufffd"},
            {"end \ud83d", "end \ufffd"},
            {"\udfff\ud800 swapped pair", "\ufffd\ufffd swapped pair"},
            {"ok \ud83c\udf89 pair", "ok \ud83c\udf89 pair"},
        };
        for (String[] c : cases) {
            assertArrayEquals(engine.prompt(c[1], TOOLS), engine.prompt(c[0], TOOLS), c[1]);
            RunResult r = engine.run(c[0], TOOLS, new RunOptions().maxNewTokens(24));
            assertNotNull(r.text);
        }
    }

    @Test
    void loneSurrogatesInToolsDoNotBreakNormalizingConstrainingOrRestoring() {
        NeedleEngine engine = TinyEngine.get();
        String[] tools = {
            // escaped in the JSON text
            "[{\"name\":\"get\\ud800Weather\",\"description\":\"x\\udc00\",\"parameters\":{\"lo\\udfffc\":"
                    + "{\"type\":\"string\",\"enum\":[\"\\ud800\",\"b\"],\"required\":true}}}]",
            // raw in the Java string
            "[{\"name\":\"get\ud800Weather\",\"description\":\"x\udc00\",\"parameters\":{\"n\":"
                    + "{\"type\":\"integer\",\"required\":false}}}]",
        };
        for (String t : tools) {
            ToolCatalog c = ToolCatalog.parse(t);
            assertEquals(true, c.isJson());
            Json.parse(c.serialized()); // ASCII-only and valid
            for (boolean constrain : new boolean[] {true, false}) {
                RunResult r = engine.run("weather", t, new RunOptions().maxNewTokens(60).constrain(constrain));
                assertNotNull(r.text);
            }
        }
    }

    // ------------------------------------------------------------------ generate arguments

    @Test
    void generateRejectsBadIdsAndLengths() {
        NeedleEngine engine = TinyEngine.get();
        int vocab = engine.config().vocabSize;
        fails(Kind.INPUT, () -> engine.generate(new int[] {10, vocab}, 4), "token id " + vocab, "out of range");
        fails(Kind.INPUT, () -> engine.generate(new int[] {-1}, 4), "token id -1");
        fails(Kind.INPUT, () -> engine.generate(new int[] {Integer.MIN_VALUE}, 4), "out of range");
        fails(Kind.INPUT, () -> engine.generate(new int[0], 4), "empty");
        fails(Kind.INPUT, () -> engine.generate(null, 4), "empty");
        fails(Kind.INPUT, () -> engine.generate(new int[] {10}, 512), "max_new_tokens", "511", "512");
        fails(Kind.INPUT, () -> engine.generate(new int[] {10}, -1), "max_new_tokens");
        fails(Kind.INPUT, () -> engine.generate(new int[] {10}, Integer.MAX_VALUE), "max_new_tokens");
        fails(Kind.INPUT, () -> new RunOptions().maxNewTokens(1 << 30), "max_new_tokens");
        int[] tooLong = new int[Prompt.MAX_ENCODER_LEN + 1];
        Arrays.fill(tooLong, 10);
        fails(Kind.INPUT, () -> engine.generate(tooLong, 1), "1025 ids", "limit of 1024");
        fails(Kind.INPUT, () -> engine.generate(new int[1 << 20], 1), "limit of 1024");
        assertEquals(1, engine.generate(Arrays.copyOf(tooLong, Prompt.MAX_ENCODER_LEN), 1).length);
        assertEquals(0, engine.generate(new int[] {10}, 0).length);
        fails(Kind.INPUT, () -> engine.generate(new int[] {vocab + 7}, TOOLS, new RunOptions()), "out of range");
        fails(Kind.INPUT, () -> engine.outputText(new int[] {4, vocab}), "out of range");
        fails(Kind.INPUT, () -> engine.outputText(null), "null");
        // the tokenizer's own checks
        fails(Kind.INPUT, () -> engine.tokenizer().decode(new int[] {vocab}), "out of range");
        fails(Kind.INPUT, () -> engine.tokenizer().decode(null), "null");
        fails(Kind.INPUT, () -> engine.tokenizer().piece(-3), "out of range");
    }
}
