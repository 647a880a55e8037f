package io.needle.synthetic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The generated vocab.txt files follow the layout of the real one (tokenizer fixture README). That
 * the engine's tokenizer loads them is engine-portable's {@code io.needle.tokenizer.TestVocabTokenizerTest}.
 */
class TestVocabTest {

    @ParameterizedTest
    @ValueSource(ints = {357, 400, 512, 1024, 8192})
    void layoutIsValid(int size) {
        String text = TestVocab.make(size, 42);
        assertTrue(text.endsWith("\n"));
        String[] lines = text.split("\n", -1);
        assertEquals(size + 1, lines.length, "size lines, each ending in LF");
        String[] specials = {"<pad>", "</s>", "<s>", "<unk>", "<tool_call>", "<tools>"};
        Set<String> seen = new HashSet<>();
        for (int id = 0; id < size; id++) {
            String line = lines[id];
            int tab = line.indexOf('\t');
            assertTrue(tab > 0 && line.indexOf('\t', tab + 1) < 0, "one tab: " + line);
            String piece = line.substring(0, tab);
            String score = line.substring(tab + 1);
            assertTrue(seen.add(piece), "distinct: " + piece);
            assertFalse(piece.contains(" ") || piece.contains("\r"), piece);
            if (id < 6) {
                assertEquals(specials[id], piece);
                assertEquals("0", score);
            } else if (id < 262) {
                assertEquals(String.format("<0x%02X>", id - 6), piece);
                assertEquals("0", score);
            } else {
                assertEquals("-" + (id - 262), score);
                assertTrue(piece.lastIndexOf('\u2581') <= 0, "▁ only first: " + piece);
                assertTrue(piece.length() <= 16, piece);
            }
        }
        // the alphabet closes the file; merged pieces split into two earlier or alphabet pieces
        Set<String> available = new HashSet<>();
        int alphabetStart = size - (TestVocab.MIN_SIZE - 262);
        for (int id = alphabetStart; id < size; id++) {
            String piece = lines[id].substring(0, lines[id].indexOf('\t'));
            assertEquals(1, piece.length(), piece);
            available.add(piece);
        }
        assertTrue(available.contains("\u2581") && available.contains("a") && available.contains("{"));
        for (int id = 262; id < alphabetStart; id++) {
            String piece = lines[id].substring(0, lines[id].indexOf('\t'));
            boolean split = false;
            for (int k = 1; k < piece.length() && !split; k++) {
                split = available.contains(piece.substring(0, k)) && available.contains(piece.substring(k));
            }
            assertTrue(split, "merge of earlier pieces: " + piece);
            available.add(piece);
        }
    }

    @Test
    void seededAndRealistic() {
        assertEquals(TestVocab.make(2048, 1), TestVocab.make(2048, 1));
        assertNotEquals(TestVocab.make(2048, 1), TestVocab.make(2048, 2));
        String v = TestVocab.make(1024, 1);
        assertTrue(v.contains("\n\u2581the\t"), "common word merged");
        assertTrue(v.contains("\nname\t") || v.contains("\n\":\"\t"), "JSON pieces merged");
        assertThrows(IllegalArgumentException.class, () -> TestVocab.make(TestVocab.MIN_SIZE - 1, 1));
        assertEquals(357, TestVocab.MIN_SIZE);
    }

    /** The vocabulary of needle demo and needle bench: valid, seeded, its built-in words reachable. */
    @ParameterizedTest
    @ValueSource(ints = {357, 400, 1024, 8192})
    void wordPrefixesLayoutIsValid(int size) {
        String text = TestVocab.wordPrefixes(size, 5);
        String[] lines = text.split("\n", -1);
        assertEquals(size + 1, lines.length, "size lines, each ending in LF");
        assertEquals(text, TestVocab.wordPrefixes(size, 5), "seeded");
        Set<String> pieces = new HashSet<>();
        for (int id = 0; id < size; id++) {
            String line = lines[id];
            String piece = line.substring(0, line.indexOf('\t'));
            assertTrue(pieces.add(piece) && !piece.contains(" ") && !piece.isEmpty(), piece);
            assertEquals(id < 262 ? "0" : "-" + (id - 262), line.substring(line.indexOf('\t') + 1), line);
        }
        assertEquals("\u2581\t-" + (size - 95 - 262), lines[size - 95], "the alphabet closes the file");
        assertEquals("~\t-" + (size - 1 - 262), lines[size - 1]);
    }

    @Test
    void wordPrefixesSeeded() {
        assertThrows(IllegalArgumentException.class, () -> TestVocab.wordPrefixes(TestVocab.MIN_SIZE - 1, 1));
        // more than the built-in prefixes: the random pieces follow the seed
        assertNotEquals(TestVocab.wordPrefixes(8192, 1), TestVocab.wordPrefixes(8192, 2));
        assertNotEquals(TestVocab.make(1024, 1), TestVocab.wordPrefixes(1024, 1));
    }
}
