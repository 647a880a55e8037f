package io.needle.engine;

import io.needle.base.SpecialTokens;
import io.needle.decoding.Prompt;
import io.needle.tools.ToolCatalog;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** docs/spec/MODEL.md section 3 step 2, with the real fixture vocabulary. */
class PromptTest {
    private static Tokenizer tok;

    @BeforeAll
    static void loadVocab() throws IOException {
        String shared = System.getProperty("needle.shared", "../../shared");
        Path vocab = Paths.get(shared, "fixtures", "tokenizer", "vocab.txt");
        tok = Tokenizer.fromVocab(new String(Files.readAllBytes(vocab), StandardCharsets.UTF_8));
    }

    /** A text of space-separated copies of one word that encodes to exactly {@code n} tokens. */
    private static String textOfTokens(int n) {
        String[] candidates = {"the", "hello", "a", "weather", "x"};
        for (String w : candidates) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    sb.append(' ');
                }
                sb.append(w);
            }
            if (tok.encode(sb.toString()).length == n) {
                return sb.toString();
            }
        }
        throw new AssertionError("no word encodes to one token per copy");
    }

    /** A tools text whose normalized form encodes to at least {@code minTokens} tokens. */
    private static ToolCatalog longTools(int minTokens) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < minTokens / 4; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"name\":\"getWeather").append(i).append("\",\"description\":\"Get the weather for a city\"}");
        }
        ToolCatalog c = ToolCatalog.parse(sb + "]");
        assertTrue(tok.encode(c.serialized()).length >= minTokens);
        return c;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void theToolsIdIsTheVocabularysToolsPiece() {
        assertEquals("<tools>", tok.piece(SpecialTokens.TOOLS));
        assertEquals(Prompt.MAX_ENCODER_LEN - 2, Prompt.MAX_QUERY_TOKENS);
    }

    @Test
    void shortInputIsQueryThenToolsIdThenTools() {
        String query = "What's the weather in Paris?";
        ToolCatalog tools = ToolCatalog.parse("[{\"name\": \"getWeather\", \"parameters\": {\"city\": {\"type\": \"string\"}}}]");
        int[] q = tok.encode(query);
        int[] t = tok.encode(tools.serialized());
        int[] ids = Prompt.encoderInput(tok, query, tools);
        assertArrayEquals(concat(concat(q, new int[] {SpecialTokens.TOOLS}), t), ids);
        assertEquals(SpecialTokens.TOOLS, ids[q.length]);
        // the tools the model sees are the normalized ones
        assertTrue(tools.serialized().contains("get_weather"));
        // the String overload normalizes the same way
        assertArrayEquals(ids, Prompt.encoderInput(tok, query,
                "[{\"name\": \"getWeather\", \"parameters\": {\"city\": {\"type\": \"string\"}}}]"));
    }

    @Test
    void emptyQueryAndEmptyTools() {
        int[] ids = Prompt.encoderInput(tok, "", ToolCatalog.parse("[]"));
        assertArrayEquals(concat(new int[] {SpecialTokens.TOOLS}, tok.encode("[]")), ids);
        assertArrayEquals(ids, Prompt.encoderInput(tok, null, "[]"));
        int[] none = Prompt.encoderInput(tok, "", ToolCatalog.parse(""));
        assertArrayEquals(concat(new int[] {SpecialTokens.TOOLS}, tok.encode("")), none);
    }

    @Test
    void nonJsonToolsAreEncodedAsGiven() {
        String tools = "get_weather(city) -- gets the weather";
        assertArrayEquals(concat(concat(tok.encode("hi"), new int[] {SpecialTokens.TOOLS}), tok.encode(tools)),
                Prompt.encoderInput(tok, "hi", tools));
    }

    @Test
    void queryOfExactlyTheLimitKeepsOneToolsToken() {
        String query = textOfTokens(Prompt.MAX_QUERY_TOKENS);
        ToolCatalog tools = ToolCatalog.parse("[{\"name\":\"getWeather\"}]");
        int[] q = tok.encode(query);
        int[] t = tok.encode(tools.serialized());
        assertTrue(t.length > 1);
        int[] ids = Prompt.encoderInput(tok, query, tools);
        assertEquals(Prompt.MAX_ENCODER_LEN, ids.length);
        assertArrayEquals(q, Arrays.copyOf(ids, Prompt.MAX_QUERY_TOKENS));
        assertEquals(SpecialTokens.TOOLS, ids[Prompt.MAX_QUERY_TOKENS]);
        assertEquals(t[0], ids[Prompt.MAX_ENCODER_LEN - 1]);
    }

    @Test
    void longQueryIsTruncatedToItsFirstTokens() {
        for (int n : new int[] {Prompt.MAX_QUERY_TOKENS + 1, 3000}) {
            String query = textOfTokens(n);
            int[] q = tok.encode(query);
            assertEquals(n, q.length);
            ToolCatalog tools = ToolCatalog.parse("[{\"name\":\"f\"}]");
            int[] t = tok.encode(tools.serialized());
            int[] ids = Prompt.encoderInput(tok, query, tools);
            assertEquals(Prompt.MAX_ENCODER_LEN, ids.length);
            assertArrayEquals(Arrays.copyOf(q, Prompt.MAX_QUERY_TOKENS), Arrays.copyOf(ids, Prompt.MAX_QUERY_TOKENS));
            assertEquals(SpecialTokens.TOOLS, ids[Prompt.MAX_QUERY_TOKENS]);
            assertEquals(t[0], ids[Prompt.MAX_QUERY_TOKENS + 1]);
        }
    }

    @Test
    void queryJustBelowTheLimit() {
        String query = textOfTokens(Prompt.MAX_QUERY_TOKENS - 1);
        ToolCatalog tools = ToolCatalog.parse("[{\"name\":\"getWeather\"}]");
        int[] t = tok.encode(tools.serialized());
        assertTrue(t.length >= 2);
        int[] ids = Prompt.encoderInput(tok, query, tools);
        assertEquals(Prompt.MAX_ENCODER_LEN, ids.length);
        assertEquals(SpecialTokens.TOOLS, ids[Prompt.MAX_QUERY_TOKENS - 1]);
        assertArrayEquals(Arrays.copyOf(t, 2), Arrays.copyOfRange(ids, Prompt.MAX_QUERY_TOKENS, Prompt.MAX_ENCODER_LEN));
    }

    @Test
    void longToolsAreTruncatedToFillTheInput() {
        ToolCatalog tools = longTools(3000);
        int[] t = tok.encode(tools.serialized());
        for (int n : new int[] {0, 1, 10, 500}) {
            String query = textOfTokens(n);
            int[] q = tok.encode(query);
            int[] ids = Prompt.encoderInput(tok, query, tools);
            assertEquals(Prompt.MAX_ENCODER_LEN, ids.length);
            assertArrayEquals(q, Arrays.copyOf(ids, n));
            assertEquals(SpecialTokens.TOOLS, ids[n]);
            assertArrayEquals(Arrays.copyOf(t, Prompt.MAX_ENCODER_LEN - n - 1),
                    Arrays.copyOfRange(ids, n + 1, Prompt.MAX_ENCODER_LEN));
        }
    }

    @Test
    void toolsThatFitExactly() {
        ToolCatalog tools = ToolCatalog.parse("[{\"name\":\"getWeather\",\"description\":\"Weather\"}]");
        int[] t = tok.encode(tools.serialized());
        int n = Prompt.MAX_ENCODER_LEN - 1 - t.length;
        int[] ids = Prompt.encoderInput(tok, textOfTokens(n), tools);
        assertEquals(Prompt.MAX_ENCODER_LEN, ids.length);
        assertArrayEquals(t, Arrays.copyOfRange(ids, n + 1, Prompt.MAX_ENCODER_LEN));
        // one query token more and the last tools token is cut
        int[] cut = Prompt.encoderInput(tok, textOfTokens(n + 1), tools);
        assertEquals(Prompt.MAX_ENCODER_LEN, cut.length);
        assertEquals(SpecialTokens.TOOLS, cut[n + 1]);
        assertArrayEquals(Arrays.copyOf(t, t.length - 1), Arrays.copyOfRange(cut, n + 2, Prompt.MAX_ENCODER_LEN));
    }

    @Test
    void bothLong() {
        ToolCatalog tools = longTools(2000);
        int[] t = tok.encode(tools.serialized());
        String query = textOfTokens(2000);
        int[] q = tok.encode(query);
        int[] ids = Prompt.encoderInput(tok, query, tools);
        assertEquals(Prompt.MAX_ENCODER_LEN, ids.length);
        assertArrayEquals(Arrays.copyOf(q, Prompt.MAX_QUERY_TOKENS), Arrays.copyOf(ids, Prompt.MAX_QUERY_TOKENS));
        assertEquals(SpecialTokens.TOOLS, ids[Prompt.MAX_QUERY_TOKENS]);
        assertEquals(t[0], ids[Prompt.MAX_ENCODER_LEN - 1]);
    }
}
