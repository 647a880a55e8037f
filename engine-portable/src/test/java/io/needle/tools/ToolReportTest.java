package io.needle.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.json.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link ToolReport} on the JVM: the normalized part is {@link ToolCatalog}'s own (the text, the
 * tools, the renamed names), and each problem of its documented list is reported once, naming
 * the tool. The same cases, written by {@link NodeFixturesTest} with this JVM's reports, are what
 * the npm package's {@code normalizeTools} must answer in Node.
 */
public class ToolReportTest {

    /** Sound lists: every form, mixed, renamed names, a flat parameter called "type". */
    public static final String[] SOUND = {
        "[]",
        "[{\"name\":\"getWeather\",\"description\":\"Weather\",\"parameters\":{\"city\":{\"type\":\"STRING\","
                + "\"enum\":[\"Paris\",\"Rome\"],\"required\":true},\"days\":{\"type\":\"integer\"}}},"
                + "{\"type\":\"function\",\"function\":{\"name\":\"HTTPServerStatus\",\"parameters\":{\"type\":\"object\","
                + "\"properties\":{}}}},{\"name\":\"user.get-profile\",\"description\":\"Profile\",\"parameters\":"
                + "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":[\"integer\",\"string\"],\"description\":\"\\u00e9\"}},"
                + "\"required\":[\"id\"]},\"extra\":1.50}]",
        "[{\"name\":\"a\",\"parameters\":{\"type\":{\"type\":\"string\",\"required\":true}}},{\"name\":\"b\"}]",
    };

    /** One problem each: the text, a fragment of its message, its index ("": null, the list as a whole). */
    public static final String[][] PROBLEMS = {
        {"[{\"name\": \"get_weather\", \"parameters\": {}},\n]", "the tool list is not valid JSON: unexpected character ']' at line 2 column 1", ""},
        {"", "the tool list is not valid JSON", ""},
        {"{\"name\":\"get_weather\"}", "must be a JSON array of tools, [ … ], got an object (put a single tool in [ ])", ""},
        {"\"get_weather\"", "must be a JSON array of tools, [ … ], got a string", ""},
        {"[42]", "tool 1 must be an object with a \"name\", got a number", "0"},
        {"[{\"type\":\"function\",\"name\":\"a\"}]", "tool 1 looks like the OpenAI form", "0"},
        {"[{\"function\":{\"name\":\"a\"}}]", "tool 1 looks like the OpenAI form", "0"},
        {"[{\"description\":\"no name\"}]", "tool 1 needs a \"name\" (a non-empty string)", "0"},
        {"[{\"name\":\"\"}]", "tool 1 needs a \"name\"", "0"},
        {"[{\"name\":7}]", "tool 1 needs a \"name\"", "0"},
        {"[{\"name\":\"\u2600 \u2601\"}]", "tool \"\u2600 \u2601\": the name needs at least one ASCII letter or digit", "0"},
        {"[{\"name\":\"getWeather\"},{\"name\":\"get_weather\"}]", "tools 1 and 2 have the same name (get_weather as the model sees it)", "1"},
        {"[{\"name\":\"a\",\"description\":7}]", "tool \"a\": \"description\" must be a string", "0"},
        {"[{\"name\":\"a\",\"parameters\":[]}]", "tool \"a\": \"parameters\" must be an object, got an array", "0"},
        {"[{\"name\":\"a\",\"parameters\":{\"type\":\"array\"}}]", "JSON Schema parameters need \"type\": \"object\", got \"array\"", "0"},
        {"[{\"type\":\"function\",\"function\":{\"name\":\"a\",\"parameters\":{\"x\":{}}}}]", "need \"type\": \"object\", got no \"type\"", "0"},
        {"[{\"name\":\"a\",\"parameters\":{\"type\":\"object\"}}]", "JSON Schema parameters need \"properties\"", "0"},
        {"[{\"name\":\"a\",\"parameters\":{\"type\":\"object\",\"properties\":[]}}]", "\"properties\" must be an object of parameters, got an array", "0"},
        {"[{\"name\":\"a\",\"parameters\":{\"type\":\"object\",\"properties\":{\"x\":\"string\"}}}]", "parameter \"x\" must be an object such as {\"type\": \"string\"}, got a string", "0"},
        {"[{\"name\":\"a\",\"parameters\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":1}}}}]", "the \"type\" of parameter \"x\" must be a string", "0"},
        {"[{\"name\":\"a\",\"parameters\":{\"type\":\"object\",\"properties\":{\"x\":{}},\"required\":\"x\"}}]", "\"required\" must be an array of parameter names, got a string", "0"},
        {"[{\"name\":\"a\",\"parameters\":{\"type\":\"object\",\"properties\":{\"x\":{}},\"required\":[\"y\"]}}]", "tool \"a\": \"required\" lists \"y\", which is not one of its \"properties\"", "0"},
        {"[{\"name\":\"a\",\"parameters\":{\"x\":true}}]", "parameter \"x\" must be an object such as {\"type\": \"string\", \"required\": true}, got a boolean", "0"},
        {"[{\"name\":\"a\",\"parameters\":{\"x\":{\"type\":[\"string\"]}}}]", "the \"type\" of parameter \"x\" must be a string", "0"},
        {"[{\"name\":\"a\",\"parameters\":{\"x\":{\"required\":\"yes\"}}}]", "\"required\" of parameter \"x\" must be true or false, got \"yes\"", "0"},
    };

    /** Several problems: the first of each tool, in the list's order. */
    public static final String SEVERAL = "[{\"name\":\"a\"},7,{\"name\":\"A\"},{\"name\":\"b\",\"parameters\":{\"x\":1}},{}]";

    @Test
    void soundListsHaveNoProblemAndTheCatalogueIsTheEngines() {
        for (String text : SOUND) {
            Map<String, Object> r = ToolReport.of(text);
            assertEquals(List.of(), r.get("problems"), text);
            sameAsCatalogue(text, r);
        }
    }

    @Test
    void eachProblemIsReportedOnceNamingTheTool() {
        for (String[] c : PROBLEMS) {
            Map<String, Object> r = ToolReport.of(c[0]);
            List<?> problems = (List<?>) r.get("problems");
            assertEquals(1, problems.size(), c[0] + " → " + problems);
            Map<?, ?> p = (Map<?, ?>) problems.get(0);
            String message = (String) p.get("message");
            assertTrue(message.contains(c[1]), c[0] + " → " + message);
            assertFalse(message.contains("\n"), "one line: " + message);
            assertEquals(c[2].isEmpty() ? null : Integer.valueOf(c[2]), p.get("index"), c[0]);
            sameAsCatalogue(c[0], r);
        }
    }

    @Test
    void textThatIsNotJsonIsUsedAsItIsAndItsProblemHasThePosition() {
        String text = PROBLEMS[0][0];
        Map<String, Object> r = ToolReport.of(text);
        assertEquals(false, r.get("json"));
        assertEquals(text, r.get("text"));
        Map<?, ?> p = (Map<?, ?>) ((List<?>) r.get("problems")).get(0);
        assertEquals(2, p.get("line"));
        assertEquals(1, p.get("column"));
        assertNull(((Map<?, ?>) ((List<?>) ToolReport.of("").get("problems")).get(0)).get("index"));
    }

    @Test
    void severalProblemsComeInOrderOnePerTool() {
        List<?> problems = (List<?>) ToolReport.of(SEVERAL).get("problems");
        assertEquals(4, problems.size(), problems.toString());
        int[] indexes = {1, 2, 3, 4};
        for (int i = 0; i < indexes.length; i++) {
            assertEquals(indexes[i], ((Map<?, ?>) problems.get(i)).get("index"));
        }
        sameAsCatalogue(SEVERAL, ToolReport.of(SEVERAL));
    }

    @Test
    void formsIndexesAndDefinitions() {
        Map<String, Object> r = ToolReport.of(SOUND[1]);
        List<?> tools = (List<?>) r.get("tools");
        assertEquals(List.of("flat", "openai", "json-schema"), tools.stream().map(t -> ((Map<?, ?>) t).get("form")).toList());
        assertEquals(List.of(0, 1, 2), tools.stream().map(t -> ((Map<?, ?>) t).get("index")).toList());
        List<?> flat = (List<?>) Json.parse((String) r.get("text"));
        for (int i = 0; i < tools.size(); i++) {
            assertEquals(Json.write(flat.get(i)), Json.write(((Map<?, ?>) tools.get(i)).get("definition")));
        }
        // the problem list skips elements the engine does not list, and so does "tools"
        List<?> several = (List<?>) ToolReport.of(SEVERAL).get("tools");
        assertEquals(List.of(0, 2, 3), several.stream().map(t -> ((Map<?, ?>) t).get("index")).toList());
    }

    /** The text, tools and renamed names are ToolCatalog's. */
    private static void sameAsCatalogue(String text, Map<String, Object> r) {
        ToolCatalog catalog = ToolCatalog.parse(text);
        assertEquals(catalog.isJson(), r.get("json"), text);
        assertEquals(catalog.serialized(), r.get("text"), text);
        assertEquals(catalog.renamedOriginals(), r.get("renamed"), text);
        List<?> tools = (List<?>) r.get("tools");
        assertEquals(catalog.tools().size(), tools.size(), text);
        for (int i = 0; i < tools.size(); i++) {
            ToolSpec spec = catalog.tools().get(i);
            Map<?, ?> t = (Map<?, ?>) tools.get(i);
            assertEquals(spec.name(), t.get("name"));
            assertEquals(spec.originalName(), t.get("original"));
            assertEquals(spec.description(), t.get("description"));
            List<?> params = (List<?>) t.get("parameters");
            assertEquals(spec.params().size(), params.size());
            for (int k = 0; k < params.size(); k++) {
                Map<?, ?> p = (Map<?, ?>) params.get(k);
                assertEquals(spec.params().get(k).name(), p.get("name"));
                assertEquals(spec.params().get(k).type(), p.get("type"));
                assertEquals(spec.params().get(k).required(), p.get("required"));
                assertEquals(spec.params().get(k).enumValues(), p.get("enum"));
            }
        }
    }
}
