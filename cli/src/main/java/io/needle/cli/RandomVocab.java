package io.needle.cli;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Makes a valid {@code vocab.txt} (MODEL.md section 5) of any size from {@link #MIN_SIZE} up, laid
 * out like the real one, for random models ({@link RandomModel}) in {@code needle demo} and
 * benchmarks:
 * <ul>
 *   <li>ids 0–5 {@code <pad> </s> <s> <unk> <tool_call> <tools>}, ids 6–261 the byte pieces
 *       {@code <0x00>}…{@code <0xFF>}, score {@code 0};</li>
 *   <li>then merged pieces: every prefix (two characters or more) of a built-in list of English
 *       words ({@code ▁}-prefixed) and JSON fragments of tool calls, so that BPE can reach each of
 *       them; then, when more are needed, seeded random letter strings;</li>
 *   <li>last the 95-character alphabet: {@code ▁} and printable ASCII.</li>
 * </ul>
 * Normal pieces (id ≥ 262) have score {@code -(id - 262)} (the first written {@code -0}). Pieces
 * are distinct and contain no tab, line break or space; lines end with LF.
 */
final class RandomVocab {
    /** ▁ and the printable ASCII characters other than space. */
    private static final String ALPHABET = alphabet();

    /** The smallest vocabulary: 262 special and byte pieces plus the alphabet. */
    static final int MIN_SIZE = 262 + ALPHABET.length();

    private static final String[] WORDS = {
        "the", "what", "What", "is", "in", "to", "a", "for", "and", "of", "me", "my", "on", "at", "from",
        "weather", "Paris", "today", "tomorrow", "book", "Book", "flight", "London", "New", "York", "set",
        "Set", "alarm", "am", "pm", "send", "message", "call", "play", "music", "find", "get", "temperature",
        "city", "location", "unit", "celsius", "fahrenheit", "date", "time", "origin", "destination",
    };

    private static final String[] FRAGMENTS = {
        "[{\"name\":\"", "\",\"arguments\":{\"", "\":\"", "\",\"", "\"}}]", "\"},{\"name\":\"", "\":{\"",
        "\"}}", "get_weather", "book_flight", "set_alarm", "location", "unit", "origin", "destination",
        "date", "time", "string", "description", "type", "required", "true", "false", "null", "parameters",
    };

    private RandomVocab() {
    }

    /** The text of a vocab.txt with exactly {@code size} lines ({@code size >= MIN_SIZE}). */
    static String make(int size, long seed) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("vocabulary size " + size + " is below the minimum " + MIN_SIZE);
        }
        Set<String> used = new HashSet<>();
        for (int i = 0; i < ALPHABET.length(); i++) {
            used.add(String.valueOf(ALPHABET.charAt(i)));
        }
        int count = size - MIN_SIZE;
        List<String> merged = new ArrayList<>();
        for (String w : WORDS) {
            addPrefixes(merged, used, "\u2581" + w, count);
        }
        for (String f : FRAGMENTS) {
            addPrefixes(merged, used, f, count);
        }
        Random random = new Random(seed);
        while (merged.size() < count) {
            StringBuilder sb = new StringBuilder();
            if (random.nextBoolean()) {
                sb.append('\u2581');
            }
            int len = 2 + random.nextInt(5);
            for (int i = 0; i < len; i++) {
                sb.append((char) ('a' + random.nextInt(26)));
            }
            if (used.add(sb.toString())) {
                merged.add(sb.toString());
            }
        }

        StringBuilder out = new StringBuilder(size * 12);
        for (String s : new String[] {"<pad>", "</s>", "<s>", "<unk>", "<tool_call>", "<tools>"}) {
            out.append(s).append("\t0\n");
        }
        String hex = "0123456789ABCDEF";
        for (int b = 0; b < 256; b++) {
            out.append("<0x").append(hex.charAt(b >> 4)).append(hex.charAt(b & 15)).append(">\t0\n");
        }
        int k = 0;
        for (String p : merged) {
            out.append(p).append("\t-").append(k++).append('\n');
        }
        for (int i = 0; i < ALPHABET.length(); i++) {
            out.append(ALPHABET.charAt(i)).append("\t-").append(k++).append('\n');
        }
        return out.toString();
    }

    /** Adds the prefixes of {@code word} of two characters or more that are new, up to {@code limit} pieces. */
    private static void addPrefixes(List<String> merged, Set<String> used, String word, int limit) {
        for (int n = 2; n <= word.length() && merged.size() < limit; n++) {
            String p = word.substring(0, n);
            if (used.add(p)) {
                merged.add(p);
            }
        }
    }

    private static String alphabet() {
        StringBuilder sb = new StringBuilder("\u2581");
        for (char c = 0x21; c < 0x7f; c++) {
            sb.append(c);
        }
        return sb.toString();
    }
}
