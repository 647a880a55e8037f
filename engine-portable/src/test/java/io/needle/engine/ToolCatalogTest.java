package io.needle.engine;

import io.needle.tools.NameRestorer;
import io.needle.tools.ParamSpec;
import io.needle.tools.ToolCatalog;
import io.needle.tools.ToolSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.json.JsonNumber;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * docs/spec/MODEL.md section 3 steps 1 and 6. Expected texts are written by hand from the spec's rules
 * (compact, keys in order, non-ASCII as lower-case \\u escapes, numbers as they appeared).
 */
class ToolCatalogTest {

    /** JSON texts are easier to read with ' for ". */
    private static String j(String s) {
        return s.replace('\'', '"');
    }

    private static String norm(String tools) {
        ToolCatalog c = ToolCatalog.parse(j(tools));
        assertTrue(c.isJson());
        return c.serialized();
    }

    // ------------------------------------------------------------------ the three forms

    @Test
    void flatToolIsKeptAsItIsExceptTheName() {
        String in = "[ {'name': 'getWeather', 'description': 'Get the weather', 'x': 1.50,\n"
                + "   'parameters': {'location': {'type': 'string', 'description': 'City', 'required': true},\n"
                + "                  'unit': {'required': false, 'enum': ['c', 'f']}}} ]";
        assertEquals(j("[{'name':'get_weather','description':'Get the weather','x':1.50,"
                + "'parameters':{'location':{'type':'string','description':'City','required':true},"
                + "'unit':{'required':false,'enum':['c','f']}}}]"), norm(in));
    }

    @Test
    void flatToolNameKeepsItsPosition() {
        assertEquals(j("[{'description':'d','name':'book_flight','parameters':{}}]"),
                norm("[{'description':'d','name':'Book Flight','parameters':{}}]"));
    }

    @Test
    void jsonSchemaToolBecomesFlat() {
        String in = "[{'description': 'Books a flight', 'x-meta': {'a': 1}, 'name': 'BookFlight',"
                + " 'parameters': {'type': 'object',"
                + "   'properties': {"
                + "     'to': {'type': 'string', 'required': 'junk', 'description': 'Destination'},"
                + "     'date': {'description': 'When', 'type': 'string'},"
                + "     'seats': {'type': 'integer', 'enum': [1, 2], 'default': 1.0}},"
                + "   'required': ['to', 'seats'], 'additionalProperties': false},"
                + " 'strict': true}]";
        assertEquals(j("[{'name':'book_flight','description':'Books a flight','parameters':{"
                + "'to':{'type':'string','description':'Destination','required':true},"
                + "'date':{'description':'When','type':'string','required':false},"
                + "'seats':{'type':'integer','enum':[1,2],'default':1.0,'required':true}}}]"), norm(in));
    }

    @Test
    void jsonSchemaToolWithoutDescriptionOrRequiredList() {
        assertEquals(j("[{'name':'ping','parameters':{'host':{'type':'string','required':false}}}]"),
                norm("[{'name':'ping','parameters':{'type':'object','properties':{'host':{'type':'string'}}}}]"));
        // a required member that is not a list counts as empty
        assertEquals(j("[{'name':'ping','parameters':{'host':{'required':false}}}]"),
                norm("[{'name':'ping','parameters':{'type':'object','properties':{'host':{}},'required':'host'}}]"));
        // no properties at all
        assertEquals(j("[{'name':'now','parameters':{}}]"),
                norm("[{'name':'now','parameters':{'type':'object','properties':{}}}]"));
    }

    @Test
    void jsonSchemaPropertyThatIsNotAnObjectIsKept() {
        assertEquals(j("[{'name':'f','parameters':{'a':'string','b':{'required':true}}}]"),
                norm("[{'name':'f','parameters':{'type':'object','properties':{'a':'string','b':{}},"
                        + "'required':['a','b']}}]"));
    }

    @Test
    void notQuiteJsonSchemaIsFlat() {
        // "type" is not "object", or "properties" is not an object: the tool is flat (a), kept as is
        String a = "[{'name':'f','parameters':{'type':'OBJECT','properties':{'x':{}}}}]";
        assertEquals(j(a), norm(a));
        String b = "[{'name':'f','parameters':{'type':'object','properties':[]},'extra':1}]";
        assertEquals(j(b), norm(b));
    }

    @Test
    void openAiWrapperIsUnwrapped() {
        String in = "[{'type': 'function', 'function': {'name': 'user.get-profile', 'strict': true,"
                + " 'description': 'Profile', 'parameters': {'type': 'object', 'properties':"
                + " {'userId': {'type': 'string', 'description': 'Id'}}, 'required': ['userId']}}, 'id': 7}]";
        assertEquals(j("[{'name':'user_get_profile','description':'Profile','parameters':"
                + "{'userId':{'type':'string','description':'Id','required':true}}}]"), norm(in));
    }

    @Test
    void openAiWrapperWithFlatOrNoParameters() {
        // other members of the function object are dropped; flat parameters are kept as they are
        assertEquals(j("[{'name':'get_time','description':'Now','parameters':{'tz':{'type':'string'}}}]"),
                norm("[{'type':'function','function':{'strict':false,'parameters':{'tz':{'type':'string'}},"
                        + "'description':'Now','name':'getTime'}}]"));
        assertEquals(j("[{'name':'ping'}]"), norm("[{'type':'function','function':{'name':'ping','strict':true}}]"));
        // "function" that is not an object: not the wrapper, kept as it is
        String notWrapped = "[{'type':'function','function':'f','name':'getX'}]";
        assertEquals(j("[{'type':'function','function':'f','name':'get_x'}]"), norm(notWrapped));
    }

    @Test
    void allThreeFormsGiveTheSameFlatTool() {
        String flat = "[{'name':'getWeather','description':'W','parameters':{'city':{'type':'string','required':true},"
                + "'days':{'type':'integer','required':false}}}]";
        String schema = "[{'name':'getWeather','description':'W','parameters':{'type':'object','properties':"
                + "{'city':{'type':'string'},'days':{'type':'integer'}},'required':['city']}}]";
        String openai = "[{'type':'function','function':{'name':'getWeather','description':'W','parameters':"
                + "{'type':'object','properties':{'city':{'type':'string'},'days':{'type':'integer'}},"
                + "'required':['city']}}}]";
        String expected = j("[{'name':'get_weather','description':'W','parameters':{'city':{'type':'string','required':true},"
                + "'days':{'type':'integer','required':false}}}]");
        assertEquals(expected, norm(flat));
        assertEquals(expected, norm(schema));
        assertEquals(expected, norm(openai));
    }

    @Test
    void mixedFormsInOneArray() {
        String in = "[{'name':'a.b'},{'type':'function','function':{'name':'cD'}},"
                + "{'name':'eF','parameters':{'type':'object','properties':{}}}]";
        assertEquals(j("[{'name':'a_b'},{'name':'c_d'},{'name':'e_f','parameters':{}}]"), norm(in));
    }

    // ------------------------------------------------------------------ things kept as they are

    @Test
    void nonObjectElementsAndNonArrayTopLevelAreKept() {
        assertEquals(j("[1,'x',null,true,{'name':'a_b'},[{'name':'cD'}],1.50e3]"),
                norm("[1, 'x', null, true, {'name': 'aB'}, [{'name': 'cD'}], 1.50e3]"));
        // a single tool object is not renamed or normalized
        ToolCatalog single = ToolCatalog.parse(j("{ 'name': 'getWeather', 'parameters': {'type':'object','properties':{}} }"));
        assertTrue(single.isJson());
        assertEquals(j("{'name':'getWeather','parameters':{'type':'object','properties':{}}}"), single.serialized());
        assertTrue(single.tools().isEmpty());
        assertFalse(single.renamed());
        assertEquals("\"tools\"", ToolCatalog.parse("\"tools\"").serialized());
        assertEquals("42.0", ToolCatalog.parse(" 42.0 ").serialized());
        assertEquals("[]", ToolCatalog.parse(" [ ] ").serialized());
    }

    @Test
    void nonJsonTextIsUsedAsIs() {
        String[] texts = {"get_weather(location: string)", "[{\"name\": \"getWeather\",]", "", "  ", "{'name':'x'}",
            "[{\"name\":\"\u00e9\"}] trailing", "NaN"};
        for (String t : texts) {
            ToolCatalog c = ToolCatalog.parse(t);
            assertFalse(c.isJson(), t);
            assertEquals(t, c.serialized());
            assertTrue(c.tools().isEmpty());
            assertFalse(c.renamed());
            assertEquals("[{\"name\":\"get_weather\"}]", c.restoreNames("[{\"name\":\"get_weather\"}]"));
        }
        ToolCatalog nul = ToolCatalog.parse(null);
        assertFalse(nul.isJson());
        assertEquals("", nul.serialized());
    }

    @Test
    void tooDeepToolsTextIsNotJsonAndIsUsedAsIs() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 100_000; i++) {
            sb.append('[');
        }
        ToolCatalog c = ToolCatalog.parse(sb.toString());
        assertFalse(c.isJson());
        assertEquals(sb.toString(), c.serialized());
    }

    @Test
    void numbersAndEscapesInSerialization() {
        String in = "[{'name':'M\u00e9t\u00e9o\uD83D\uDE00','description':'Caf\u00e9 \\u00e9 \\ud83d\\ude00 \\/ a/b \\t \u007f',"
                + "'parameters':{'n':{'type':'number','default':-0.0e+0,'max':1E5,'big':123456789012345678901234567890}}}]";
        assertEquals(j("[{'name':'m_t_o','description':'Caf\\u00e9 \\u00e9 \\ud83d\\ude00 / a/b \\t \\u007f',"
                + "'parameters':{'n':{'type':'number','default':-0.0e+0,'max':1E5,'big':123456789012345678901234567890}}}]"),
                norm(in));
    }

    @Test
    void nonAsciiKeysAndParameterNamesAreEscapedNotRenamed() {
        assertEquals(j("[{'name':'f','parameters':{'\\u00e9t\\u00e9':{'type':'string','required':false},"
                + "'userId':{'required':false}}}]"),
                norm("[{'name':'f','parameters':{'type':'object','properties':{'\u00e9t\u00e9':{'type':'string'},"
                        + "'userId':{}}}}]"));
    }

    // ------------------------------------------------------------------ structured view

    @Test
    void structuredViewOfTools() {
        String in = "[{'type':'function','function':{'name':'getWeather','description':'W','parameters':"
                + "{'type':'object','properties':{'city':{'type':'STRING'},'unit':{'enum':['c','f',1]},"
                + "'days':{'type':['integer','null']},'raw':'x'},'required':['city','raw']}}},"
                + "{'name':'send_mail','parameters':{'to':{'type':'string','required':true},'cc':{'type':'string'}}},"
                + "{'name':7},{'description':'no name'},'junk',"
                + "{'name':'noParams','description':3}]";
        ToolCatalog c = ToolCatalog.parse(j(in));
        List<ToolSpec> tools = c.tools();
        assertEquals(3, tools.size());

        ToolSpec w = tools.get(0);
        assertEquals("get_weather", w.name());
        assertEquals("getWeather", w.originalName());
        assertEquals("W", w.description());
        assertEquals(4, w.params().size());
        ParamSpec city = w.params().get(0);
        assertEquals("city", city.name());
        assertEquals("string", city.type());
        assertTrue(city.required());
        assertNull(city.enumValues());
        assertEquals("STRING", city.schema().get("type"));
        assertEquals(Boolean.TRUE, city.schema().get("required"));
        ParamSpec unit = w.params().get(1);
        assertNull(unit.type());
        assertFalse(unit.required());
        assertEquals(Arrays.asList("c", "f", new JsonNumber("1")), unit.enumValues());
        ParamSpec days = w.params().get(2);
        assertNull(days.type()); // a list of types is not a string type
        ParamSpec raw = w.params().get(3);
        assertEquals("raw", raw.name());
        assertTrue(raw.schema().isEmpty());
        assertFalse(raw.required()); // not an object: nothing appended, so not required
        assertSame(unit, w.param("unit"));
        assertNull(w.param("nope"));

        ToolSpec mail = tools.get(1);
        assertEquals("send_mail", mail.name());
        assertEquals("send_mail", mail.originalName());
        assertNull(mail.description());
        assertTrue(mail.param("to").required());
        assertFalse(mail.param("cc").required());

        ToolSpec none = tools.get(2);
        assertEquals("no_params", none.name());
        assertNull(none.description());
        assertTrue(none.params().isEmpty());

        assertSame(w, c.tool("get_weather"));
        assertNull(c.tool("getWeather"));
        // tools without a string name stay in the serialized text
        assertTrue(c.serialized().contains(j("{'name':7},{'description':'no name'},'junk'")), c.serialized());
        assertThrows(UnsupportedOperationException.class, () -> c.tools().clear());
        assertThrows(UnsupportedOperationException.class, () -> c.tools().get(0).params().clear());
    }

    @Test
    void flatRequiredMustBeTrueExactly() {
        ToolCatalog c = ToolCatalog.parse(j("[{'name':'f','parameters':{'a':{'required':'true'},'b':{'required':1},"
                + "'c':{'required':true},'d':'string'}}]"));
        List<ParamSpec> ps = c.tools().get(0).params();
        assertFalse(ps.get(0).required());
        assertFalse(ps.get(1).required());
        assertTrue(ps.get(2).required());
        assertFalse(ps.get(3).required());
        assertNull(ps.get(3).type());
    }

    @Test
    void nonAsciiOnlyNameBecomesEmpty() {
        ToolCatalog c = ToolCatalog.parse("[{\"name\":\"\u5929\u6c17\"}]");
        assertEquals("[{\"name\":\"\"}]", c.serialized());
        assertEquals("", c.tools().get(0).name());
        assertEquals("\u5929\u6c17", c.tools().get(0).originalName());
        assertEquals("[{\"name\":\"\u5929\u6c17\",\"arguments\":{}}]", c.restoreNames("[{\"name\":\"\",\"arguments\":{}}]"));
    }

    // ------------------------------------------------------------------ restoring names

    private static final String TOOLS = "[{'name':'getWeather'},{'name':'Book Flight'},{'name':'send_mail'}]";

    private static String restore(String tools, String output) {
        return ToolCatalog.parse(j(tools)).restoreNames(output);
    }

    @Test
    void restoresRenamedNames() {
        ToolCatalog c = ToolCatalog.parse(j(TOOLS));
        assertTrue(c.renamed());
        assertEquals(j("[{'name':'getWeather','arguments':{'city':'Z\\u00fcrich','n':1.50}}]"),
                c.restoreNames(j("[{'name':'get_weather','arguments':{'city':'Z\\u00fcrich','n':1.50}}]")));
        assertEquals(j("[{'name':'Book Flight','arguments':{}}, {'name':'send_mail','arguments':{'to':'a'}},"
                + " {'name':'getWeather','arguments':{}}]"),
                c.restoreNames(j("[{'name':'book_flight','arguments':{}}, {'name':'send_mail','arguments':{'to':'a'}},"
                        + " {'name':'get_weather','arguments':{}}]")));
    }

    @Test
    void restoredTextKeepsTheModelsFormattingAndIsTheSameJsonValue() {
        String in = j("[ { 'arguments' : { 'q' : '\u00e9\\ud83d\\ude00 \\n \\'' , 'x' : [1, 2.0] } ,"
                + " 'name' : 'get_weather' , 'extra' : null } ]");
        String out = restore(TOOLS, in);
        assertEquals(in.replace("'get_weather'".replace('\'', '"'), "'getWeather'".replace('\'', '"')), out);
        assertEquals(j("[{'arguments':{'q':'\u00e9\uD83D\uDE00 \\n \\'','x':[1,2.0]},'name':'getWeather','extra':null}]"),
                io.needle.json.Json.write(io.needle.json.Json.parse(out)));
        // a name needing escapes is written as a JSON string
        assertEquals("[{\"name\":\"say \\\"hi\\\"\"}]",
                restore("[{\"name\":\"say \\\"hi\\\"\"}]", "[{\"name\":\"say_hi\"}]"));
    }

    @Test
    void unchangedWhenNothingToRestore() {
        // no tool renamed: the output is returned as is
        String out = j("[ {'name': 'send_mail', 'arguments': {}} ]");
        assertSame(out, restore("[{'name':'send_mail'}]", out));
        // renamed tools exist, but no name in the output is one of them
        assertEquals(out, restore(TOOLS, out));
        String other = j("[{'name': 'unknown_tool'}, {'name': 5}, {'arguments': {}}]");
        assertEquals(other, restore(TOOLS, other));
        assertEquals("[]", restore(TOOLS, "[]"));
        // original names are not snake names: nothing to change
        String original = j("[{'name': 'getWeather'}]");
        assertEquals(original, restore(TOOLS, original));
    }

    @Test
    void onlyCallNamesInTheTopLevelArrayAreRestored() {
        String[] unchanged = {
            j("{'name':'get_weather'}"), // not an array
            j("[[{'name':'get_weather'}]]"), // nested deeper
            j("[{'a':{'name':'get_weather'}}]"), // not a call's own member
            j("[{'x':'name','y':'get_weather'}]"), // 'name' as a value, not a key
            "get_weather", "", "null",
        };
        for (String o : unchanged) {
            assertEquals(o, restore(TOOLS, o), o);
        }
        assertNull(ToolCatalog.parse(j(TOOLS)).restoreNames(null));
    }

    @Test
    void unfinishedOutputIsRestoredAsFarAsItGoes() {
        // streamed output is restored as it is produced, so an output cut off by max_new_tokens
        // (or an element that is not an object) still gets its completed names restored
        assertEquals(j("[{'name':'getWeather','arguments':{}"), restore(TOOLS, j("[{'name':'get_weather','arguments':{}")));
        assertEquals(j("[{'name':'getWeather'},1]"), restore(TOOLS, j("[{'name':'get_weather'},1]")));
        // an unfinished name is kept as written
        assertEquals(j("[{'name':'get_wea"), restore(TOOLS, j("[{'name':'get_wea")));
    }

    @Test
    void streamingPiecesConcatenateToTheRestoredText() {
        ToolCatalog c = ToolCatalog.parse(j(TOOLS));
        String text = j("[{'name':'get_weather','arguments':{'name':'book_flight'}},{'name':'book_flight','arguments':{}}]");
        for (int cut = 1; cut < 6; cut++) {
            NameRestorer r = new NameRestorer(c.renamedOriginals());
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < text.length(); i += cut) {
                sb.append(r.push(text.substring(i, Math.min(text.length(), i + cut))));
            }
            sb.append(r.finish());
            assertEquals(c.restoreNames(text), sb.toString());
            assertEquals(j("[{'name':'getWeather','arguments':{'name':'book_flight'}},{'name':'Book Flight','arguments':{}}]"),
                    sb.toString());
        }
    }

    @Test
    void onlyTheNameMemberIsRestored() {
        assertEquals(j("[{'name':'getWeather','arguments':{'name':'get_weather','tool':'get_weather'}}]"),
                restore(TOOLS, j("[{'name':'get_weather','arguments':{'name':'get_weather','tool':'get_weather'}}]")));
    }

    @Test
    void collidingSnakeNamesFirstWins() {
        String out = j("[{'name':'get_weather','arguments':{}}]");
        ToolCatalog c = ToolCatalog.parse(j("[{'name':'getWeather'},{'name':'GetWeather'},{'name':'get_weather'}]"));
        assertEquals(j("[{'name':'get_weather'},{'name':'get_weather'},{'name':'get_weather'}]"), c.serialized());
        assertEquals(3, c.tools().size());
        assertEquals("GetWeather", c.tools().get(1).originalName());
        assertSame(c.tools().get(0), c.tool("get_weather"));
        assertEquals(j("[{'name':'getWeather','arguments':{}}]"), c.restoreNames(out));

        // the unrenamed one first: the snake name is its own original, nothing is restored
        ToolCatalog d = ToolCatalog.parse(j("[{'name':'get_weather'},{'name':'getWeather'}]"));
        assertFalse(d.renamed());
        assertEquals(out, d.restoreNames(out));
    }
}
