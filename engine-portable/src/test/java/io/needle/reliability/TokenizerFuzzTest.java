package io.needle.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.needle.json.Json;
import io.needle.testing.Shared;
import io.needle.tokenizer.StreamDecoder;
import io.needle.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the tokenizer with the real vocabulary (docs/FUZZING.md). Properties, for any Java
 * string s (lone surrogates included):
 * <ul>
 *   <li>{@code decode(encode(s))} equals {@link #roundTrip}(s), SentencePiece's normalization as
 *       the decoder gives it back (byte fallback means there are never unknowns);</li>
 *   <li>every id is a valid, non-control, non-unknown id;</li>
 *   <li>{@link StreamDecoder} fed the ids one by one gives the same text;</li>
 *   <li>{@code encodePrefix(s, k)} is the first k ids of {@code encode(s)}.</li>
 * </ul>
 */
class TokenizerFuzzTest {
    private static final char SPACE_SYMBOL = '\u2581';
    private static Tokenizer tokenizer;

    private static synchronized Tokenizer tok() {
        if (tokenizer == null) {
            tokenizer = Tokenizer.fromVocab(TinyEngine.vocab());
        }
        return tokenizer;
    }

    /**
     * What {@code decode(encode(s))} gives back. SentencePiece's normalizer (identity mapping,
     * remove_extra_whitespaces, add_dummy_prefix, escape_whitespaces) and then the decoder:
     * <ol>
     *   <li>each lone surrogate becomes U+FFFD (it has no UTF-8 form);</li>
     *   <li>spaces (U+0020 only; tabs, newlines and other blanks are kept as they are): leading
     *       ones dropped, each run inside the text collapsed to one; each space becomes ▁ (U+2581),
     *       a ▁ is put in front, and trailing ▁ are removed, including ▁ characters that were in
     *       the input itself;</li>
     *   <li>decoding writes every ▁ as a space but drops the leading ones: while nothing has been
     *       written, the leading ▁ of each piece is dropped, and the vocabulary's pieces carry ▁
     *       only as their first character, so every ▁ before the first other character goes.</li>
     * </ol>
     * So: "  a  b▁ " → "a b"; "▁▁x" → "x"; "a▁b" → "a b"; "a ▁ b" → "a   b" (a ▁ from the input
     * breaks a run of spaces).
     */
    static String roundTrip(String s) {
        StringBuilder fixed = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                fixed.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                fixed.append('\ufffd');
            } else {
                fixed.append(c);
            }
        }
        StringBuilder out = new StringBuilder().append(SPACE_SYMBOL);
        boolean previousSpace = true; // leading spaces are dropped like repeated ones
        for (int i = 0; i < fixed.length(); i++) {
            char c = fixed.charAt(i);
            if (c == ' ') {
                if (!previousSpace) {
                    out.append(SPACE_SYMBOL);
                }
                previousSpace = true;
            } else {
                out.append(c);
                previousSpace = false;
            }
        }
        int end = out.length();
        while (end > 0 && out.charAt(end - 1) == SPACE_SYMBOL) {
            end--;
        }
        int start = 0;
        while (start < end && out.charAt(start) == SPACE_SYMBOL) {
            start++;
        }
        return out.substring(start, end).replace(SPACE_SYMBOL, ' ');
    }

    @FuzzTest(maxDuration = "2m")
    void decodeOfEncodeIsTheNormalizedText(byte[] input) {
        check(FuzzText.decode(input));
    }

    static void check(String s) {
        Tokenizer tok = tok();
        int[] ids = tok.encode(s);
        for (int id : ids) {
            assertTrue(id >= 0 && id < tok.size(), "id " + id);
            assertTrue(!tok.isControl(id) && !tok.isUnknown(id), "id " + id + " for " + Json.writeAscii(s));
        }
        String expected = roundTrip(s);
        assertEquals(expected, tok.decode(ids), Json.writeAscii(s));

        StreamDecoder stream = new StreamDecoder(tok);
        StringBuilder streamed = new StringBuilder();
        for (int id : ids) {
            streamed.append(stream.push(id));
        }
        streamed.append(stream.finish());
        assertEquals(expected, streamed.toString(), Json.writeAscii(s));

        for (int k : new int[] {0, 1, 2, 5, ids.length / 2, ids.length, ids.length + 3}) {
            assertArrayEquals(Arrays.copyOf(ids, Math.min(k, ids.length)), tok.encodePrefix(s, k),
                    "prefix " + k + " of " + Json.writeAscii(s));
        }
    }

    /** The rule of {@link #roundTrip} agrees with the reference SentencePiece's ids for every fixture text. */
    @Test
    void roundTripRuleMatchesTheFixtureCases() {
        int n = 0;
        for (String line : Shared.text("tokenizer/cases.jsonl").split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            Map<?, ?> c = (Map<?, ?>) Json.parse(line);
            if (!"encode".equals(c.get("kind"))) {
                continue;
            }
            String text = (String) c.get("text");
            List<?> idList = (List<?>) c.get("ids");
            int[] ids = new int[idList.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = Integer.parseInt(idList.get(i).toString());
            }
            assertEquals(roundTrip(text), tok().decode(ids), line);
            check(text);
            n++;
        }
        assertTrue(n > 200, "encode cases read: " + n);
    }

    /**
     * {@link Tokenizer#encodePrefix} gives exactly the first ids of {@code encode}: with the real
     * vocabulary (words tokenize independently, so only the needed words are tokenized) and with a
     * vocabulary holding a piece with an inner ▁ (then the whole text is tokenized).
     */
    @Test
    void encodePrefixIsExactWithEitherKindOfVocabulary() {
        Tokenizer inner = Tokenizer.fromVocab(io.needle.synthetic.TestVocab.make(400, 5) + "e\u2581\t20\ne\u2581t\t19\n");
        StringBuilder sb = new StringBuilder();
        java.util.Random r = new java.util.Random(3);
        String[] words = {"the", "weather", "set", "an", "alarm", "\u65e5\u672c", "x", "  ", "<tools>", "\u2581"};
        while (sb.length() < 40_000) {
            sb.append(words[r.nextInt(words.length)]).append(r.nextInt(4) == 0 ? "" : " ");
        }
        String text = sb.toString();
        for (Tokenizer t : new Tokenizer[] {tok(), inner}) {
            int[] all = t.encode(text);
            for (int k : new int[] {0, 1, 255, 256, 1022, 1023, all.length - 1, all.length, all.length + 1}) {
                assertArrayEquals(Arrays.copyOf(all, Math.min(k, all.length)), t.encodePrefix(text, k), "k " + k);
            }
        }
        // the inner-▁ piece is really used, so that vocabulary takes the whole-text path
        assertTrue(inner.pieceToId("e\u2581t") > 0);
        int[] ids = inner.encode("the time");
        assertTrue(Arrays.stream(ids).anyMatch(id -> id == inner.pieceToId("e\u2581t")), Arrays.toString(ids));
    }

    @Test
    void roundTripRuleExamples() {
        assertEquals("a b", roundTrip("  a  b\u2581 "));
        assertEquals("x", roundTrip("\u2581\u2581x"));
        assertEquals("a b", roundTrip("a\u2581b"));
        assertEquals("a   b", roundTrip("a \u2581 b"));
        assertEquals("\ufffdx\ufffd", roundTrip("\udc00x\ud800"));
        assertEquals("\tx\n", roundTrip(" \tx\n "));
    }
}
