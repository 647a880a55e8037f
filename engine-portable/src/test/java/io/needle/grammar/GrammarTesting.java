package io.needle.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.tools.ToolCatalog;
import io.needle.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Random;

/** Shared helpers of the grammar tests: a tool catalogue, byte feeding, random walks, the fixture vocab. */
final class GrammarTesting {
    private GrammarTesting() {
    }

    /**
     * A catalogue using all three input forms (docs/spec/MODEL.md section 3) and every value kind. Written
     * with ' for ".
     */
    static final String TOOLS = j("["
            // (a) flat form; one required string, an integer, a string enum
            + "{'name':'get_weather','description':'Current weather','parameters':{"
            + "'location':{'type':'string','description':'City','required':true},"
            + "'days':{'type':'integer','required':false},"
            + "'unit':{'type':'string','enum':['celsius','fahrenheit'],'required':false}}},"
            // a name that snake_cases to one sharing the prefix get_weather
            + "{'name':'getWeatherForecast','parameters':{'location':{'type':'string','required':true}}},"
            // (c) OpenAI wrapper around (b) JSON Schema; nothing required; every other kind
            + "{'type':'function','function':{'name':'set_values','description':'All kinds',"
            + "'parameters':{'type':'object','properties':{"
            + "'ratio':{'type':'number'},"
            + "'flag':{'type':'boolean'},"
            + "'level':{'enum':[1,12,3.5,-2]},"
            + "'mode':{'type':'string','enum':['a','ab','\u00e9t\u00e9']},"
            + "'tags':{'type':'array'},"
            + "'opts':{'type':'object'},"
            + "'any':{'description':'untyped'},"
            + "'count':{'type':'INTEGER'}}}}},"
            // (b) JSON Schema with a required list; keys sharing a prefix
            + "{'name':'book_flight','parameters':{'type':'object','properties':{"
            + "'origin':{'type':'string'},'destination':{'type':'string'},"
            + "'date':{'type':'string'},'date_flexible':{'type':'boolean'}},"
            + "'required':['origin','destination']}},"
            // no parameters at all
            + "{'name':'ping','parameters':{}},"
            // one optional parameter: after it no comma is possible
            + "{'name':'mute','parameters':{'minutes':{'type':'integer'}}},"
            // cannot be called: a required enum without values
            + "{'name':'broken','parameters':{'x':{'enum':[],'required':true}}}"
            + "]");

    /** JSON texts are easier to read with ' for ". */
    static String j(String s) {
        return s.replace('\'', '"');
    }

    static ToolGrammar grammar(String toolsJson) {
        return ToolGrammar.compile(ToolCatalog.parse(toolsJson));
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Feeds every byte; the index of the first rejected byte, or -1 when all were accepted. */
    static int firstRejected(GrammarState s, byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (!s.feed(bytes[i] & 0xff)) {
                return i;
            }
        }
        return -1;
    }

    /** The state after {@code prefix} (asserting every byte is accepted). */
    static GrammarState after(ToolGrammar g, String prefix) {
        return after(g, utf8(prefix));
    }

    static GrammarState after(ToolGrammar g, byte[] prefix) {
        GrammarState s = new GrammarState(g);
        int bad = firstRejected(s, prefix);
        assertEquals(-1, bad, () -> "prefix rejected at byte " + bad + " of " + show(prefix));
        return s;
    }

    /** Asserts that {@code text} is a complete output: every byte accepted and the state done. */
    static void assertComplete(ToolGrammar g, String text) {
        GrammarState s = after(g, text);
        assertTrue(s.isDone(), () -> "not complete: " + text);
    }

    /** Asserts that every byte of {@code prefix} is accepted and that then {@code next}'s first byte is not. */
    static void assertRejects(ToolGrammar g, String prefix, String next) {
        assertRejects(g, utf8(prefix), utf8(next));
    }

    static void assertRejects(ToolGrammar g, byte[] prefix, byte[] next) {
        GrammarState s = after(g, prefix);
        assertFalse(s.copy().feed(next[0] & 0xff),
                () -> "accepted byte " + show(new byte[] {next[0]}) + " after " + show(prefix));
    }

    /** Which of the 256 byte values {@code s} accepts next. */
    static boolean[] acceptedBytes(GrammarState s) {
        boolean[] ok = new boolean[256];
        for (int b = 0; b < 256; b++) {
            ok[b] = s.copy().feed(b);
        }
        return ok;
    }

    static int count(boolean[] set) {
        int n = 0;
        for (boolean b : set) {
            if (b) {
                n++;
            }
        }
        return n;
    }

    /** Bytes a closing walk prefers, in order: they lead to the end of any open construct. */
    private static final byte[] CLOSERS = utf8("\"}],0");

    /**
     * One step of a random byte walk: a random accepted byte that does not end the output (unless
     * nothing else is accepted), or (closing) the first accepted byte of {@link #CLOSERS}, falling
     * back to a random accepted one. -1 when none is accepted.
     */
    static int pickByte(GrammarState s, Random rnd, boolean closing) {
        boolean[] ok = acceptedBytes(s);
        if (closing) {
            for (byte c : CLOSERS) {
                if (ok[c]) {
                    return c;
                }
            }
        } else if (ok[']'] && count(ok) > 1) {
            GrammarState t = s.copy();
            t.feed(']');
            ok[']'] = !t.isDone();
        }
        int n = count(ok);
        if (n == 0) {
            return -1;
        }
        int k = rnd.nextInt(n);
        for (int b = 0; b < 256; b++) {
            if (ok[b] && k-- == 0) {
                return b;
            }
        }
        throw new AssertionError();
    }

    /** Readable form of bytes: ASCII as is, others as \xNN. */
    static String show(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte x : bytes) {
            int b = x & 0xff;
            if (b >= 0x20 && b < 0x7f) {
                sb.append((char) b);
            } else {
                sb.append("\\x").append(Integer.toHexString(b | 0x100).substring(1));
            }
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ the fixture vocabulary

    private static Tokenizer tokenizer;
    private static TokenTrie trie;
    private static byte[][] tokenBytes;

    static synchronized Tokenizer tokenizer() throws IOException {
        if (tokenizer == null) {
            String shared = System.getProperty("needle.shared");
            if (shared == null) {
                throw new IllegalStateException("system property needle.shared is not set");
            }
            byte[] vocab = Files.readAllBytes(Paths.get(shared, "fixtures", "tokenizer", "vocab.txt"));
            tokenizer = Tokenizer.fromVocab(new String(vocab, StandardCharsets.UTF_8));
        }
        return tokenizer;
    }

    static synchronized TokenTrie trie() throws IOException {
        if (trie == null) {
            trie = new TokenTrie(tokenizer());
        }
        return trie;
    }

    static synchronized byte[][] tokenBytes() throws IOException {
        if (tokenBytes == null) {
            Tokenizer tok = tokenizer();
            byte[][] b = new byte[tok.size()][];
            for (int id = 0; id < b.length; id++) {
                b[id] = tok.tokenBytes(id);
            }
            tokenBytes = b;
        }
        return tokenBytes;
    }
}
