package io.needle.grammar;

import io.needle.base.SpecialTokens;
import static io.needle.grammar.GrammarTesting.TOOLS;
import static io.needle.grammar.GrammarTesting.after;
import static io.needle.grammar.GrammarTesting.grammar;
import static io.needle.grammar.GrammarTesting.j;
import static io.needle.grammar.GrammarTesting.show;
import static io.needle.grammar.GrammarTesting.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The constrained decoder on token level with the fixture vocabulary (8192 pieces): which token
 * ids it allows, how it masks logits, and that the trie walk plus the signature cache give exactly
 * the brute-force answer (feed every token's bytes to a copy of the state).
 */
class ConstrainedDecoderTest {
    private static final ToolGrammar G = grammar(TOOLS);
    private static final int EOS = SpecialTokens.EOS;
    private static final int TOOL_CALL = SpecialTokens.TOOL_CALL;

    private static Tokenizer tok;
    private static TokenTrie trie;
    private static byte[][] bytes;
    /** Single-character pieces a closing walk prefers, in order. */
    private static int[] closers;

    @BeforeAll
    static void load() throws IOException {
        tok = GrammarTesting.tokenizer();
        trie = GrammarTesting.trie();
        bytes = GrammarTesting.tokenBytes();
        String[] c = {"\"", "}", "]", ",", "0"};
        closers = new int[c.length];
        for (int i = 0; i < c.length; i++) {
            closers[i] = piece(c[i]);
        }
    }

    /** The id of a piece (▁ written as is); fails when the vocabulary does not have it. */
    private static int piece(String p) {
        int id = tok.pieceToId(p);
        assertTrue(id > 3, () -> "the fixture vocabulary has no piece " + p);
        return id;
    }

    private static ConstrainedDecoder decoder(ToolGrammar g) {
        return new ConstrainedDecoder(g, trie, TokenTexts.of(bytes));
    }

    /** A started decoder (after {@code <tool_call>}) that has taken the tokens of {@code text} byte by byte. */
    private static ConstrainedDecoder decoderAfter(ToolGrammar g, String text) {
        ConstrainedDecoder d = decoder(g);
        d.accept(TOOL_CALL);
        for (byte b : utf8(text)) {
            d.accept(6 + (b & 0xff)); // byte pieces: id = 6 + byte value
        }
        return d;
    }

    private static boolean[] asSet(int[] ids) {
        boolean[] set = new boolean[tok.size()];
        for (int id : ids) {
            assertFalse(set[id], "id listed twice: " + id);
            set[id] = true;
        }
        return set;
    }

    private static int[] sorted(int[] ids) {
        int[] s = ids.clone();
        Arrays.sort(s);
        return s;
    }

    /** Every token whose whole text the grammar accepts from {@code s}, by feeding each one. */
    private static int[] bruteForce(GrammarState s) {
        List<Integer> ok = new ArrayList<>();
        for (int id = 0; id < bytes.length; id++) {
            if (bytes[id].length == 0) {
                continue;
            }
            GrammarState c = s.copy();
            boolean all = true;
            for (byte b : bytes[id]) {
                if (!c.feed(b & 0xff)) {
                    all = false;
                    break;
                }
            }
            if (all) {
                ok.add(id);
            }
        }
        int[] r = new int[ok.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = ok.get(i);
        }
        return r;
    }

    private static int[] without(int[] ids, int id) {
        List<Integer> r = new ArrayList<>();
        for (int x : ids) {
            if (x != id) {
                r.add(x);
            }
        }
        int[] a = new int[r.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.get(i);
        }
        return a;
    }

    private static boolean allows(ConstrainedDecoder d, int id) {
        return asSet(d.allowed())[id];
    }

    /**
     * A random allowed token (one that does not end the output, if it can), or (closing) the first
     * allowed closer.
     */
    private static int pickToken(ConstrainedDecoder d, Random rnd, boolean closing) {
        int[] allowed = d.allowed();
        if (closing) {
            boolean[] set = asSet(allowed);
            for (int c : closers) {
                if (set[c]) {
                    return c;
                }
            }
        }
        int id = allowed[rnd.nextInt(allowed.length)];
        for (int tries = 0; tries < 10 && !closing && ends(d, id); tries++) {
            id = allowed[rnd.nextInt(allowed.length)];
        }
        return id;
    }

    private static boolean ends(ConstrainedDecoder d, int id) {
        GrammarState s = d.state();
        for (byte b : bytes[id]) {
            s.feed(b & 0xff);
        }
        return s.isDone();
    }

    // ------------------------------------------------------------------ first steps

    @Test
    void stepZeroAllowsOnlyToolCall() {
        ConstrainedDecoder d = decoder(G);
        assertFalse(d.started());
        assertArrayEquals(new int[] {TOOL_CALL}, d.allowed());
        float[] logits = new float[tok.size()];
        Arrays.fill(logits, 3f);
        logits[EOS] = 100f;
        d.mask(logits);
        for (int id = 0; id < logits.length; id++) {
            assertEquals(id == TOOL_CALL ? 3f : Float.NEGATIVE_INFINITY, logits[id], "id " + id);
        }
        assertThrows(IllegalStateException.class, () -> d.accept(piece("[")));
        assertThrows(IllegalStateException.class, () -> d.accept(EOS));
        assertFalse(d.started());
        d.accept(TOOL_CALL);
        assertTrue(d.started());
        assertFalse(d.isDone());
        assertThrows(IllegalStateException.class, () -> d.accept(TOOL_CALL));
    }

    @Test
    void afterToolCallOnlyTheOpeningBracket() {
        ConstrainedDecoder d = decoder(G);
        d.accept(TOOL_CALL);
        int[] allowed = d.allowed();
        // the grammar takes any leading space, the decoder only the ▁ of a piece: the byte piece
        // <0x20> would stay in the detokenized text
        int space = 6 + ' ';
        assertEquals(space, trie.spaceBytePiece());
        assertTrue(asSet(bruteForce(new GrammarState(G)))[space]);
        assertFalse(asSet(allowed)[space]);
        assertThrows(IllegalStateException.class, () -> d.accept(space));
        assertArrayEquals(sorted(without(bruteForce(new GrammarState(G)), space)), sorted(allowed));
        for (int id : allowed) {
            String text = new String(bytes[id], java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(text.startsWith("[") || text.startsWith(" [") || text.equals(" "), text);
        }
        boolean[] set = asSet(allowed);
        // what the model was trained to write first: sp.Encode("[…]") starts with ▁[{" or ▁[]
        assertTrue(set[piece("[")]);
        assertTrue(set[piece("\u2581[{\"")]);
        assertTrue(set[piece("\u2581[]")]);
        assertTrue(set[piece("\u2581")], "the dummy-prefix space alone, [ must follow");
        assertTrue(set[6 + '[']);
        assertFalse(set[piece("{\"")]);
        assertFalse(set[EOS]);
    }

    @Test
    void withoutToolsOnlyTheEmptyArray() {
        ConstrainedDecoder d = decoder(grammar("[]"));
        d.accept(TOOL_CALL);
        boolean[] set = asSet(d.allowed());
        assertTrue(set[piece("\u2581[]")]);
        assertFalse(set[piece("\u2581[{\"")]);
        d.accept(piece("\u2581"));
        assertArrayEquals(sorted(new int[] {piece("["), 6 + '['}), sorted(d.allowed()));
        d.accept(piece("["));
        // the piece ] and the byte piece <0x5D>
        assertArrayEquals(sorted(new int[] {piece("]"), 6 + ']'}), sorted(d.allowed()));
        d.accept(piece("]"));
        assertTrue(d.isDone());
        assertArrayEquals(new int[] {EOS}, d.allowed());
    }

    // ------------------------------------------------------------------ tokens spanning several steps

    /** Asserts whether {@code piece} is allowed after the text {@code prefix}, and that brute force agrees. */
    private static void check(String prefix, String piece, boolean allowed) {
        ConstrainedDecoder d = decoderAfter(G, prefix);
        int id = piece(piece);
        assertEquals(allowed, allows(d, id), () -> piece + " after " + prefix);
        assertEquals(allowed, asSet(bruteForce(d.state()))[id]);
        if (allowed) {
            d.accept(id);
        } else {
            GrammarState before = d.state();
            assertThrows(IllegalStateException.class, () -> d.accept(id));
            assertEquals(before.signature(), d.state().signature(), "a rejected token changed the state");
        }
    }

    @Test
    void piecesSpanningSeveralGrammarSteps() {
        String call = j("[{'name':'get_weather','arguments':{");
        check(j("[{'name"), "\":\"", true);
        check(j("[{'name"), "\",\"", false);
        check(j("["), "{\"", true);
        check(j("[{'name':'get_weather"), "\",\"", true);
        check(j("[{'name':'get_weather"), "\":\"", false);
        check(j("[{'name':'get_weather"), "\"}}", false);
        check(j("[{'name':'get_weather','arguments"), "\":{\"", true);
        check(j("[{'name':'get_weather','arguments"), "\":{}}]", false); // location is required
        check(j("[{'name':'ping','arguments"), "\":{}}]", true);
        check(j("[{'name':'ping','arguments"), "\":{\"", false); // ping has no keys
        check(call + j("'location':'Paris"), "\"}}]", true);
        check(call + j("'location':'Paris"), "\"}},{\"", true);
        check(call + j("'location':'Paris"), "\"}}", true);
        check(call + j("'location':'Paris"), "\",\"", true);
        check(call + j("'location':'Paris"), "\":\"", false);
        check(call + j("'location':'Paris"), "\"]", false);
        check(call + j("'unit':'celsius"), "\"}}]", false); // location missing
        check(call + j("'unit':'celsius"), "\",\"", true);
        check(call + j("'unit':'cel"), "\"}}]", false); // not a unit
        check(call + j("'location':'x','days"), "\":3}}]", true);
        check(call + j("'location"), "\":3}}]", false); // a string, not an integer
        check(call + j("'days':1,'location':'x','unit':'celsius"), "\",\"", false); // no key left
        check(j("[{'name':'ping','arguments':{}"), "}]", true);
        check(j("[{'name':'ping','arguments':{}"), "},{\"", true);
        check(j("[{'name':'ping','arguments':{}"), "}}]", false);
        check(j("[{'name':'mute','arguments':{'minutes':5"), "}}]", true);
        check(j("[{'name':'mute','arguments':{'minutes':5"), "\",\"", false);
        check(j("[{'name':'set_values','arguments':{'tags"), "\":[", true);
        check(j("[{'name':'set_values','arguments':{'tags"), "\":[\"", true);
        check(j("[{'name':'set_values','arguments':{'tags"), "\":{\"", false);
        check(j("[{'name':'set_values','arguments':{'opts"), "\":{\"", true);
        check(j("[{'name':'set_values','arguments':{'tags':['a"), "\"]", true);
        check(j("[{'name':'set_values','arguments':{'tags':['a"), "\"}}]", false);
        check(j("[{'name':'set_values','arguments':{'flag':"), "true", true);
        check(j("[{'name':'set_values','arguments':{'flag':"), "false", true);
        check(j("[{'name':'set_values','arguments':{'ratio':"), "true", false);
        check(j("[{'name':'set_values','arguments':{'any':"), "true", true);
    }

    // ------------------------------------------------------------------ byte pieces, spaces, control ids

    @Test
    void bytePiecesSpellMultiByteCharactersInStrings() {
        int e2 = 6 + 0xE2;
        int x82 = 6 + 0x82;
        int xAC = 6 + 0xAC;
        assertEquals("<0xE2>", tok.piece(e2));
        ConstrainedDecoder d = decoderAfter(G, j("[{'name':'get_weather','arguments':{'location':'"));
        assertTrue(allows(d, e2));
        assertFalse(allows(d, x82), "a lone continuation byte");
        assertFalse(allows(d, 6 + 0xC0));
        assertFalse(allows(d, 6 + 0xF5));
        d.accept(e2);
        // after a lead byte only continuation bytes
        for (int id : d.allowed()) {
            assertTrue(tok.isByte(id) && id - 6 >= 0x80 && id - 6 <= 0xBF, tok.piece(id));
        }
        assertTrue(allows(d, x82));
        d.accept(x82);
        assertTrue(allows(d, xAC));
        assertFalse(allows(d, piece("\"")), "the character is not complete");
        d.accept(xAC);
        assertTrue(allows(d, piece("\"}}]")));
        assertEquals("\u20ac", tok.decode(new int[] {e2, x82, xAC}));

        // surrogates and overlongs are not completed
        ConstrainedDecoder s = decoderAfter(G, j("[{'name':'get_weather','arguments':{'location':'"));
        s.accept(6 + 0xED);
        assertFalse(allows(s, 6 + 0xA0));
        assertTrue(allows(s, 6 + 0x9F));
        ConstrainedDecoder o = decoderAfter(G, j("[{'name':'get_weather','arguments':{'location':'"));
        o.accept(6 + 0xE0);
        assertFalse(allows(o, 6 + 0x80));

        // outside strings no byte piece of a non-ASCII byte
        for (String prefix : new String[] {"[", j("[{'name':'"), j("[{'name':'get_weather','arguments':{"),
            j("[{'name':'set_values','arguments':{'any':")}) {
            ConstrainedDecoder out = decoderAfter(G, prefix);
            boolean[] set = asSet(out.allowed());
            for (int b = 0x80; b < 0x100; b++) {
                assertFalse(set[6 + b], prefix + " allows byte " + b);
            }
        }
    }

    @Test
    void spacePiecesOnlyInsideStrings() {
        String[] outside = {"[", j("[{"), j("[{'name':"), j("[{'name':'"), j("[{'name':'get_weather'"),
            j("[{'name':'get_weather','arguments':{"), j("[{'name':'get_weather','arguments':{'location':"),
            j("[{'name':'get_weather','arguments':{'location':'x'"), j("[{'name':'set_values','arguments':{'tags':["),
            j("[{'name':'set_values','arguments':{'ratio':1"), j("[{'name':'ping','arguments':{}}")};
        for (String prefix : outside) {
            for (int id : decoderAfter(G, prefix).allowed()) {
                // ▁ is only ever the first character of a piece
                assertNotEquals(' ', bytes[id][0], () -> "space piece " + tok.piece(id) + " after " + prefix);
            }
        }
        ConstrainedDecoder inside = decoderAfter(G, j("[{'name':'get_weather','arguments':{'location':'New"));
        assertTrue(allows(inside, piece("\u2581")));
        assertTrue(allows(inside, piece("\u2581[]")), "any text is fine inside a string");
        inside.accept(piece("\u2581York"));
        inside.accept(piece("\"}}]"));
        assertTrue(inside.isDone());
    }

    @Test
    void controlIdsNeverAndEosOnlyAtTheEnd() {
        Random rnd = new Random(7);
        for (int walk = 0; walk < 20; walk++) {
            ConstrainedDecoder d = decoder(G);
            d.accept(TOOL_CALL);
            int explore = rnd.nextInt(60);
            for (int step = 0; step < 2000 && !d.isDone(); step++) {
                int[] allowed = d.allowed();
                boolean[] set = asSet(allowed);
                for (int id = 0; id < 6; id++) {
                    assertFalse(set[id], "control/unknown/user-defined id " + id + " allowed");
                }
                d.accept(pickToken(d, rnd, step >= explore));
            }
            assertTrue(d.isDone());
            assertArrayEquals(new int[] {EOS}, d.allowed());
            float[] logits = randomLogits(rnd);
            float eos = logits[EOS];
            d.mask(logits);
            for (int id = 0; id < logits.length; id++) {
                assertEquals(id == EOS ? eos : Float.NEGATIVE_INFINITY, logits[id]);
            }
        }
    }

    // ------------------------------------------------------------------ mask and accept

    private static float[] randomLogits(Random rnd) {
        float[] l = new float[tok.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) rnd.nextGaussian() * 5;
        }
        return l;
    }

    @Test
    void maskSetsExactlyTheDisallowedLogitsToMinusInfinity() {
        Random rnd = new Random(11);
        String[] prefixes = {"", "[", j("[{'name':'get_"), j("[{'name':'get_weather','arguments':{'location':'Pa"),
            j("[{'name':'set_values','arguments':{'level':1"), j("[{'name':'ping','arguments':{}}")};
        for (String prefix : prefixes) {
            ConstrainedDecoder d = decoderAfter(G, prefix);
            boolean[] set = asSet(d.allowed());
            float[] logits = randomLogits(rnd);
            float[] before = logits.clone();
            d.mask(logits);
            for (int id = 0; id < logits.length; id++) {
                assertEquals(set[id] ? before[id] : Float.NEGATIVE_INFINITY, logits[id], "id " + id + " after " + prefix);
            }
            // the argmax of the masked logits is an allowed token
            int best = io.needle.decoding.Generation.argmax(logits);
            assertTrue(best >= 0 && set[best]);
        }
        assertTrue(decoder(G).maskMs() == 0.0);
    }

    @Test
    void acceptingADisallowedTokenThrowsAndChangesNothing() {
        ConstrainedDecoder d = decoderAfter(G, j("[{'name':'get_weather','arguments':{"));
        String sig = d.state().signature();
        int[] before = sorted(d.allowed());
        int[] bad = {0, EOS, 2, 3, TOOL_CALL, 5, piece("\u2581"), piece("}"), piece("\":\""), 6 + 0x80, 6 + 'x'};
        for (int id : bad) {
            assertThrows(IllegalStateException.class, () -> d.accept(id), tok.piece(id));
            assertEquals(sig, d.state().signature());
        }
        assertArrayEquals(before, sorted(d.allowed()));
        d.accept(piece("\""));
        d.accept(piece("location"));
        d.accept(piece("\":\""));
        d.accept(piece("Paris"));
        d.accept(piece("\"}}]"));
        assertTrue(d.isDone());
        assertThrows(IllegalStateException.class, () -> d.accept(piece("]")));
    }

    // ------------------------------------------------------------------ what the model was trained on

    /**
     * The decoder targets the model was trained on are {@code <tool_call>}, the SentencePiece ids
     * of the compact answer text, eos. Each of those ids must be allowed where it comes.
     */
    @Test
    void trainingTokenizationsAreAccepted() {
        String[] answers = {
            "[]",
            j("[{'name':'get_weather','arguments':{'location':'Paris','days':3}}]"),
            j("[{'name':'get_weather','arguments':{'location':'San Francisco, CA','unit':'fahrenheit'}},"
                    + "{'name':'ping','arguments':{}}]"),
            j("[{'name':'set_values','arguments':{'ratio':-0.25e-3,'flag':false,'level':12,'mode':'ab',"
                    + "'tags':['x',1,[true,null]],'opts':{'k':{'v':'w'}},'any':null,'count':42}}]"),
            j("[{'name':'book_flight','arguments':{'origin':'Z\u00fcrich \u20ac','destination':'\\u6771\\u4eac \\\\ \\'q\\'',"
                    + "'date':'2025-01-02','date_flexible':true}}]"),
            j("[{'name':'set_values','arguments':{'mode':'\\u00e9t\\u00e9'}}]"),
        };
        for (String answer : answers) {
            int[] ids = tok.encode(answer);
            assertEquals(answer, tok.decode(ids));
            ConstrainedDecoder d = decoder(G);
            assertTrue(allows(d, TOOL_CALL));
            d.accept(TOOL_CALL);
            for (int i = 0; i < ids.length; i++) {
                int id = ids[i];
                int at = i;
                assertTrue(allows(d, id), () -> "token " + at + " " + tok.piece(id) + " of " + answer);
                assertFalse(allows(d, EOS));
                d.accept(id);
            }
            assertTrue(d.isDone(), answer);
            assertTrue(allows(d, EOS));
        }
    }

    // ------------------------------------------------------------------ trie and cache against brute force

    /**
     * The key property of TokenTrie and the signature cache: along random token walks (over the test
     * catalogue and random ones), the decoder's allowed set equals the brute-force set, and a fresh
     * trie walk equals the cached answer.
     */
    @Test
    void allowedEqualsBruteForceAlongRandomWalks() {
        Random rnd = new Random(424242);
        int states = 0;
        for (int walk = 0; walk < 60; walk++) {
            ToolGrammar g = walk % 3 == 0 ? grammar(GrammarStateTest.randomCatalog(rnd)) : G;
            ConstrainedDecoder d = decoder(g);
            d.accept(TOOL_CALL);
            int explore = rnd.nextInt(40);
            for (int step = 0; step < 3000 && !d.isDone(); step++) {
                GrammarState s = d.state();
                int[] cached = sorted(d.allowed());
                int[] fresh = sorted(trie.allowed(s));
                int[] brute = bruteForce(s);
                int st = step;
                assertArrayEquals(brute, fresh, () -> "trie differs from brute force at step " + st);
                int[] expected = s.atStart() ? without(fresh, trie.spaceBytePiece()) : fresh;
                assertArrayEquals(expected, cached, () -> "cached mask differs at step " + st);
                assertTrue(cached.length > 0, "no token allowed: dead end");
                states++;
                d.accept(pickToken(d, rnd, step >= explore));
            }
            assertTrue(d.isDone(), "walk did not end");
        }
        System.out.println("trie and cache equal brute force at " + states + " states of 60 random decodes");
        assertTrue(states > 500, "only " + states + " states checked");
    }

    /**
     * States with equal signatures accept the same continuations: for many states reached by random
     * byte walks, the allowed token set recomputed from scratch is the same for every state of a
     * signature, and so are the bytes accepted along random continuations.
     */
    @Test
    void equalSignaturesMeanEqualFutures() {
        Random rnd = new Random(99);
        Map<String, GrammarState> firstBySignature = new HashMap<>();
        Map<String, int[]> allowedBySignature = new HashMap<>();
        int pairs = 0;
        for (int walk = 0; walk < 150; walk++) {
            ToolGrammar g = G;
            GrammarState s = new GrammarState(g);
            int explore = rnd.nextInt(300);
            for (int step = 0; step < explore + 3000 && !s.isDone(); step++) {
                String sig = s.signature();
                GrammarState first = firstBySignature.get(sig);
                if (first == null) {
                    firstBySignature.put(sig, s.copy());
                    allowedBySignature.put(sig, sorted(trie.allowed(s)));
                } else if (rnd.nextInt(4) == 0) {
                    pairs++;
                    int st = step;
                    assertArrayEquals(allowedBySignature.get(sig), sorted(trie.allowed(s)),
                            () -> "same signature, other tokens: " + sig + " at step " + st);
                    assertSameFuture(first, s, rnd);
                }
                int b = GrammarTesting.pickByte(s, rnd, step >= explore);
                assertTrue(b >= 0);
                assertTrue(s.feed(b));
            }
            assertTrue(s.isDone());
        }
        System.out.println("equal signatures, equal futures: " + pairs + " state pairs over "
                + firstBySignature.size() + " signatures");
        assertTrue(pairs > 1000 && firstBySignature.size() > 200,
                pairs + " pairs, " + firstBySignature.size() + " signatures");
    }

    /** Feeds the same random continuation to copies of a and b: they must accept and reject alike. */
    private static void assertSameFuture(GrammarState a, GrammarState b, Random rnd) {
        GrammarState x = a.copy();
        GrammarState y = b.copy();
        for (int i = 0; i < 40; i++) {
            boolean[] ax = GrammarTesting.acceptedBytes(x);
            assertArrayEquals(ax, GrammarTesting.acceptedBytes(y));
            int c = GrammarTesting.pickByte(x, rnd, i > 20);
            if (c < 0) {
                assertTrue(x.isDone() && y.isDone());
                return;
            }
            assertTrue(x.feed(c));
            assertTrue(y.feed(c));
            assertEquals(x.signature(), y.signature());
        }
    }

    // ------------------------------------------------------------------ cost

    /**
     * Prints the mask cost per step (asserts only a generous bound): a trie walk from scratch for
     * each state of random decodes, split by states inside a string (almost every token allowed)
     * and elsewhere; a cached lookup; and mask() as the decoder runs it (cache misses included).
     */
    @Test
    void maskCost() {
        List<GrammarState> states = new ArrayList<>();
        List<int[]> walks = new ArrayList<>();
        Random rnd = new Random(5);
        for (int walk = 0; walk < 40; walk++) {
            ConstrainedDecoder d = decoder(G);
            d.accept(TOOL_CALL);
            int explore = rnd.nextInt(60);
            List<Integer> ids = new ArrayList<>();
            for (int step = 0; step < 3000 && !d.isDone(); step++) {
                states.add(d.state());
                int id = pickToken(d, rnd, step >= explore);
                ids.add(id);
                d.accept(id);
            }
            int[] a = new int[ids.size()];
            for (int i = 0; i < a.length; i++) {
                a[i] = ids.get(i);
            }
            walks.add(a);
        }
        for (int i = 0; i < 5; i++) { // warm up the JIT
            for (GrammarState s : states) {
                trie.allowed(s);
            }
        }
        double wideMs = 0;
        double narrowMs = 0;
        int wide = 0;
        double worstMs = 0;
        for (GrammarState s : states) {
            long t0 = System.nanoTime();
            int n = trie.allowed(s).length;
            double ms = (System.nanoTime() - t0) / 1e6;
            worstMs = Math.max(worstMs, ms);
            if (n > 4000) {
                wideMs += ms;
                wide++;
            } else {
                narrowMs += ms;
            }
        }
        int narrow = states.size() - wide;

        // the decoder replaying the same decodes: mask() per step, cold cache per request
        float[] logits = new float[tok.size()];
        double maskMs = 0;
        long steps = 0;
        for (int rep = 0; rep < 3; rep++) {
            maskMs = 0;
            steps = 0;
            for (int[] ids : walks) {
                ConstrainedDecoder d = decoder(G);
                d.accept(TOOL_CALL);
                for (int id : ids) {
                    d.mask(logits);
                    d.accept(id);
                    steps++;
                }
                maskMs += d.maskMs();
            }
        }
        // a cached lookup: the same state asked again
        ConstrainedDecoder d = decoderAfter(G, j("[{'name':'get_weather','arguments':{'location':'Pa"));
        d.allowed();
        long t0 = System.nanoTime();
        int reps = 20000;
        for (int i = 0; i < reps; i++) {
            d.allowed();
        }
        double cachedMs = (System.nanoTime() - t0) / 1e6 / reps;
        double bruteWideMs = 0;
        double bruteNarrowMs = 0;
        for (GrammarState s : states) {
            long t1 = System.nanoTime();
            int n = bruteForce(s).length;
            double ms = (System.nanoTime() - t1) / 1e6;
            if (n > 4000) {
                bruteWideMs += ms;
            } else {
                bruteNarrowMs += ms;
            }
        }
        System.out.printf("mask cost, 8192 pieces, %d trie nodes, %d states of %d random decodes:%n"
                + "  fresh trie walk: %.3f ms/state inside strings (%d), %.3f ms elsewhere (%d), worst %.3f ms%n"
                + "  cached allowed(): %.4f ms; mask() as decoding runs it (cold cache per request): %.3f ms/step%n"
                + "  brute force (copy + feed every token): %.3f ms/state inside strings, %.3f ms elsewhere%n",
                trie.nodeCount(), states.size(), walks.size(), wide == 0 ? 0 : wideMs / wide, wide,
                narrow == 0 ? 0 : narrowMs / narrow, narrow, worstMs, cachedMs, maskMs / steps,
                wide == 0 ? 0 : bruteWideMs / wide, narrow == 0 ? 0 : bruteNarrowMs / narrow);
        assertTrue(maskMs / steps < 20, "mask() took " + maskMs / steps + " ms per step");
    }

    @Test
    void trieIndexesEveryTokenWithText() {
        assertTrue(trie.nodeCount() > 1000);
        // the full set of tokens allowed inside a string, checked against the token texts: all the
        // pieces whose text has no quote, backslash or control character and is valid UTF-8 on its own
        ConstrainedDecoder d = decoderAfter(G, j("[{'name':'get_weather','arguments':{'location':'"));
        boolean[] set = asSet(d.allowed());
        int expected = 0;
        for (int id = 0; id < bytes.length; id++) {
            byte[] b = bytes[id];
            if (b.length == 0) {
                continue;
            }
            boolean plain = true;
            for (byte x : b) {
                if (x == '"' || x == '\\' || (x >= 0 && x < 0x20)) {
                    plain = false;
                }
            }
            if (!plain) {
                continue;
            }
            boolean validAlone = !tok.isByte(id) || (b[0] >= 0 || ((b[0] & 0xff) >= 0xC2 && (b[0] & 0xff) <= 0xF4));
            if (validAlone) {
                expected++;
                assertTrue(set[id], () -> "not allowed in a string: " + show(b));
            }
        }
        assertTrue(expected > 7800, "only " + expected);
    }
}
