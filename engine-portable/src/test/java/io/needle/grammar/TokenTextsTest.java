package io.needle.grammar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.needle.tokenizer.Tokenizer;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class TokenTextsTest {
    @Test
    void everyTokensTextIsItsTokenizerBytes() throws IOException {
        Tokenizer tok = GrammarTesting.tokenizer();
        TokenTexts texts = TokenTexts.of(tok);
        assertEquals(tok.size(), texts.size());
        int empty = 0;
        for (int id = 0; id < tok.size(); id++) {
            byte[] expected = tok.tokenBytes(id);
            byte[] got = new byte[texts.length(id)];
            for (int k = 0; k < got.length; k++) {
                got[k] = (byte) texts.byteAt(id, k);
            }
            assertArrayEquals(expected, got, "token " + id);
            empty += got.length == 0 ? 1 : 0;
        }
        assertEquals(true, empty > 0 && empty < tok.size(), "control pieces have no text, the others do");
    }

    @Test
    void bytesAreUnsignedAndTextsMayBeEmpty() {
        TokenTexts texts = TokenTexts.of(new byte[][] {{}, {(byte) 0xe2, (byte) 0x96, (byte) 0x81}, {' '}, {}});
        assertEquals(4, texts.size());
        assertEquals(0, texts.length(0));
        assertEquals(3, texts.length(1));
        assertEquals(0xe2, texts.byteAt(1, 0));
        assertEquals(0x81, texts.byteAt(1, 2));
        assertEquals(' ', texts.byteAt(2, 0));
        assertEquals(0, texts.length(3));
    }
}
