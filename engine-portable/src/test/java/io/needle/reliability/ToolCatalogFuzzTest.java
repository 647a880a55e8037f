package io.needle.reliability;

import io.needle.base.SpecialTokens;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.needle.base.NeedleException;
import io.needle.tools.SnakeCase;
import io.needle.tools.ToolCatalog;
import io.needle.tools.ToolSpec;
import io.needle.grammar.ConstrainedDecoder;
import io.needle.grammar.TokenTrie;
import io.needle.grammar.ToolGrammar;
import io.needle.json.Json;
import io.needle.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Fuzzes the tool normalizer (docs/FUZZING.md) and the constrained decoder built on its output.
 * Properties: {@link ToolCatalog#parse} never throws; when the text is JSON, {@code serialized()}
 * is valid ASCII JSON and every listed tool's name is a snake_case fixed point; restoring names
 * never throws. The grammar compiled from the catalogue never throws, and a walk that takes, at
 * each step, one of the tokens the decoder allows (chosen by the input) is always accepted.
 *
 * <p>Input: the tools text, then optionally a 0x00 byte followed by the walk's choice bytes.
 */
class ToolCatalogFuzzTest {
    private static Tokenizer tokenizer;
    private static TokenTrie trie;
    private static byte[][] tokenBytes;

    private static synchronized void init() {
        if (tokenizer == null) {
            Tokenizer tok = Tokenizer.fromVocab(TinyEngine.vocab());
            byte[][] bytes = new byte[tok.size()][];
            for (int id = 0; id < bytes.length; id++) {
                bytes[id] = tok.tokenBytes(id);
            }
            tokenBytes = bytes;
            trie = new TokenTrie(tok);
            tokenizer = tok;
        }
    }

    @FuzzTest(maxDuration = "2m")
    void normalizeAndConstrain(byte[] input) {
        int zero = 0;
        while (zero < input.length && input[zero] != 0) {
            zero++;
        }
        String text = FuzzText.decode(Arrays.copyOf(input, zero));
        byte[] choices = zero < input.length ? Arrays.copyOfRange(input, zero + 1, input.length) : new byte[0];

        ToolCatalog catalog = ToolCatalog.parse(text);
        if (catalog.isJson()) {
            String s = catalog.serialized();
            for (int i = 0; i < s.length(); i++) {
                assertTrue(s.charAt(i) >= 0x20 && s.charAt(i) < 0x7f, "ASCII only: " + s);
            }
            Object again = Json.parse(s);
            assertEquals(s, Json.writeAscii(again));
            for (ToolSpec t : catalog.tools()) {
                assertEquals(t.name(), SnakeCase.of(t.name()), "snake_case is a fixed point");
            }
        } else {
            assertEquals(text, catalog.serialized());
            assertTrue(catalog.tools().isEmpty());
        }
        catalog.restoreNames(text);
        catalog.restoreNames("[{\"name\":\"x\",\"arguments\":{}}]");
        for (ToolSpec t : catalog.tools()) {
            catalog.restoreNames("[{\"name\":" + Json.quote(t.name()) + ",\"arguments\":{}}]");
        }

        init();
        ToolGrammar grammar = ToolGrammar.compile(catalog);
        ConstrainedDecoder decoder = new ConstrainedDecoder(grammar, trie, io.needle.grammar.TokenTexts.of(tokenBytes));
        for (int step = 0; step < 48 && !decoder.isDone(); step++) {
            int[] allowed = decoder.allowed();
            if (allowed.length == 0) {
                break;
            }
            int pick = step < choices.length ? choices[step] & 0xff : 0;
            int id = allowed[pick % allowed.length];
            if (id == SpecialTokens.EOS) {
                break;
            }
            try {
                decoder.accept(id);
            } catch (NeedleException e) {
                throw new AssertionError("allowed token " + id + " was refused: " + e.getMessage(), e);
            }
        }
    }
}
