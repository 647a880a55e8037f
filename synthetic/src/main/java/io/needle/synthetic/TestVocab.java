package io.needle.synthetic;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * Makes a valid {@code vocab.txt} (docs/spec/MODEL.md section 5) of any size, laid out like the real one
 * (shared/fixtures/tokenizer/README.md), for the seeded random models of {@link ModelWriter}: so
 * small test models, {@code needle demo} and {@code needle bench} can run the tokenizer pipeline.
 * Two kinds, both seeded (the same size and seed always give the same text).
 *
 * <p>{@link #make(int, long)}, the tests' vocabulary:
 * <ul>
 *   <li>ids 0–5: {@code <pad>}, {@code </s>}, {@code <s>}, {@code <unk>}, {@code <tool_call>},
 *       {@code <tools>}, score {@code 0};</li>
 *   <li>ids 6–261: the byte pieces {@code <0x00>} … {@code <0xFF>}, score {@code 0};</li>
 *   <li>then {@code size - 262 - 95} merged pieces in merge order: first the merges a small BPE
 *       training run finds in a built-in corpus of English queries and tool-call JSON (ties broken
 *       by the seeded random), then, when more are needed, seeded random merges of two existing
 *       pieces; each merged piece is the concatenation of two pieces that precede it or belong to
 *       the alphabet, never mixes letters, digits and other characters, carries {@code ▁} only as
 *       its first character and is at most 16 characters long;</li>
 *   <li>last the 95-character alphabet: {@code ▁} and the printable ASCII characters (frequent
 *       letters first).</li>
 * </ul>
 *
 * <p>{@link #wordPrefixes(int, long)}, the vocabulary of {@code needle demo} and {@code needle bench}
 * (BENCHMARKS.md's token counts are counted with it): the same special and byte pieces, then every
 * prefix (two characters or more) of a built-in list of English words ({@code ▁}-prefixed) and
 * JSON fragments of tool calls, so that BPE can reach each of them; then, when more are needed,
 * seeded random letter strings ({@code ▁}-prefixed or not, 2 to 6 letters); last the alphabet in
 * code point order ({@code ▁}, then {@code !} … {@code ~}).
 *
 * <p>In both, normal pieces (id ≥ 262) have score {@code -(id - 262)} (the first is written
 * {@code -0}, as in the real file). All pieces are distinct and contain no tab, line break or
 * space. Lines end with LF, including the last.
 *
 * <p>{@link #MIN_SIZE} is 357 (262 special and byte pieces plus the alphabet).
 */
public final class TestVocab {
    /** The alphabet: ▁ then every printable ASCII character except space. */
    private static final String ALPHABET = buildAlphabet();

    /** The same characters in code point order: the alphabet of {@link #wordPrefixes}. */
    private static final String CODE_POINT_ALPHABET = codePointAlphabet();

    /** Smallest vocabulary this class makes: 262 + the 95-character alphabet. */
    public static final int MIN_SIZE = 262 + ALPHABET.length();

    /** Longest merged piece, in characters. */
    private static final int MAX_PIECE = 16;

    private static final String CORPUS = String.join(" ",
            "What is the weather in Paris today? Set an alarm for 7 am tomorrow morning.",
            "Send a message to Alice saying I will be late. Play some jazz music in the kitchen.",
            "Find a flight from New York to London on Friday and book a table for two at 8 pm.",
            "Turn off the lights in the living room. Remind me to call my mother at 6 pm.",
            "Search the web for the latest news about electric cars. Create a new calendar event.",
            "How far is the nearest station? Translate hello world into Spanish and French.",
            "What time is it in Tokyo? Add milk, eggs and bread to my shopping list.",
            "[{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}]",
            "[{\"name\":\"set_alarm\",\"arguments\":{\"time\":\"07:00\",\"label\":\"wake up\"}}]",
            "[{\"name\":\"send_message\",\"arguments\":{\"recipient\":\"Alice\",\"text\":\"late\"}}]",
            "[{\"name\":\"play_music\",\"arguments\":{\"query\":\"jazz\",\"room\":\"kitchen\"}}]",
            "[{\"name\":\"search_flights\",\"arguments\":{\"origin\":\"NYC\",\"destination\":\"LON\"}}]",
            "[{\"name\":\"create_event\",\"arguments\":{\"title\":\"meeting\",\"date\":\"2024-05-01\"}}]",
            "{\"name\":\"get_weather\",\"description\":\"Get the current weather for a location\","
                    + "\"parameters\":{\"location\":{\"type\":\"string\",\"description\":\"The city name\","
                    + "\"required\":true},\"units\":{\"type\":\"string\",\"description\":\"celsius or"
                    + " fahrenheit\",\"required\":false}}}",
            "{\"name\":\"set_alarm\",\"description\":\"Set an alarm at a given time\",\"parameters\":"
                    + "{\"time\":{\"type\":\"string\",\"description\":\"Time in HH:MM format\","
                    + "\"required\":true},\"label\":{\"type\":\"string\",\"description\":\"Alarm label\","
                    + "\"required\":false}}}",
            "{\"name\":\"send_message\",\"description\":\"Send a text message to a contact\","
                    + "\"parameters\":{\"recipient\":{\"type\":\"string\",\"description\":\"Who receives"
                    + " the message\",\"required\":true},\"text\":{\"type\":\"string\",\"description\":"
                    + "\"The message text\",\"required\":true}}}",
            "{\"name\":\"play_music\",\"description\":\"Play a song, artist or genre\",\"parameters\":"
                    + "{\"query\":{\"type\":\"string\",\"description\":\"What to play\",\"required\":true},"
                    + "\"volume\":{\"type\":\"integer\",\"description\":\"Volume from 0 to 100\","
                    + "\"required\":false}}}",
            "The user wants to know the temperature, the wind speed and the chance of rain.",
            "Please turn the volume up to 75 and shuffle my favourite playlist.",
            "Schedule a meeting with the design team next Monday at 10 am in room 4.");

    /** The words whose prefixes {@link #wordPrefixes} makes pieces (each {@code ▁}-prefixed). */
    private static final String[] WORDS = {
        "the", "what", "What", "is", "in", "to", "a", "for", "and", "of", "me", "my", "on", "at", "from",
        "weather", "Paris", "today", "tomorrow", "book", "Book", "flight", "London", "New", "York", "set",
        "Set", "alarm", "am", "pm", "send", "message", "call", "play", "music", "find", "get", "temperature",
        "city", "location", "unit", "celsius", "fahrenheit", "date", "time", "origin", "destination",
    };

    /** The JSON fragments whose prefixes {@link #wordPrefixes} makes pieces. */
    private static final String[] FRAGMENTS = {
        "[{\"name\":\"", "\",\"arguments\":{\"", "\":\"", "\",\"", "\"}}]", "\"},{\"name\":\"", "\":{\"",
        "\"}}", "get_weather", "book_flight", "set_alarm", "location", "unit", "origin", "destination",
        "date", "time", "string", "description", "type", "required", "true", "false", "null", "parameters",
    };

    private TestVocab() {
    }

    /**
     * The text of a vocab.txt with exactly {@code size} lines (size >= {@link #MIN_SIZE}): the
     * tests' vocabulary, with merges a small BPE training run finds.
     */
    public static String make(int size, long seed) {
        checkSize(size);
        return text(merges(size - MIN_SIZE, new Random(seed)), ALPHABET);
    }

    /**
     * The text of a vocab.txt with exactly {@code size} lines (size >= {@link #MIN_SIZE}): the
     * vocabulary of {@code needle demo} and {@code needle bench}, with the prefixes of built-in
     * words and JSON fragments as its merged pieces (see the class comment).
     */
    public static String wordPrefixes(int size, long seed) {
        checkSize(size);
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
        return text(merged, CODE_POINT_ALPHABET);
    }

    private static void checkSize(int size) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("vocab size " + size + " < minimum " + MIN_SIZE);
        }
    }

    /** The file: special and byte pieces, the merged pieces, then the alphabet. */
    private static String text(List<String> merged, String alphabet) {
        StringBuilder sb = new StringBuilder((MIN_SIZE + merged.size()) * 12);
        String[] specials = {"<pad>", "</s>", "<s>", "<unk>", "<tool_call>", "<tools>"};
        for (String s : specials) {
            sb.append(s).append("\t0\n");
        }
        final String hex = "0123456789ABCDEF";
        for (int b = 0; b < 256; b++) {
            sb.append("<0x").append(hex.charAt(b >> 4)).append(hex.charAt(b & 15)).append(">\t0\n");
        }
        int k = 0;
        for (String p : merged) {
            sb.append(p).append("\t-").append(k++).append('\n');
        }
        for (int i = 0; i < alphabet.length(); i++) {
            sb.append(alphabet.charAt(i)).append("\t-").append(k++).append('\n');
        }
        return sb.toString();
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

    private static String buildAlphabet() {
        StringBuilder sb = new StringBuilder("\u2581etaoinsrhldcumfpgwybvkxjqz\":,_{}[].0123456789");
        for (char c = 'A'; c <= 'Z'; c++) {
            sb.append(c);
        }
        for (char c = 0x21; c < 0x7f; c++) {
            if (sb.indexOf(String.valueOf(c)) < 0) {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static String codePointAlphabet() {
        StringBuilder sb = new StringBuilder("\u2581");
        for (char c = 0x21; c < 0x7f; c++) {
            sb.append(c);
        }
        return sb.toString();
    }

    /** {@code count} distinct merged pieces in merge order. */
    private static List<String> merges(int count, Random random) {
        Set<String> known = new HashSet<>();
        for (int i = 0; i < ALPHABET.length(); i++) {
            known.add(String.valueOf(ALPHABET.charAt(i)));
        }
        List<String> out = new ArrayList<>();

        // 1) BPE training on the corpus: words are whitespace-separated, each prefixed with ▁.
        Map<String, Integer> wordCounts = new LinkedHashMap<>();
        for (String word : words(CORPUS)) {
            wordCounts.merge("\u2581" + word, 1, Integer::sum);
        }
        List<List<String>> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
            List<String> symbols = new ArrayList<>();
            for (int i = 0; i < e.getKey().length(); i++) {
                symbols.add(String.valueOf(e.getKey().charAt(i)));
            }
            words.add(symbols);
            counts.add(e.getValue());
        }
        while (out.size() < count) {
            TreeMap<String, Integer> pairs = new TreeMap<>(); // "a\tb" -> frequency, sorted
            for (int w = 0; w < words.size(); w++) {
                List<String> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (canMerge(s.get(i), s.get(i + 1))) {
                        pairs.merge(s.get(i) + "\t" + s.get(i + 1), counts.get(w), Integer::sum);
                    }
                }
            }
            int best = 0;
            for (int c : pairs.values()) {
                best = Math.max(best, c);
            }
            if (best < 2) {
                break;
            }
            List<String> tied = new ArrayList<>();
            for (Map.Entry<String, Integer> e : pairs.entrySet()) {
                if (e.getValue() == best) {
                    tied.add(e.getKey());
                }
            }
            String pick = tied.get(random.nextInt(tied.size()));
            int tab = pick.indexOf('\t');
            String a = pick.substring(0, tab);
            String b = pick.substring(tab + 1);
            for (List<String> s : words) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i).equals(a) && s.get(i + 1).equals(b)) {
                        s.set(i, a + b);
                        s.remove(i + 1);
                    }
                }
            }
            if (known.add(a + b)) {
                out.add(a + b);
            }
        }

        // 2) Seeded random merges of two existing pieces.
        List<String> pool = new ArrayList<>(known);
        java.util.Collections.sort(pool); // HashSet order is not part of the contract
        while (out.size() < count) {
            String a = pool.get(random.nextInt(pool.size()));
            String b = pool.get(random.nextInt(pool.size()));
            if (canMerge(a, b) && a.length() + b.length() <= 8 && known.add(a + b)) {
                out.add(a + b);
                pool.add(a + b);
            }
        }
        return out;
    }

    /** The non-empty runs of non-space characters of {@code text}, in order. */
    private static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= text.length(); i++) {
            if (i == text.length() || text.charAt(i) == ' ') {
                if (i > start) {
                    out.add(text.substring(start, i));
                }
                start = i + 1;
            }
        }
        return out;
    }

    /** Whether a + b is an allowed piece (▁ only first; no mixing letters, digits, others). */
    private static boolean canMerge(String a, String b) {
        if (b.charAt(0) == '\u2581' || a.length() + b.length() > MAX_PIECE) {
            return false;
        }
        String body = a.charAt(0) == '\u2581' ? a.substring(1) : a;
        if (body.isEmpty()) {
            return true;
        }
        return kind(body.charAt(0)) == kind(b.charAt(0));
    }

    /** 0 letter, 1 digit, 2 anything else. */
    private static int kind(char c) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            return 0;
        }
        return c >= '0' && c <= '9' ? 1 : 2;
    }
}
