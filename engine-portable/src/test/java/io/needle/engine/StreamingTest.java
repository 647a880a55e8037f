package io.needle.engine;

import io.needle.tools.ToolCatalog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import io.needle.testing.Shared;
import io.needle.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Streaming: the {@link TokenListener} pieces plus the {@code onFinish} tail are exactly
 * {@link RunResult#text}, also when names are restored (a renamed tool's snake_case name is held
 * back until its closing quote), when byte tokens split a multi-byte character (the bytes appear
 * with the token that completes it), and when the budget ends mid-name or mid-character (the tail
 * carries what was held back). (The property test checks the concatenation on every one of its runs
 * too.)
 */
class StreamingTest {
    /** Renamed tools only (camelCase, spaces, dotted), string parameters for non-ASCII text. */
    static final String TOOLS = "[{\"name\":\"getWeather\",\"parameters\":{\"city\":{\"type\":\"string\",\"required\":true}}},"
            + "{\"name\":\"Send Message\",\"parameters\":{\"text\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"}}},"
            + "{\"type\":\"function\",\"function\":{\"name\":\"user.getProfile\",\"parameters\":{\"type\":\"object\","
            + "\"properties\":{\"id\":{\"type\":\"integer\"}}}}}]";

    /** What a listener saw. */
    static final class Recorder implements TokenListener {
        final List<Integer> ids = new ArrayList<>();
        final List<String> pieces = new ArrayList<>();
        String tail;
        int finishes;

        @Override
        public void onToken(int tokenId, String piece) {
            ids.add(tokenId);
            pieces.add(piece);
        }

        @Override
        public void onFinish(String t) {
            tail = t;
            finishes++;
        }

        String all() {
            return String.join("", pieces) + tail;
        }
    }

    static final class Subject {
        final NeedleEngine engine;
        final Perturbation.Classes classes;

        Subject(NeedleEngine engine) {
            this.engine = engine;
            this.classes = new Perturbation.Classes(engine.tokenizer());
        }

        /** A perturbed run (strings end quickly: structure 0.3) with a recorder. */
        RunResult run(long seed, int max, Recorder rec) {
            return engine.run("weather in Zürich, then text Zoë", TOOLS, new RunOptions().maxNewTokens(max).listener(rec)
                    .wrapper(inner -> new Perturbation(inner, classes, seed, 50f, 30, 0.3)));
        }
    }

    static List<Subject> subjects() {
        List<Subject> s = new ArrayList<>();
        s.add(new Subject(NeedleEngine.load(new ModelWriter().seed(61).vocabSize(8192).dModel(32).heads(4, 2)
                .layers(1, 1).build(), Shared.vocab())));
        s.add(new Subject(NeedleEngine.load(new ModelWriter().seed(62).vocabSize(400).dModel(32).heads(4, 2)
                .layers(1, 1).build(), TestVocab.make(400, 62))));
        return s;
    }

    static void checkConcatenation(RunResult r, Recorder rec) {
        assertEquals(1, rec.finishes, "onFinish once");
        assertEquals(r.tokens.length, rec.ids.size(), "one onToken per generated id");
        for (int i = 0; i < r.tokens.length; i++) {
            assertEquals(r.tokens[i], (int) rec.ids.get(i));
        }
        assertEquals(r.text, rec.all(), "pieces + tail");
        for (String p : rec.pieces) {
            assertFalse(hasLoneSurrogate(p), "a piece splits a surrogate pair: " + p);
        }
    }

    static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return true;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    /** Where a snake name is being written: token indexes i such that the name is open after token i. */
    static List<Integer> insideName(Tokenizer tok, int[] ids) {
        List<Integer> at = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (int i = 1; i < ids.length; i++) {
            text.append(new String(tok.tokenBytes(ids[i]), java.nio.charset.StandardCharsets.UTF_8));
            String t = text.toString();
            int open = t.lastIndexOf("\"name\":\"");
            if (open >= 0 && t.indexOf('"', open + 8) < 0 && t.length() > open + 8) {
                at.add(i);
            }
        }
        return at;
    }

    @Test
    void piecesSpellTheTextWithRestoredNamesAndSplitCharacters() {
        int restored = 0;
        int split = 0;
        int runs = 0;
        for (Subject s : subjects()) {
            Tokenizer tok = s.engine.tokenizer();
            for (long seed = 0; seed < 40; seed++) {
                Recorder rec = new Recorder();
                RunResult r = s.run(seed, 120, rec);
                checkConcatenation(r, rec);
                runs++;
                if (r.text.contains("\"name\":\"getWeather\"") || r.text.contains("\"name\":\"Send Message\"")
                        || r.text.contains("\"name\":\"user.getProfile\"")) {
                    restored++;
                    // the snake name never shows in a piece
                    for (String p : rec.pieces) {
                        assertFalse(p.contains("get_weather") || p.contains("send_message")
                                || p.contains("user_get_profile"), p);
                    }
                }
                for (int i = 1; i + 1 < r.tokens.length; i++) {
                    int lead = tok.isByte(r.tokens[i]) ? tok.tokenBytes(r.tokens[i])[0] & 0xff : 0;
                    if (lead >= 0xC2 && tok.isByte(r.tokens[i + 1])) {
                        assertEquals("", rec.pieces.get(i), "a lead byte shows nothing yet");
                        split++;
                    }
                }
            }
        }
        System.out.println("[streaming] " + runs + " runs, " + restored + " with restored names, " + split
                + " multi-byte characters split over byte tokens");
        assertTrue(restored >= 20, "runs with restored names: " + restored + " of " + runs);
        assertTrue(split >= 5, "split multi-byte characters: " + split);
    }

    @Test
    void aBudgetEndingMidNameOrMidCharacterPutsTheRestInTheTail() {
        int midName = 0;
        int midChar = 0;
        for (Subject s : subjects()) {
            Tokenizer tok = s.engine.tokenizer();
            for (long seed = 0; seed < 40 && (midName < 6 || midChar < 3); seed++) {
                RunResult full = s.run(seed, 150, new Recorder());
                for (int i : insideName(tok, full.tokens)) {
                    Recorder rec = new Recorder();
                    RunResult cut = s.run(seed, i + 1, rec); // same seed: same tokens up to the budget
                    assertEquals(i + 1, cut.tokens.length);
                    assertFalse(cut.complete);
                    checkConcatenation(cut, rec);
                    assertFalse(rec.tail.isEmpty(), "the open name is in the tail");
                    assertTrue(rec.tail.startsWith("\""), rec.tail);
                    assertTrue(cut.text.endsWith(rec.tail));
                    midName++;
                    break;
                }
                for (int i = 1; i + 1 < full.tokens.length; i++) {
                    int lead = tok.isByte(full.tokens[i]) ? tok.tokenBytes(full.tokens[i])[0] & 0xff : 0;
                    if (lead >= 0xC2) {
                        Recorder rec = new Recorder();
                        RunResult cut = s.run(seed, i + 1, rec);
                        checkConcatenation(cut, rec);
                        assertEquals("", rec.pieces.get(i));
                        assertEquals("\uFFFD", rec.tail, "an unfinished character ends as U+FFFD");
                        assertEquals(ToolCatalog.parse(TOOLS).restoreNames(s.engine.outputText(cut.tokens)), cut.text);
                        midChar++;
                        break;
                    }
                }
            }
        }
        System.out.println("[streaming] budget cut mid-name " + midName + " times, mid-character " + midChar + " times");
        assertTrue(midName >= 6, "cuts mid-name: " + midName);
        assertTrue(midChar >= 3, "cuts mid-character: " + midChar);
    }

    @Test
    void unconstrainedAndEmptyRunsStreamToo() {
        for (Subject s : subjects()) {
            for (int max : new int[] {0, 1, 7, 60}) {
                Recorder rec = new Recorder();
                RunResult r = s.engine.run("hello", TOOLS, new RunOptions().maxNewTokens(max).constrain(false).listener(rec));
                checkConcatenation(r, rec);
                Recorder rec2 = new Recorder();
                RunResult r2 = s.engine.run("hello", TOOLS, new RunOptions().maxNewTokens(max).listener(rec2));
                checkConcatenation(r2, rec2);
            }
        }
    }
}
