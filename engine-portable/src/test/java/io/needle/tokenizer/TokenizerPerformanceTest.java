package io.needle.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Long inputs without spaces (compact JSON catalogues) must encode in O(n log n). */
class TokenizerPerformanceTest {

    @Test
    void longRandomStringEncodesFastAndRoundTrips() throws Exception {
        Tokenizer t = TokenizerFixtures.tokenizer();
        // ~200 KB of characters that are all in the vocabulary alphabet (ASCII printable except
        // space, so nothing becomes <unk> and no space rule applies), as one long "word".
        Random r = new Random(7);
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789{}[]\":,._-";
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 200_000) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        String text = sb.toString();
        t.encode(text.substring(0, 10_000)); // warm up
        long t0 = System.nanoTime();
        int[] ids = t.encode(text);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("encode of " + text.length() + " chars: " + ids.length + " tokens in " + ms + " ms");
        assertTrue(ms < 5000, "encode took " + ms + " ms");
        assertEquals(text, t.decode(ids));
    }

    @Test
    void longCompactJsonAndMixedText() throws Exception {
        Tokenizer t = TokenizerFixtures.tokenizer();
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; sb.length() < 100_000; i++) {
            sb.append("{\"name\":\"tool_").append(i).append("\",\"description\":\"Get the weather for a city ")
                    .append(i).append(".\",\"parameters\":{\"city\":{\"type\":\"string\",\"description\":\"City name\",\"required\":true}}},");
        }
        sb.append("{}]");
        String json = sb.toString();
        long t0 = System.nanoTime();
        int[] ids = t.encode(json);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("encode of " + json.length() + " chars of JSON: " + ids.length + " tokens in " + ms + " ms");
        assertTrue(ms < 5000, "encode took " + ms + " ms");
        assertEquals(json, t.decode(ids));

        // Random characters from the whole BMP and beyond (byte fallback), single spaces only.
        Random r = new Random(99);
        StringBuilder mixed = new StringBuilder("x");
        while (mixed.length() < 200_000) {
            int cp = r.nextInt(4) == 0 ? 0x20 + r.nextInt(0x5F) : 0xA0 + r.nextInt(0x1F000);
            if (cp >= 0xD800 && cp < 0xE000 || cp == 0x2581 || cp == 0xFFFD) {
                continue;
            }
            if (cp == ' ' && mixed.charAt(mixed.length() - 1) == ' ') {
                continue;
            }
            mixed.appendCodePoint(cp);
        }
        mixed.append('x');
        String text = mixed.toString();
        t0 = System.nanoTime();
        ids = t.encode(text);
        ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("encode of " + text.length() + " mixed chars: " + ids.length + " tokens in " + ms + " ms");
        assertTrue(ms < 5000, "encode took " + ms + " ms");
        assertEquals(text, t.decode(ids));
    }
}
