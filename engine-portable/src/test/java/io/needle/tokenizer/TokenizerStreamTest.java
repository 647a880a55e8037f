package io.needle.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** StreamDecoder: the concatenation of push() and finish() equals decode(). */
class TokenizerStreamTest {

    private static String streamed(Tokenizer t, int[] ids) {
        StreamDecoder d = new StreamDecoder(t);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(d.push(id));
        }
        return sb.append(d.finish()).toString();
    }

    @Test
    void everyFixtureCase() throws Exception {
        Tokenizer t = TokenizerFixtures.tokenizer();
        int n = 0;
        for (TokenizerFixtures.Case c : TokenizerFixtures.cases()) {
            assertEquals(t.decode(c.ids), streamed(t, c.ids), "line " + c.line);
            if (c.kind.equals("decode")) {
                assertEquals(c.text, streamed(t, c.ids), "line " + c.line);
            }
            n++;
        }
        System.out.println("stream decoder: " + n + " fixture id sequences agree with decode");
    }

    @Test
    void holdsBackIncompleteCharacters() throws Exception {
        Tokenizer t = TokenizerFixtures.tokenizer();
        StreamDecoder d = new StreamDecoder(t);
        // U+1F600 = F0 9F 98 80, then 'x' (a normal piece).
        assertEquals("", d.push(6 + 0xF0));
        assertEquals("", d.push(6 + 0x9F));
        assertEquals("", d.push(6 + 0x98));
        assertEquals("\uD83D\uDE00", d.push(6 + 0x80));
        // A lead byte followed by ASCII is proven malformed at once.
        assertEquals("", d.push(6 + 0xE2));
        assertEquals("\uFFFDA", d.push(6 + 'A'));
        // An incomplete character at the end is flushed by finish().
        assertEquals("", d.push(6 + 0xE2));
        assertEquals("", d.push(6 + 0x82));
        assertEquals("\uFFFD\uFFFD", d.finish());
    }

    @Test
    void leadingSpaceRule() throws Exception {
        Tokenizer t = TokenizerFixtures.tokenizer();
        int space = t.pieceToId("\u2581");
        StreamDecoder d = new StreamDecoder(t);
        assertEquals("", d.push(0));
        assertEquals("", d.push(space));
        assertEquals("", d.push(space));
        assertEquals(" ", d.push(6 + ' '));
        assertEquals(" ", d.push(space));
        assertEquals("", d.finish());
    }

    @Test
    void randomSequences() throws Exception {
        Tokenizer t = TokenizerFixtures.tokenizer();
        Random r = new Random(12345);
        int space = t.pieceToId("\u2581");
        for (int trial = 0; trial < 3000; trial++) {
            int[] ids = new int[r.nextInt(24)];
            for (int k = 0; k < ids.length; k++) {
                int pick = r.nextInt(10);
                if (pick < 5) {
                    ids[k] = 6 + (r.nextInt(3) == 0 ? r.nextInt(256) : 0x80 + r.nextInt(0x78)); // bytes, mostly non-ASCII
                } else if (pick < 6) {
                    ids[k] = r.nextInt(6); // specials
                } else if (pick < 7) {
                    ids[k] = space;
                } else {
                    ids[k] = r.nextInt(t.size());
                }
            }
            assertEquals(t.decode(ids), streamed(t, ids), java.util.Arrays.toString(ids));
        }
    }
}
