package io.needle.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PieceIndexTest {
    @Test
    void findsWhatAMapFindsWholeAndAsARangeOfALongerText() {
        Random rnd = new Random(3);
        String alphabet = "ab\u2581c\u00e9\u4e2d"; // ASCII, the space symbol, Latin, CJK
        PieceIndex index = new PieceIndex(4); // grows
        Map<String, Integer> map = new HashMap<>();
        for (int id = 0; id < 20_000; id++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + rnd.nextInt(6);
            for (int i = 0; i < n; i++) {
                sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
            String piece = sb.toString();
            Integer earlier = map.putIfAbsent(piece, id);
            assertEquals(earlier == null ? -1 : earlier, index.putIfAbsent(piece, id), piece);
        }
        for (Map.Entry<String, Integer> e : map.entrySet()) {
            assertEquals((int) e.getValue(), index.get(e.getKey()));
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 2_000; i++) {
            text.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
        }
        String t = text.toString();
        for (int from = 0; from < t.length(); from++) {
            for (int to = from + 1; to <= Math.min(t.length(), from + 8); to++) {
                Integer id = map.get(t.substring(from, to));
                assertEquals(id == null ? -1 : id, index.get(t, from, to), t.substring(from, to));
                assertEquals(index.get(t.substring(from, to)), index.get(t, from, to));
            }
        }
        assertEquals(-1, index.get("zz"));
        assertEquals(-1, index.get("xzzy", 1, 3));
    }
}
