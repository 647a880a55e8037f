package io.needle.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.synthetic.TestVocab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The generated vocabularies (module synthetic, {@code io.needle.synthetic.TestVocab}) in the engine's tokenizer. */
class TestVocabTokenizerTest {

    /** They load and round-trip text; merges shorten it. */
    @ParameterizedTest
    @ValueSource(ints = {357, 512, 8192})
    void loadsInTokenizer(int size) {
        Tokenizer t = Tokenizer.fromVocab(TestVocab.make(size, 7));
        assertEquals(size, t.size());
        String text = "What is the weather in Paris? [{\"name\":\"get_weather\",\"arguments\":"
                + "{\"location\":\"Z\u00fcrich\"}}] \u65e5\u672c";
        int[] ids = t.encode(text);
        assertEquals(text, t.decode(ids));
        if (size >= 512) {
            assertTrue(ids.length < text.length() / 2, "merges shorten the text: " + ids.length);
        }
    }

    /** The vocabulary of needle demo and needle bench loads (the tokenizer rejects duplicates and a wrong layout). */
    @ParameterizedTest
    @ValueSource(ints = {357, 400, 1024, 8192})
    void wordPrefixesLoad(int size) {
        assertEquals(size, Tokenizer.fromVocab(TestVocab.wordPrefixes(size, 5)).size());
    }

    /** Its built-in words are reachable pieces: "weather" is one token. */
    @Test
    void wordPrefixesBuiltInWordsAreReachable() {
        Tokenizer t = Tokenizer.fromVocab(TestVocab.wordPrefixes(1024, 1));
        assertEquals(1, t.encode("weather").length);
    }
}
