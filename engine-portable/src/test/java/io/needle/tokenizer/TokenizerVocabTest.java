package io.needle.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.base.NeedleException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Vocabulary parsing (good and malformed), piece types, tokenBytes, bad ids. */
class TokenizerVocabTest {

    /** A valid minimal vocabulary: the 262 fixed pieces plus the given normal lines. */
    private static String vocab(String... normal) {
        StringBuilder sb = new StringBuilder();
        for (String s : new String[] {"<pad>", "</s>", "<s>", "<unk>", "<tool_call>", "<tools>"}) {
            sb.append(s).append("\t0\n");
        }
        for (int b = 0; b < 256; b++) {
            sb.append("<0x").append(String.format("%02X", b)).append(">\t0\n");
        }
        for (String s : normal) {
            sb.append(s).append('\n');
        }
        return sb.toString();
    }

    private static NeedleException vocabError(String text) {
        NeedleException e = assertThrows(NeedleException.class, () -> Tokenizer.fromVocab(text));
        assertEquals(NeedleException.Kind.VOCAB, e.kind(), e.getMessage());
        return e;
    }

    private static void assertMessage(NeedleException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
        }
    }

    @Test
    void smallVocabularyWorks() {
        Tokenizer t = Tokenizer.fromVocab(vocab("\u2581a\t-0", "b\t-1", "\u2581\t-2", "a\t-3"));
        assertEquals(266, t.size());
        assertArrayEquals(new int[] {262, 263}, t.encode("ab"));
        // 'c' is not in the vocabulary: byte fallback.
        assertArrayEquals(new int[] {264, 6 + 'c'}, t.encode("c"));
        assertEquals("ab c", t.decode(new int[] {262, 263, 264, 6 + 'c'}));
    }

    @Test
    void toleratesCrlfFinalNewlineAndMissingFinalNewline() throws Exception {
        String lf = TokenizerFixtures.vocabText();
        Tokenizer a = Tokenizer.fromVocab(lf);
        Tokenizer b = Tokenizer.fromVocab(lf.replace("\n", "\r\n"));
        Tokenizer c = Tokenizer.fromVocab(lf.substring(0, lf.length() - 1));
        String text = "Set a 1 hour timer for the pizza <tools> [{\"name\":\"x\"}]";
        assertEquals(8192, b.size());
        assertEquals(8192, c.size());
        assertArrayEquals(a.encode(text), b.encode(text));
        assertArrayEquals(a.encode(text), c.encode(text));
        assertEquals(a.piece(8191), b.piece(8191));
    }

    @Test
    void noTab() {
        assertMessage(vocabError(vocab("\u2581a\t-0", "b -1")), "line 264", "tab");
    }

    @Test
    void emptyLineInTheMiddle() {
        assertMessage(vocabError(vocab("\u2581a\t-0", "", "b\t-1")), "line 264", "empty line");
    }

    @Test
    void extraEmptyLineAtTheEnd() {
        assertMessage(vocabError(vocab("\u2581a\t-0") + "\n"), "line 264", "empty line");
    }

    @Test
    void badScores() {
        for (String score : new String[] {"", "abc", "1.2.3", "NaN", "Infinity", "1e", " 1", "1f", "0x10", "1e99"}) {
            NeedleException e = vocabError(vocab("\u2581a\t" + score));
            assertMessage(e, "line 263", "score");
        }
    }

    @Test
    void goodScores() {
        Tokenizer t = Tokenizer.fromVocab(vocab("a\t-0", "b\t1.5", "c\t-2e3", "d\t+.5", "e\t7."));
        assertEquals(-2000f, t.score(264));
        assertEquals(0.5f, t.score(265));
    }

    @Test
    void integerScoresAreTheFloatsParseFloatGives() {
        // integers of up to 7 digits take a short path; longer ones and decimals the general one
        String[] scores = {"-0", "0", "+0", "-1", "+7", "0042", "-8191", "9999999", "-9999999", "16777217",
            "-123456789", "2147483648", "99999999999", "-0.0", "3.0"};
        String[] lines = new String[scores.length];
        for (int i = 0; i < scores.length; i++) {
            lines[i] = "p" + i + "\t" + scores[i];
        }
        Tokenizer t = Tokenizer.fromVocab(vocab(lines));
        for (int i = 0; i < scores.length; i++) {
            assertEquals(Float.floatToRawIntBits(Float.parseFloat(scores[i])), Float.floatToRawIntBits(t.score(262 + i)),
                    "score " + scores[i]);
        }
    }

    @Test
    void emptyPiece() {
        assertMessage(vocabError(vocab("\u2581a\t-0", "\t-1")), "line 264", "empty piece");
    }

    @Test
    void duplicatePiece() {
        assertMessage(vocabError(vocab("\u2581a\t-0", "b\t-1", "\u2581a\t-2")),
                "line 265", "duplicate", "line 263");
        assertMessage(vocabError(vocab("<s>\t-0")), "line 263", "duplicate");
        assertMessage(vocabError(vocab("<0x41>\t-0")), "line 263", "duplicate");
    }

    @Test
    void missingSpecials() {
        assertMessage(vocabError(vocab().replace("<unk>\t0\n", "<unknown>\t0\n")), "line 4", "<unk>");
        assertMessage(vocabError(vocab().replace("<tools>\t0\n", "")), "line 6", "<tools>");
        assertMessage(vocabError(vocab().replace("<0x7F>", "<0x7f>")), "line " + (6 + 0x7F + 1), "<0x7F>");
    }

    @Test
    void tooFewLines() {
        assertMessage(vocabError(""), "line 1", "262");
        assertMessage(vocabError(vocab().substring(0, vocab().indexOf("<0x10>"))), "line 23", "262");
        assertMessage(vocabError("<pad>\t0"), "line 2");
        vocabError(null);
    }

    @Test
    void typesAndTokenBytes() throws Exception {
        Tokenizer t = TokenizerFixtures.tokenizer();
        assertArrayEquals(new byte[0], t.tokenBytes(0));
        assertArrayEquals(new byte[0], t.tokenBytes(3));
        assertArrayEquals(new byte[0], t.tokenBytes(4));
        assertArrayEquals(new byte[] {(byte) 0xE2}, t.tokenBytes(6 + 0xE2));
        int space = t.pieceToId("\u2581");
        assertArrayEquals(new byte[] {' '}, t.tokenBytes(space));
        for (int id = 262; id < t.size(); id++) {
            assertTrue(!t.isByte(id) && !t.isControl(id) && !t.isUnknown(id) && !t.isUserDefined(id));
            byte[] expected = t.piece(id).replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(expected, t.tokenBytes(id), "id " + id);
        }
        assertEquals(-1, t.pieceToId("no such piece"));
    }

    @Test
    void tokenBytesOfAsciiAndOtherPieces() {
        // ASCII and ▁ only (one pass), other characters, a surrogate pair, a lone surrogate (U+FFFD)
        String[] pieces = {"\u2581a\u2581b", "x", "\u2581\u00e9t\u00e9\u2581", "\ud83d\ude00\u2581", "a\ud83d\u2581"};
        byte[][] expected = {{' ', 'a', ' ', 'b'}, {'x'},
            {' ', (byte) 0xC3, (byte) 0xA9, 't', (byte) 0xC3, (byte) 0xA9, ' '},
            {(byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80, ' '},
            {'a', (byte) 0xEF, (byte) 0xBF, (byte) 0xBD, ' '}};
        String[] lines = new String[pieces.length];
        for (int i = 0; i < pieces.length; i++) {
            lines[i] = pieces[i] + "\t-" + i;
        }
        Tokenizer t = Tokenizer.fromVocab(vocab(lines));
        for (int i = 0; i < pieces.length; i++) {
            assertArrayEquals(expected[i], t.tokenBytes(262 + i), "piece " + i);
        }
    }

    @Test
    void idsOutOfRange() throws Exception {
        Tokenizer t = TokenizerFixtures.tokenizer();
        for (int id : new int[] {-1, t.size(), Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            NeedleException e = assertThrows(NeedleException.class, () -> t.decode(new int[] {5, id}));
            assertEquals(NeedleException.Kind.INPUT, e.kind());
            assertMessage(e, String.valueOf(id));
            assertThrows(NeedleException.class, () -> t.piece(id));
            assertThrows(NeedleException.class, () -> new StreamDecoder(t).push(id));
        }
    }

    @Test
    void loneSurrogatesEncodeAsReplacementCharacter() throws Exception {
        Tokenizer t = TokenizerFixtures.tokenizer();
        assertArrayEquals(t.encode("a\uFFFDb"), t.encode("a\uD800b"));
        assertArrayEquals(t.encode("a\uFFFDb"), t.encode("a\uDC00b"));
        assertArrayEquals(t.encode("\uFFFD"), t.encode("\uD83D"));
        assertArrayEquals(t.encode("x\uFFFD\uFFFD"), t.encode("x\uDC4D\uD83D"));
        assertEquals("a\uFFFDb", t.decode(t.encode("a\uD800b")));
    }
}
