package io.needle.grammar;

import static io.needle.grammar.GrammarTesting.TOOLS;
import static io.needle.grammar.GrammarTesting.acceptedBytes;
import static io.needle.grammar.GrammarTesting.after;
import static io.needle.grammar.GrammarTesting.assertComplete;
import static io.needle.grammar.GrammarTesting.assertRejects;
import static io.needle.grammar.GrammarTesting.count;
import static io.needle.grammar.GrammarTesting.firstRejected;
import static io.needle.grammar.GrammarTesting.grammar;
import static io.needle.grammar.GrammarTesting.j;
import static io.needle.grammar.GrammarTesting.pickByte;
import static io.needle.grammar.GrammarTesting.show;
import static io.needle.grammar.GrammarTesting.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The byte-level tool-call grammar of docs/spec/DECODING.md: what {@link GrammarState#feed} accepts and rejects. */
class GrammarStateTest {
    private static final ToolGrammar G = grammar(TOOLS);

    /** A call of get_weather with the given arguments body (without braces). */
    private static String weather(String args) {
        return j("[{'name':'get_weather','arguments':{" + args + "}}]");
    }

    private static String values(String args) {
        return j("[{'name':'set_values','arguments':{" + args + "}}]");
    }

    private static String valuesPrefix(String args) {
        return j("[{'name':'set_values','arguments':{" + args);
    }

    private static String weatherPrefix(String args) {
        return j("[{'name':'get_weather','arguments':{" + args);
    }

    // ------------------------------------------------------------------ complete outputs

    @Test
    void emptyArrayIsComplete() {
        assertComplete(G, "[]");
        assertFalse(after(G, "[").isDone());
    }

    /** With requireCall the empty array is refused while a tool is callable, and only then. */
    @Test
    void requireCallRefusesTheEmptyArray() {
        ToolGrammar required = ToolGrammar.compile(io.needle.tools.ToolCatalog.parse(TOOLS), true);
        assertTrue(required.requiresCall());
        assertRejects(required, "[", "]");
        assertRejects(required, " [", "]");
        assertComplete(required, j("[{'name':'ping','arguments':{}}]"));
        assertComplete(required, j("[{'name':'ping','arguments':{}},{'name':'mute','arguments':{}}]"));
        ToolGrammar none = ToolGrammar.compile(io.needle.tools.ToolCatalog.parse("[]"), true);
        assertFalse(none.requiresCall());
        assertComplete(none, "[]");
        ToolGrammar uncallable = ToolGrammar.compile(io.needle.tools.ToolCatalog.parse(
                j("[{'name':'broken','parameters':{'x':{'enum':[],'required':true}}}]")), true);
        assertComplete(uncallable, "[]");
    }

    /**
     * The model's first piece after {@code <tool_call>} carries SentencePiece's dummy prefix
     * ({@code ▁[{"}, {@code ▁[]}); detokenizing drops it. One space before {@code [} is allowed,
     * no more, and nowhere else.
     */
    @Test
    void oneLeadingSpaceBeforeTheArray() {
        assertComplete(G, " []");
        assertComplete(G, j(" [{'name':'ping','arguments':{}}]"));
        assertRejects(G, " ", " ");
        assertRejects(G, " ", "{");
        assertRejects(G, "", "\n");
        assertRejects(G, "", "\t");
        assertRejects(G, " [", " ");
        boolean[] first = acceptedBytes(new GrammarState(G));
        assertEquals(2, count(first));
        assertTrue(first[' '] && first['[']);
    }

    @Test
    void oneCall() {
        assertComplete(G, weather("'location':'Paris'"));
        assertComplete(G, j("[{'name':'ping','arguments':{}}]"));
        assertComplete(G, j("[{'name':'get_weather_forecast','arguments':{'location':'Oslo'}}]"));
    }

    @Test
    void severalCalls() {
        assertComplete(G, j("[{'name':'get_weather','arguments':{'location':'Paris','days':3}},"
                + "{'name':'ping','arguments':{}},"
                + "{'name':'get_weather','arguments':{'unit':'celsius','location':'Rome'}},"
                + "{'name':'book_flight','arguments':{'origin':'A','destination':'B','date':'C','date_flexible':false}}]"));
    }

    @Test
    void keysInAnyOrderEachAtMostOnce() {
        assertComplete(G, weather("'days':1,'unit':'fahrenheit','location':'x'"));
        assertComplete(G, weather("'unit':'celsius','location':'x','days':0"));
        assertComplete(G, j("[{'name':'book_flight','arguments':{'date_flexible':true,'date':'d','destination':'b','origin':'a'}}]"));
    }

    @Test
    void stringEscapes() {
        assertComplete(G, weather("'location':'a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\\uABCD'"));
        assertComplete(G, weather("'location':'\\\\'"));
        assertComplete(G, weather("'location':''"));
    }

    @Test
    void multiByteCharactersInStrings() {
        // 2, 3 and 4 byte UTF-8, DEL and the highest code point
        assertComplete(G, weather("'location':'Z\u00fcrich \u20ac \u6771\u4eac \ud83d\ude00 \u007f \udbff\udfff'"));
    }

    @Test
    void integers() {
        for (String v : new String[] {"0", "7", "-5", "-0", "123456789012345678901234567890"}) {
            assertComplete(G, weather("'location':'x','days':" + v));
            assertComplete(G, values("'count':" + v));
        }
    }

    @Test
    void numbers() {
        for (String v : new String[] {"0", "-0", "3", "-12", "3.25", "-0.5", "0.001", "1e5", "1E+10", "-2.5e-3",
                "0e0", "10.0E-01"}) {
            assertComplete(G, values("'ratio':" + v));
            assertComplete(G, values("'any':" + v));
        }
    }

    @Test
    void booleans() {
        assertComplete(G, values("'flag':true"));
        assertComplete(G, values("'flag':false,'ratio':1"));
    }

    @Test
    void enumsOfStrings() {
        assertComplete(G, weather("'location':'x','unit':'celsius'"));
        assertComplete(G, weather("'unit':'fahrenheit','location':'x'"));
        // 'a' is a prefix of 'ab' inside the quotes
        assertComplete(G, values("'mode':'a'"));
        assertComplete(G, values("'mode':'ab','flag':true"));
        assertComplete(G, values("'mode':'\u00e9t\u00e9'"));
    }

    @Test
    void enumsOfNumbersWhereOneIsAPrefixOfAnother() {
        assertComplete(G, values("'level':1"));
        assertComplete(G, values("'level':12"));
        assertComplete(G, values("'level':1,'flag':true"));
        assertComplete(G, values("'level':12,'flag':true"));
        assertComplete(G, values("'level':3.5"));
        assertComplete(G, values("'level':-2"));
        assertRejects(G, valuesPrefix("'level':1"), "3");
        assertRejects(G, valuesPrefix("'level':12"), "3");
        assertRejects(G, valuesPrefix("'level':3"), "}");
        assertRejects(G, valuesPrefix("'level':"), "2");
        assertRejects(G, valuesPrefix("'level':"), "'".replace('\'', '"'));
    }

    @Test
    void arraysAndObjectsNested() {
        assertComplete(G, values("'tags':[]"));
        assertComplete(G, values("'tags':['a',1,-2.5e3,true,false,null,[],{},[[1],{'k':[{}]}]]"));
        assertComplete(G, values("'opts':{}"));
        assertComplete(G, values("'opts':{'a':[1,{'b':null}],'c':'d','':{'e':{'f':'g'}}}"));
        // keys inside an untyped object are free and may repeat
        assertComplete(G, values("'opts':{'a':1,'a':2}"));
    }

    @Test
    void untypedValuesOfEveryKind() {
        for (String v : new String[] {"'s'", "''", "0", "-1.5e3", "true", "false", "null", "[]", "{}",
                "[1,'two',[3],{'four':4}]", "{'k':[true,false,null]}"}) {
            assertComplete(G, values("'any':" + v));
        }
    }

    @Test
    void emptyArgumentsOnlyWhenNothingIsRequired() {
        assertComplete(G, values(""));
        assertComplete(G, j("[{'name':'mute','arguments':{}}]"));
        assertRejects(G, weatherPrefix(""), "}");
        assertRejects(G, j("[{'name':'book_flight','arguments':{"), "}");
    }

    @Test
    void requiredKeysComeFromEveryForm() {
        // flat: "required":true
        assertRejects(G, weatherPrefix("'days':3"), "}");
        // JSON Schema: the required list
        assertRejects(G, j("[{'name':'book_flight','arguments':{'origin':'a'"), "}");
        assertComplete(G, j("[{'name':'book_flight','arguments':{'origin':'a','destination':'b'}}]"));
        // the closing brace is rejected inside a string value too when it would close arguments early
        GrammarState s = after(G, weatherPrefix("'unit':'celsius"));
        assertEquals(-1, firstRejected(s.copy(), utf8("\"")));
        assertEquals(1, firstRejected(s.copy(), utf8("\"}")));
    }

    // ------------------------------------------------------------------ rejected prefixes

    @Test
    void unknownOrMisspeltToolName() {
        assertRejects(G, j("[{'name':'"), "x");
        assertRejects(G, j("[{'name':'get_w"), "a");
        assertRejects(G, j("[{'name':'get_"), "'".replace('\'', '"'));
        assertRejects(G, j("[{'name':'get_weather_"), "'".replace('\'', '"'));
        // the original (not snake_cased) name is not callable
        assertRejects(G, j("[{'name':'get"), "W");
        // a tool that cannot be called validly is not offered
        assertRejects(G, j("[{'name':'b"), "r");
    }

    @Test
    void unknownKey() {
        assertRejects(G, weatherPrefix("'"), "x");
        assertRejects(G, weatherPrefix("'loc"), "x");
        assertRejects(G, weatherPrefix("'location'"), ",");
        // a key of another tool
        assertRejects(G, weatherPrefix("'"), "r");
        // name and arguments are fixed literals
        assertRejects(G, j("[{'"), "a");
        assertRejects(G, j("[{'name':'ping','"), "n");
    }

    @Test
    void repeatedKey() {
        assertRejects(G, weatherPrefix("'location':'a','"), "l");
        assertRejects(G, valuesPrefix("'flag':true,'ratio':1,'"), "f");
        // date is used, date_flexible is not: the prefix "date goes on, the closing quote does not
        GrammarState s = after(G, j("[{'name':'book_flight','arguments':{'date':'d','date"));
        assertFalse(s.copy().feed('"'));
        assertTrue(s.copy().feed('_'));
    }

    @Test
    void commaNeedsAnUnusedKey() {
        assertRejects(G, j("[{'name':'mute','arguments':{'minutes':5"), ",");
        assertRejects(G, weatherPrefix("'location':'a','days':1,'unit':'celsius'"), ",");
        assertComplete(G, j("[{'name':'mute','arguments':{'minutes':5}}]"));
    }

    @Test
    void noWhitespaceOutsideStrings() {
        String[] prefixes = {"[", j("[{"), j("[{'name'"), j("[{'name':"), j("[{'name':'ping'"),
            j("[{'name':'ping',"), j("[{'name':'ping','arguments':"), weatherPrefix(""),
            weatherPrefix("'location'"), weatherPrefix("'location':"), weatherPrefix("'location':'a'"),
            weatherPrefix("'location':'a',"), valuesPrefix("'tags':["), valuesPrefix("'tags':[1"),
            valuesPrefix("'tags':[1,"), valuesPrefix("'opts':{"), valuesPrefix("'opts':{'a'"),
            valuesPrefix("'opts':{'a':"), j("[{'name':'ping','arguments':{}"), j("[{'name':'ping','arguments':{}}"),
            j("[{'name':'ping','arguments':{}},"), valuesPrefix("'count':1")};
        for (String p : prefixes) {
            for (String ws : new String[] {" ", "\n", "\t", "\r"}) {
                assertRejects(G, p, ws);
            }
        }
    }

    @Test
    void wrongValueType() {
        assertRejects(G, weatherPrefix("'location':"), "1");
        assertRejects(G, weatherPrefix("'location':"), "n");
        assertRejects(G, weatherPrefix("'days':"), "\"");
        assertRejects(G, weatherPrefix("'days':"), "t");
        assertRejects(G, weatherPrefix("'days':1"), ".");
        assertRejects(G, weatherPrefix("'days':1"), "e");
        assertRejects(G, weatherPrefix("'days':-"), "}");
        assertRejects(G, valuesPrefix("'ratio':"), "\"");
        assertRejects(G, valuesPrefix("'ratio':"), "[");
        assertRejects(G, valuesPrefix("'flag':"), "1");
        assertRejects(G, valuesPrefix("'flag':"), "n");
        assertRejects(G, valuesPrefix("'flag':"), "\"");
        assertRejects(G, valuesPrefix("'flag':tru"), "t");
        assertRejects(G, valuesPrefix("'tags':"), "{");
        assertRejects(G, valuesPrefix("'tags':"), "\"");
        assertRejects(G, valuesPrefix("'opts':"), "[");
        assertRejects(G, valuesPrefix("'opts':"), "n");
        assertRejects(G, weatherPrefix("'unit':"), "1");
        assertRejects(G, weatherPrefix("'unit':'"), "k");
        assertRejects(G, weatherPrefix("'unit':'celsius"), "x");
        assertRejects(G, valuesPrefix("'mode':'a"), "c");
        assertRejects(G, valuesPrefix("'any':"), "x");
        assertRejects(G, valuesPrefix("'any':nul"), "k");
        assertRejects(G, valuesPrefix("'any':"), "+");
        assertRejects(G, valuesPrefix("'any':"), ".");
        assertRejects(G, valuesPrefix("'any':"), "}");
    }

    @Test
    void malformedNumbers() {
        assertRejects(G, valuesPrefix("'ratio':0"), "1");
        assertRejects(G, valuesPrefix("'ratio':-0"), "1");
        assertRejects(G, valuesPrefix("'count':0"), "0");
        assertRejects(G, valuesPrefix("'any':0"), "1");
        assertRejects(G, valuesPrefix("'tags':[0"), "1");
        assertRejects(G, valuesPrefix("'ratio':1."), "}");
        assertRejects(G, valuesPrefix("'ratio':1."), "e");
        assertRejects(G, valuesPrefix("'ratio':1"), "x");
        assertRejects(G, valuesPrefix("'ratio':1e"), "}");
        assertRejects(G, valuesPrefix("'ratio':1e+"), "}");
        assertRejects(G, valuesPrefix("'ratio':1e5"), ".");
        assertRejects(G, valuesPrefix("'ratio':1.5"), ".");
        assertRejects(G, valuesPrefix("'ratio':"), ".");
        assertRejects(G, valuesPrefix("'ratio':-"), "-");
        assertRejects(G, valuesPrefix("'ratio':-"), ".");
        assertRejects(G, valuesPrefix("'any':[1."), "]");
        assertRejects(G, valuesPrefix("'any':{'a':-"), "}");
    }

    @Test
    void trailingCommas() {
        assertRejects(G, weatherPrefix("'location':'a',"), "}");
        assertRejects(G, j("[{'name':'ping','arguments':{}},"), "]");
        assertRejects(G, valuesPrefix("'tags':[1,"), "]");
        assertRejects(G, valuesPrefix("'opts':{'a':1,"), "}");
        assertRejects(G, "[", ",");
        assertRejects(G, valuesPrefix("'tags':["), ",");
        assertRejects(G, valuesPrefix("'opts':{"), ",");
    }

    @Test
    void structuralMistakes() {
        assertRejects(G, "", "{");
        assertRejects(G, "", "]");
        assertRejects(G, "[", "[");
        assertRejects(G, "[", "\"");
        assertRejects(G, j("[{'name':'ping','arguments':{}}"), "}");
        assertRejects(G, j("[{'name':'ping','arguments':{}"), "]");
        assertRejects(G, j("[{'name':'ping'"), "}");
        assertRejects(G, j("[{'name':'ping',"), "}");
        assertRejects(G, valuesPrefix("'opts':{'a'"), "}");
        assertRejects(G, valuesPrefix("'opts':{'a'"), ",");
        assertRejects(G, valuesPrefix("'opts':{"), "1");
        assertRejects(G, valuesPrefix("'opts':{'a':1"), "]");
        assertRejects(G, valuesPrefix("'tags':[1"), "}");
        assertRejects(G, valuesPrefix("'tags':[1"), ":");
    }

    @Test
    void stringContentRules() {
        String p = weatherPrefix("'location':'a");
        for (int c = 0; c < 0x20; c++) {
            assertRejects(G, utf8(p), new byte[] {(byte) c});
        }
        assertEquals(-1, firstRejected(after(G, p), new byte[] {0x7f, '"'}));
        assertRejects(G, p + "\\", "x");
        assertRejects(G, p + "\\", "U");
        assertRejects(G, p + "\\", "'");
        assertRejects(G, p + "\\u", "g");
        assertRejects(G, p + "\\u12", "G");
        assertRejects(G, p + "\\u123", "\"");
        assertRejects(G, p + "\\", "\n");
        // inside nested containers too
        assertRejects(G, utf8(valuesPrefix("'tags':['")), new byte[] {'\n'});
        assertRejects(G, valuesPrefix("'opts':{'k\\"), "q");
    }

    @Test
    void invalidUtf8() {
        byte[] p = utf8(weatherPrefix("'location':'"));
        int[][] bad = {
            {0x80}, {0xBF}, // lone continuation bytes
            {0xC0}, {0xC1}, // overlong 2-byte leads (C0 80 = overlong NUL)
            {0xF5}, {0xF8}, {0xFF}, // beyond U+10FFFF / not UTF-8
            {0xC3, 0x41}, {0xC3, 0xC3}, // missing continuation
            {0xE0, 0x80}, {0xE0, 0x9F}, // overlong 3-byte
            {0xED, 0xA0}, {0xED, 0xBF}, // surrogates U+D800..U+DFFF (ED A0 80)
            {0xF0, 0x80}, {0xF0, 0x8F}, // overlong 4-byte
            {0xF4, 0x90}, // above U+10FFFF
            {0xE2, 0x82, 0x41}, {0xE2, 0x82, '"'}, // truncated
            {0xF0, 0x9F, 0x98, 0x22}};
        for (int[] seq : bad) {
            byte[] bytes = new byte[p.length + seq.length];
            System.arraycopy(p, 0, bytes, 0, p.length);
            for (int i = 0; i < seq.length; i++) {
                bytes[p.length + i] = (byte) seq[i];
            }
            GrammarState s = new GrammarState(G);
            assertEquals(p.length + seq.length - 1, firstRejected(s, bytes),
                    () -> "invalid UTF-8 accepted or rejected too early: " + show(bytes));
        }
        // the boundaries that are valid
        int[][] good = {{0xC2, 0x80}, {0xDF, 0xBF}, {0xE0, 0xA0, 0x80}, {0xED, 0x9F, 0xBF}, {0xEE, 0x80, 0x80},
            {0xEF, 0xBF, 0xBF}, {0xF0, 0x90, 0x80, 0x80}, {0xF3, 0xBF, 0xBF, 0xBF}, {0xF4, 0x8F, 0xBF, 0xBF}};
        for (int[] seq : good) {
            GrammarState s = after(G, p);
            for (int b : seq) {
                assertTrue(s.feed(b), () -> "valid UTF-8 rejected: " + java.util.Arrays.toString(seq));
            }
            assertTrue(s.feed('"'));
        }
        // non-ASCII bytes are rejected outside strings
        for (int b = 0x80; b < 0x100; b++) {
            assertFalse(after(G, "[").feed(b));
            assertFalse(after(G, weatherPrefix("")).feed(b));
            assertFalse(after(G, valuesPrefix("'any':")).feed(b));
        }
    }

    @Test
    void nothingAfterTheClosingBracket() {
        for (String done : new String[] {"[]", j("[{'name':'ping','arguments':{}}]")}) {
            GrammarState s = after(G, done);
            assertTrue(s.isDone());
            assertEquals(0, count(acceptedBytes(s)), "a byte was accepted after ]");
        }
        assertFalse(after(G, j("[{'name':'ping','arguments':{}}")).isDone());
    }

    @Test
    void nestingIsLimited() {
        int max = GrammarState.MAX_DEPTH;
        StringBuilder open = new StringBuilder();
        for (int i = 0; i < max; i++) {
            open.append('[');
        }
        // MAX_DEPTH levels are fine, one more is not; the same for objects and for a typed array
        assertRejects(G, valuesPrefix("'any':" + open), "[");
        assertRejects(G, valuesPrefix("'any':" + open), "{");
        assertRejects(G, valuesPrefix("'tags':" + open), "[");
        StringBuilder objects = new StringBuilder();
        for (int i = 0; i < max; i++) {
            objects.append("{\"k\":");
        }
        assertRejects(G, valuesPrefix("'opts':" + objects), "{");
        assertRejects(G, valuesPrefix("'opts':" + objects), "[");
        // the deepest level still takes scalars, and everything closes
        StringBuilder close = new StringBuilder();
        for (int i = 0; i < max; i++) {
            close.append(']');
        }
        assertComplete(G, values("'any':" + open + "1,\"s\",true" + close));
        StringBuilder closeObjects = new StringBuilder();
        for (int i = 0; i < max; i++) {
            closeObjects.append('}');
        }
        assertComplete(G, values("'opts':" + objects + "null" + closeObjects));
    }

    @Test
    void withoutCallableToolsOnlyTheEmptyArray() {
        for (String tools : new String[] {"[]", "", "not json", "{}", j("[{'description':'no name'}]"), "[1,2]",
                j("[{'name':'broken','parameters':{'x':{'enum':[],'required':true}}}]")}) {
            ToolGrammar g = grammar(tools);
            assertFalse(g.hasTools(), tools);
            assertComplete(g, "[]");
            assertRejects(g, "[", "{");
            boolean[] ok = acceptedBytes(after(g, "["));
            assertEquals(1, count(ok), tools);
            assertTrue(ok[']']);
        }
        assertTrue(G.hasTools());
    }

    @Test
    void optionalEmptyEnumIsSkipped() {
        ToolGrammar g = grammar(j("[{'name':'t','parameters':{'x':{'enum':[]},'y':{'type':'string'}}}]"));
        assertComplete(g, j("[{'name':'t','arguments':{'y':'a'}}]"));
        assertComplete(g, j("[{'name':'t','arguments':{}}]"));
        assertRejects(g, j("[{'name':'t','arguments':{'"), "x");
        // after y nothing is left: no comma
        assertRejects(g, j("[{'name':'t','arguments':{'y':'a'"), ",");
    }

    @Test
    void duplicateSnakeNamesUseTheFirstTool() {
        ToolGrammar g = grammar(j("[{'name':'getX','parameters':{'a':{'type':'integer'}}},"
                + "{'name':'get_x','parameters':{'b':{'type':'string'}}}]"));
        assertComplete(g, j("[{'name':'get_x','arguments':{'a':1}}]"));
        assertRejects(g, j("[{'name':'get_x','arguments':{'"), "b");
    }

    @Test
    void keysNeedingEscapes() {
        ToolGrammar g = grammar(j("[{'name':'t','parameters':{'a\\'b':{'type':'string'},'c\\\\d':{},'\u00fc':{}}}]"));
        assertComplete(g, "[{\"name\":\"t\",\"arguments\":{\"a\\\"b\":\"v\",\"c\\\\d\":1,\"\u00fc\":2}}]");
        assertRejects(g, "[{\"name\":\"t\",\"arguments\":{\"a", "\"");
    }

    /**
     * Keys and enum strings with non-ASCII characters may be written literally or \\u-escaped (the
     * model was trained on Python json.dumps output, which escapes them); each spelling counts as
     * the same key.
     */
    @Test
    void nonAsciiKeysAndEnumValuesInBothSpellings() {
        ToolGrammar g = grammar("[{\"name\":\"t\",\"parameters\":{\"gr\u00f6\u00dfe\":{\"type\":\"integer\"},"
                + "\"\u20ac\":{\"enum\":[\"\u00e9t\u00e9\",\"hiver\"]}}}]");
        String call = "[{\"name\":\"t\",\"arguments\":{";
        assertComplete(g, call + "\"gr\u00f6\u00dfe\":1}}]");
        assertComplete(g, call + "\"gr\\u00f6\\u00dfe\":1}}]");
        assertComplete(g, call + "\"\\u20ac\":\"\\u00e9t\\u00e9\",\"gr\u00f6\u00dfe\":1}}]");
        assertComplete(g, call + "\"\u20ac\":\"\u00e9t\u00e9\"}}]");
        // the escapes are lower-case hex, as json.dumps writes them
        assertRejects(g, call + "\"\\u20", "A");
        assertRejects(g, call + "\"gr\\u00", "F");
        // one key, two spellings: still at most once
        assertRejects(g, call + "\"gr\u00f6\u00dfe\":1,\"", "g");
        assertRejects(g, call + "\"\\u20ac\":\"hiver\",\"", "\u20ac");
    }

    @Test
    void copiesAreIndependent() {
        GrammarState s = after(G, weatherPrefix("'location':'a"));
        GrammarState c = s.copy();
        assertEquals(s.signature(), c.signature());
        assertTrue(c.feed('"'));
        assertTrue(c.feed(','));
        assertNotEquals(s.signature(), c.signature());
        // the original is still inside the string
        assertTrue(s.feed('b'));
        assertEquals(-1, firstRejected(s, utf8("\"}}]")));
        assertTrue(s.isDone());
        // used keys are not shared
        assertTrue(c.feed('"'));
        assertTrue(c.feed('d'));
        GrammarState d = c.copy();
        assertEquals(-1, firstRejected(d, utf8("ays\":1")));
        assertTrue(c.copy().feed('a'));
        assertTrue(d.copy().feed(','), "days and location used, unit left: a comma is fine");
        assertEquals(-1, firstRejected(d, utf8(",\"unit\":\"celsius\"")));
        assertFalse(d.copy().feed(','), "every key used: no comma");
    }

    // ------------------------------------------------------------------ no dead ends

    /**
     * From any reachable state some byte continues, and a walk that prefers closing bytes reaches
     * the end: random walks (random accepted bytes, then closing) over the test catalogue and over
     * random catalogues.
     */
    @Test
    void noDeadEnds() {
        Random rnd = new Random(20240611);
        int walks = 0;
        long bytes = 0;
        for (int w = 0; w < 400; w++) {
            ToolGrammar g = w % 2 == 0 ? G : grammar(randomCatalog(rnd));
            GrammarState s = new GrammarState(g);
            int explore = rnd.nextInt(400);
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            int steps = 0;
            while (!s.isDone()) {
                boolean closing = steps >= explore;
                int b = pickByte(s, rnd, closing);
                if (b < 0) {
                    throw new AssertionError("dead end after " + show(text.toByteArray()));
                }
                assertTrue(s.feed(b));
                text.write(b);
                steps++;
                if (steps > explore + 4000) {
                    throw new AssertionError("no end reached after " + show(text.toByteArray()));
                }
            }
            assertEquals(0, count(acceptedBytes(s)));
            walks++;
            bytes += steps;
        }
        System.out.println("no dead ends: " + walks + " random byte walks, " + bytes + " bytes");
        assertTrue(walks == 400 && bytes > 10000);
    }

    /** A random tool catalogue (flat form) with names and keys sharing prefixes and all value kinds. */
    static String randomCatalog(Random rnd) {
        String[] types = {"string", "integer", "number", "boolean", "array", "object", null, "enum", "enum",
            "enum-empty", "str", "float", "dict"};
        String[] words = {"a", "ab", "abc", "b", "get", "get_x", "x1"};
        StringBuilder sb = new StringBuilder("[");
        int tools = rnd.nextInt(4);
        for (int t = 0; t < tools; t++) {
            if (t > 0) {
                sb.append(',');
            }
            sb.append("{\"name\":\"").append(words[rnd.nextInt(words.length)]).append("\",\"parameters\":{");
            int params = rnd.nextInt(5);
            for (int p = 0; p < params; p++) {
                if (p > 0) {
                    sb.append(',');
                }
                sb.append('"').append(words[rnd.nextInt(words.length)]).append(p).append("\":{");
                String type = types[rnd.nextInt(types.length)];
                if (type == null) {
                    sb.append("\"description\":\"free\"");
                } else if (type.equals("enum")) {
                    sb.append("\"enum\":[");
                    String[] lits = {"1", "12", "-1", "1.5", "\"a\"", "\"ab\"", "true", "null", "[1]", "{\"k\":2}"};
                    int n = 1 + rnd.nextInt(4);
                    for (int i = 0; i < n; i++) {
                        sb.append(i > 0 ? "," : "").append(lits[rnd.nextInt(lits.length)]);
                    }
                    sb.append(']');
                } else if (type.equals("enum-empty")) {
                    sb.append("\"enum\":[]");
                } else {
                    sb.append("\"type\":\"").append(type).append('"');
                }
                sb.append(",\"required\":").append(rnd.nextBoolean());
                sb.append('}');
            }
            sb.append("}}");
        }
        return sb.append(']').toString();
    }
}
