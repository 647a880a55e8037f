package io.needle.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.OutputChecker.Verdict;
import io.needle.engine.RandomCatalog.Kind;
import io.needle.engine.RandomCatalog.Param;
import io.needle.engine.RandomCatalog.Tool;
import io.needle.json.JsonNumber;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The property test's oracle must itself reject what breaks a rule and accept prefixes of valid outputs. */
class OutputCheckerTest {
    static final RandomCatalog CATALOG;

    static {
        List<Tool> tools = new ArrayList<>();
        List<Param> w = new ArrayList<>();
        w.add(new Param("city", Kind.STRING, null, true));
        w.add(new Param("days", Kind.INTEGER, null, false));
        w.add(new Param("unit", Kind.ENUM, List.of("celsius", "東京"), false));
        w.add(new Param("temp", Kind.NUMBER, null, false));
        w.add(new Param("on", Kind.BOOLEAN, null, false));
        w.add(new Param("tags", Kind.ARRAY, null, false));
        w.add(new Param("opts", Kind.OBJECT, null, false));
        w.add(new Param("any", Kind.ANY, null, false));
        w.add(new Param("level", Kind.ENUM, List.of(new JsonNumber("1"), new JsonNumber("10")), false));
        tools.add(new Tool("getWeather", "get_weather", w, "flat"));
        List<Param> one = new ArrayList<>();
        one.add(new Param("x", Kind.STRING, null, false));
        tools.add(new Tool("ping", "ping", one, "flat"));
        List<Param> blocked = new ArrayList<>();
        blocked.add(new Param("mode", Kind.ENUM, List.of(), true));
        tools.add(new Tool("Blocked Tool", "blocked_tool", blocked, "flat"));
        CATALOG = RandomCatalog.of(tools);
    }

    static Verdict check(String text) {
        return OutputChecker.check(text, CATALOG, null, null);
    }

    @Test
    void acceptsValidOutputsAndTheirPrefixes() {
        String[] valid = {"[]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"Paris\"}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"days\":-0,\"city\":\"Par\\u00eds \\\"x\\\"\",\"unit\":\"\\u6771\\u4eac\","
                    + "\"temp\":-1.5e+3,\"on\":false,\"tags\":[1,\"a\",[],{}],\"opts\":{\"a\":{\"b\":null}},"
                    + "\"any\":true,\"level\":10}},{\"name\":\"ping\",\"arguments\":{}}]",
            "[{\"name\":\"ping\",\"arguments\":{\"x\":\"東京\"}}]",
        };
        for (String v : valid) {
            assertEquals(Verdict.COMPLETE, check(v), v);
            OutputChecker.checkParsed(v, CATALOG);
            for (int i = 0; i < v.length(); i++) {
                String p = v.substring(0, i);
                int name = p.lastIndexOf("\"name\":\"");
                if (name >= 0 && p.indexOf('"', name + 8) < 0 && p.length() > name + 8) {
                    continue; // inside a name: the output holds the snake name until it is complete
                }
                assertEquals(Verdict.PREFIX, check(p), p);
            }
        }
        // a partial name is the snake name being written; escapes may be cut anywhere
        assertEquals(Verdict.PREFIX, check("[{\"name\":\"get_wea"));
        assertEquals(Verdict.PREFIX, check("[{\"name\":\"ping\",\"arguments\":{\"x\":\"a\\u00"));
        assertEquals(Verdict.PREFIX, check("[{\"name\":\"getWeather\",\"arguments\":{\"unit\":\"\\u677"));
        assertEquals(Verdict.PREFIX, check("[{\"name\":\"getWeather\",\"arguments\":{\"unit\":\"cel"));
        assertEquals(Verdict.PREFIX, check("[{\"name\":\"getWeather\",\"arguments\":{\"level\":1"));
    }

    @Test
    void rejectsEveryBrokenRule() {
        String[] bad = {
            " []", "[ ]", "[]x", "{}", "[{\"name\":\"get_weather\",\"arguments\":{\"city\":\"P\"}}]", // snake, not restored
            "[{\"name\":\"nope\",\"arguments\":{}}]",
            "[{\"name\":\"Blocked Tool\",\"arguments\":{}}]", // not callable
            "[{\"arguments\":{},\"name\":\"ping\"}]",
            "[{\"name\":\"ping\",\"arguments\":{},\"x\":1}]",
            "[{\"name\":\"getWeather\",\"arguments\":{}}]", // required city missing
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"city\":\"b\"}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"ci\\u0074y\":\"b\"}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":1}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"days\":1.5}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"days\":01}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"temp\":\"1\"}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"on\":1}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"unit\":\"kelvin\"}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"level\":2}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"tags\":{}}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"opts\":[]}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"any\":[1, 2]}}]",
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"other\":1}}]",
            "[{\"name\":\"ping\",\"arguments\":{\"x\":\"a\nb\"}}]",
            "[{\"name\":\"ping\",\"arguments\":{\"x\":\"\\q\"}}]",
            "[{\"name\":\"ping\",\"arguments\":{\"x\":\"\uFFFD\"}}]",
            "[{\"name\":\"ping\",\"arguments\":{\"x\":\"a\"},}]",
            "[{\"name\":\"ping\",\"arguments\":{\"x\":\"a\",", // a comma with no key left
            "[{\"name\":\"pong", // no tool starts so
            "[{\"name\":\"getWeather\",\"arguments\":{\"zz", // no key starts so
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"unit\":\"x", // no enum value starts so
            "[{\"name\":\"getWeather\",\"arguments\":{\"city\":\"a\",\"unit\":\"\\u0041", // nor so
        };
        for (String b : bad) {
            assertThrows(AssertionError.class, () -> check(b), b);
        }
        // no callable tool: only [] is possible
        RandomCatalog none = RandomCatalog.of(List.of(CATALOG.tools.get(2)));
        assertThrows(AssertionError.class, () -> OutputChecker.check("[{", none, null, null));
        assertEquals(Verdict.COMPLETE, OutputChecker.check("[]", none, null, null));
    }

    @Test
    void spellings() {
        assertTrue(OutputChecker.spells("", "abc"));
        assertTrue(OutputChecker.spells("a\\u0062", "abc"));
        assertTrue(OutputChecker.spells("a\\u00", "abc"));
        assertTrue(OutputChecker.spells("a\\", "abc"));
        assertTrue(!OutputChecker.spells("a\\u0063", "abc"));
        assertTrue(!OutputChecker.spells("abcd", "abc"));
        assertTrue(OutputChecker.spells("\\n", "\nx"));
        assertTrue(!OutputChecker.spells("x\"", "x\"y"));
        assertTrue(OutputChecker.spells("x\\\"", "x\"y"));
    }
}
