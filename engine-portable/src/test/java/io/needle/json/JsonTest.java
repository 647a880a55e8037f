package io.needle.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.base.NeedleException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The project's JSON parser and writer. Expected texts follow Python's json module by hand. */
class JsonTest {

    private static NeedleException fails(String text) {
        NeedleException e = assertThrows(NeedleException.class, () -> Json.parse(text));
        assertEquals(NeedleException.Kind.JSON, e.kind());
        assertTrue(e.getMessage().startsWith("invalid JSON: "), e.getMessage());
        return e;
    }

    // ------------------------------------------------------------------ parsing valid documents

    @Test
    void parsesScalarsAndContainers() {
        assertEquals(Boolean.TRUE, Json.parse("true"));
        assertEquals(Boolean.FALSE, Json.parse(" false "));
        assertNull(Json.parse("\n\tnull\r\n"));
        assertEquals("abc", Json.parse("\"abc\""));
        assertEquals(new JsonNumber("42"), Json.parse("42"));
        assertEquals(new ArrayList<Object>(), Json.parse("[ ]"));
        assertEquals(new LinkedHashMap<String, Object>(), Json.parse("{ }"));

        Object v = Json.parse(" { \"b\" : [1, {\"c\": null}], \"a\": \"x\" } ");
        assertTrue(v instanceof LinkedHashMap);
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(Arrays.asList("b", "a"), new ArrayList<Object>(m.keySet()));
        List<?> b = (List<?>) m.get("b");
        assertEquals(new JsonNumber("1"), b.get(0));
        assertTrue(((Map<?, ?>) b.get(1)).containsKey("c"));
        assertNull(((Map<?, ?>) b.get(1)).get("c"));
    }

    @Test
    void numbersKeepTheirText() {
        String[] texts = {"0", "-0", "1.50", "1E+10", "1e-5", "-0.0e0", "12345678901234567890123",
            "3.141592653589793238462643383279"};
        for (String t : texts) {
            Object v = Json.parse(t);
            assertEquals(t, ((JsonNumber) v).text());
            assertEquals(t, Json.write(v));
        }
        assertEquals("[1.0,2.50,1e5,-0]", Json.writeAscii(Json.parse("[1.0, 2.50, 1e5, -0]")));
        assertTrue(((JsonNumber) Json.parse("10")).isInteger());
        assertTrue(!((JsonNumber) Json.parse("1.0")).isInteger());
        assertEquals(-7L, ((JsonNumber) Json.parse("-7")).longValue());
    }

    @Test
    void duplicateKeysKeepFirstPositionAndLastValue() {
        Object v = Json.parse("{\"a\":1,\"b\":2,\"a\":3}");
        assertEquals("{\"a\":3,\"b\":2}", Json.write(v));
    }

    @Test
    void escapesAreDecoded() {
        assertEquals("\"\\/\b\f\n\r\t", Json.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""));
        assertEquals("\u00e9A\u20ac", Json.parse("\"\\u00e9\\u0041\\u20AC\""));
        // a surrogate pair makes one astral character
        String s = (String) Json.parse("\"\\ud83d\\ude00\"");
        assertEquals(2, s.length());
        assertEquals(0x1F600, s.codePointAt(0));
        // lone surrogates are kept as single UTF-16 units, as Python does
        assertEquals("\ud800", Json.parse("\"\\ud800\""));
        assertEquals("\udc00x", Json.parse("\"\\udc00x\""));
        assertEquals("\ud800\ud800", Json.parse("\"\\ud800\\ud800\""));
        // DEL and non-ASCII may appear literally in strings
        assertEquals("\u007f\u00e9\uD83D\uDE00", Json.parse("\"\u007f\u00e9\uD83D\uDE00\""));
        // escapes in keys too
        Map<?, ?> m = (Map<?, ?>) Json.parse("{\"k\\u00e9y\":1}");
        assertTrue(m.containsKey("k\u00e9y"));
    }

    // ------------------------------------------------------------------ invalid documents

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "``|unexpected end of input at line 1 column 1",
        "`   `|unexpected end of input at line 1 column 4",
        "[1,]|unexpected character ']' at line 1 column 4",
        "[1 2]|expected ',' or ']' in an array at line 1 column 4",
        "[1,2|unexpected end of input at line 1 column 5",
        "{\"a\":1,}|expected a string key at line 1 column 8",
        "{\"a\" 1}|expected ':' after an object key at line 1 column 6",
        "{\"a\":1 \"b\":2}|expected ',' or '}' in an object at line 1 column 8",
        "{'a':1}|expected a string key at line 1 column 2",
        "{a:1}|expected a string key at line 1 column 2",
        "{\"a\"}|expected ':' after an object key at line 1 column 5",
        "\"abc|unterminated string at line 1 column 5",
        "tru|invalid literal (expected 'true') at line 1 column 1",
        "nul|invalid literal (expected 'null') at line 1 column 1",
        "True|unexpected character 'T' at line 1 column 1",
        "NaN|unexpected character 'N' at line 1 column 1",
        "-Infinity|bad number at line 1 column 2",
        "01|unexpected text after the JSON value at line 1 column 2",
        "1.|bad number at line 1 column 3",
        ".5|unexpected character '.' at line 1 column 1",
        "-|bad number at line 1 column 2",
        "1e|bad number at line 1 column 3",
        "+1|unexpected character '+' at line 1 column 1",
        "[] x|unexpected text after the JSON value at line 1 column 4",
        "\"\\x\"|bad escape '\\x' at line 1 column 3",
        "\"\\u12zz\"|bad \\u escape at line 1 column 4",
        "\"\\u12|truncated \\u escape at line 1 column 4",
    })
    void invalidDocumentsNameThePlace(String text, String expected) {
        assertEquals("invalid JSON: " + expected, fails(text).getMessage());
    }

    @Test
    void invalidDocumentsOnLaterLines() {
        String text = "{\n  \"a\": 1,\n  \"b\" 2\n}";
        assertEquals("invalid JSON: expected ':' after an object key at line 3 column 7",
                fails(text).getMessage());
        assertEquals("invalid JSON: unexpected end of input at line 2 column 3",
                fails("[\n 1").getMessage());
    }

    @Test
    void stringsRejectControlCharactersAndNonAsciiHexDigits() {
        assertEquals("invalid JSON: control character in a string at line 1 column 4",
                fails("\"ab\nc\"").getMessage());
        fails("\"a\u0000\"");
        fails("\"\t\"");
        // fullwidth digits are not hex digits
        fails("\"\\u\uFF10\uFF10\uFF14\uFF11\"");
        fails("\"\\u00\u0661\u0661\"");
    }

    @Test
    void unexpectedNonPrintableCharacterIsShownEscaped() {
        assertEquals("invalid JSON: unexpected character '\\ufeff' at line 1 column 1",
                fails("\ufeff[]").getMessage());
        assertEquals("invalid JSON: unexpected character '\\u00e9' at line 1 column 2",
                fails("[\u00e9]").getMessage());
    }

    @Test
    void nullTextIsAnError() {
        NeedleException e = assertThrows(NeedleException.class, () -> Json.parse(null));
        assertEquals(NeedleException.Kind.JSON, e.kind());
    }

    // ------------------------------------------------------------------ depth limit

    private static String repeat(String s, int n) {
        StringBuilder sb = new StringBuilder(s.length() * n);
        for (int i = 0; i < n; i++) {
            sb.append(s);
        }
        return sb.toString();
    }

    @Test
    void veryDeepNestingIsAnErrorNotAStackOverflow() {
        NeedleException e = fails(repeat("[", 100_000));
        assertEquals("invalid JSON: nesting deeper than 512 at line 1 column 513", e.getMessage());
        fails(repeat("{\"a\":", 100_000));
        fails(repeat("[", 100_000) + repeat("]", 100_000));
    }

    @Test
    void nestingUpToTheLimitIsAccepted() {
        int n = Json.MAX_DEPTH;
        String ok = repeat("[", n) + repeat("]", n);
        assertEquals(ok, Json.writeAscii(Json.parse(ok)));
        String objects = repeat("{\"a\":", n - 1) + "[]" + repeat("}", n - 1);
        assertEquals(objects, Json.write(Json.parse(objects)));
        fails(repeat("[", n + 1) + repeat("]", n + 1));
        fails(repeat("{\"a\":", n) + "[]" + repeat("}", n));
    }

    // ------------------------------------------------------------------ writing

    @Test
    void asciiEscapingFollowsPythonJsonDumps() {
        // Python: json.dumps(["\x7f\x00\x1f é€😀\ud800 /\"\\\b\f\n\r\t"], separators=(",", ":"))
        String s = "\u007f\u0000\u001f \u00e9\u20ac\uD83D\uDE00\ud800 /\"\\\b\f\n\r\t";
        assertEquals("[\"\\u007f\\u0000\\u001f \\u00e9\\u20ac\\ud83d\\ude00\\ud800 /\\\"\\\\\\b\\f\\n\\r\\t\"]",
                Json.writeAscii(Arrays.asList(s)));
        // every printable ASCII character except " and \ is literal
        StringBuilder printable = new StringBuilder();
        for (char c = 0x20; c < 0x7f; c++) {
            if (c != '"' && c != '\\') {
                printable.append(c);
            }
        }
        assertEquals("\"" + printable + "\"", Json.writeAscii(printable.toString()));
        // every other character below 0x20 is \\u00xx, lower-case hex
        assertEquals("\"\\u0001\\u000b\\u001b\\u001f\"", Json.writeAscii("\u0001\u000b\u001b\u001f"));
        assertEquals("\"\\uffff\\uabcd\"", Json.writeAscii("\uffff\uabcd"));
    }

    @Test
    void nonAsciiWriterKeepsCharactersLiteral() {
        String s = "\u007f\u00e9\uD83D\uDE00\u0001\n\"";
        assertEquals("\"\u007f\u00e9\uD83D\uDE00\\u0001\\n\\\"\"", Json.write(s));
        assertEquals(Json.write(s), Json.quote(s));
    }

    @Test
    void compactWriterHasNoSpacesAndKeepsKeyOrder() {
        String text = "{ \"z\" : [ 1 , true , false , null , \"s\" ] ,\n \"a\" : { } , \"m\" : [ ] }";
        assertEquals("{\"z\":[1,true,false,null,\"s\"],\"a\":{},\"m\":[]}", Json.writeAscii(Json.parse(text)));
    }

    @Test
    void roundTripOfEscapedText() {
        String text = "[\"\\u00e9\\ud83d\\ude00\\u007f\\n\"]";
        assertEquals(text, Json.writeAscii(Json.parse(text)));
        assertEquals("[\"\u00e9\uD83D\uDE00\u007f\\n\"]", Json.write(Json.parse(text)));
        // "\/" is read as "/" and written literally
        assertEquals("\"/\"", Json.writeAscii(Json.parse("\"\\/\"")));
        // upper-case hex escapes are written back in lower case
        assertEquals("\"\\u00e9\"", Json.writeAscii(Json.parse("\"\\u00E9\"")));
    }

    @Test
    void writesJavaNumbersAndArrays() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("i", 3);
        m.put("l", 4L);
        m.put("d", 2.0);
        m.put("ids", new int[] {1, 2});
        assertEquals("{\"i\":3,\"l\":4,\"d\":2,\"ids\":[1,2]}", Json.write(m));
    }
}
