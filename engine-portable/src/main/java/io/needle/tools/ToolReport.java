package io.needle.tools;

import io.needle.base.NeedleException;
import io.needle.json.Json;
import io.needle.json.JsonPosition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tool list as the engine reads it, for hosts that show or check tools before a run (the Wasm
 * API's and the npm package's {@code normalizeTools}, used by the web demo's
 * editor and the Worker's catalogue): the text the model sees, each tool as {@link ToolCatalog}
 * normalizes it (name, original name, form, parameters, the flat definition), the names it
 * renames, and the problems of the list.
 *
 * <p>The engine runs any JSON (docs/spec/MODEL.md section 3, step 1: unusual tools are fed to the
 * model as they are), so a problem is not an error of the engine: it is something the engine
 * reads otherwise than the writer surely meant, which a host should refuse with the problem's
 * one-line message.
 * In the list's order, the first problem of each tool:
 * <ul>
 *   <li>the text is not JSON (the parser's message, with its line and column as fields), or not
 *       an array;</li>
 *   <li>an element is not an object, looks like OpenAI's form without being it, has no name (a
 *       non-empty string) or a name with no ASCII letter or digit (its snake_case is empty), has
 *       the same snake_case name as an earlier tool (the first one wins in the output);</li>
 *   <li>a {@code description} that is not a string, {@code parameters} that are not an object;</li>
 *   <li>JSON-Schema parameters (a string {@code "type"} member, or any parameters of an OpenAI
 *       tool) that are not {@code "type": "object"} with an object {@code properties} (the engine
 *       would then read their members as parameters), a property that is not an object or whose
 *       {@code type} is not a string (or array of strings), a {@code required} that is not an
 *       array of property names;</li>
 *   <li>flat parameters: a parameter that is not an object, a {@code type} that is not a string,
 *       a {@code required} that is not a boolean.</li>
 * </ul>
 * Tools are named in messages by their name when they have one ({@code tool "get_weather": …}),
 * else by their 1-based position ({@code tool 2 …}); each problem also carries the 0-based index.
 */
public final class ToolReport {
    private ToolReport() {
    }

    /** The report of a tools text, as a JSON-ready map (see the Wasm API's normalizeTools). */
    public static Map<String, Object> of(String toolsText) {
        String text = toolsText == null ? "" : toolsText;
        ToolCatalog catalog = ToolCatalog.parse(text);
        List<Object> problems = new ArrayList<>();
        List<Object> tools = new ArrayList<>();
        Object root = null;
        try {
            root = Json.parse(text);
        } catch (NeedleException e) {
            problems.add(jsonProblem(e.getMessage()));
        }
        if (catalog.isJson()) {
            if (!(root instanceof List)) {
                problems.add(problem(null, "the tool list must be a JSON array of tools, [ … ], got "
                        + Json.kindOf(root) + (root instanceof Map ? " (put a single tool in [ ])" : "")));
            } else {
                tools = tools((List<?>) root, (List<?>) Json.parse(catalog.serialized()), catalog.tools());
                check((List<?>) root, problems);
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("json", catalog.isJson());
        m.put("text", catalog.serialized());
        m.put("tools", tools);
        m.put("renamed", new LinkedHashMap<String, Object>(catalog.renamedOriginals()));
        m.put("problems", problems);
        return m;
    }

    /**
     * The tools the engine lists ({@link ToolCatalog#tools}: the elements whose normalized form
     * has a string name), each with its index in the given list, its form and its flat definition
     * (the element of the serialized text).
     */
    private static List<Object> tools(List<?> given, List<?> normalized, List<ToolSpec> specs) {
        List<Object> out = new ArrayList<>();
        int next = 0;
        for (int i = 0; i < given.size(); i++) {
            Object flat = normalized.get(i);
            if (!(flat instanceof Map) || !(((Map<?, ?>) flat).get("name") instanceof String)) {
                continue; // not listed by the engine
            }
            ToolSpec spec = specs.get(next++);
            List<Object> params = new ArrayList<>();
            for (ParamSpec p : spec.params()) {
                Map<String, Object> pm = new LinkedHashMap<>();
                pm.put("name", p.name());
                pm.put("type", p.type());
                pm.put("required", p.required());
                pm.put("enum", p.enumValues() == null ? null : new ArrayList<Object>(p.enumValues()));
                params.add(pm);
            }
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("index", i);
            t.put("name", spec.name());
            t.put("original", spec.originalName());
            t.put("description", spec.description());
            t.put("form", form((Map<?, ?>) given.get(i)));
            t.put("parameters", params);
            t.put("definition", flat);
            out.add(t);
        }
        return out;
    }

    /**
     * "openai" (unwrapped), "json-schema" (parameters converted) or "flat" (kept as it is): the
     * forms of docs/spec/MODEL.md section 3, step 1.
     */
    private static String form(Map<?, ?> tool) {
        if (isOpenAi(tool)) {
            return "openai";
        }
        Object p = tool.get("parameters");
        return p instanceof Map && "object".equals(((Map<?, ?>) p).get("type"))
                && ((Map<?, ?>) p).get("properties") instanceof Map ? "json-schema" : "flat";
    }

    private static boolean isOpenAi(Map<?, ?> tool) {
        return "function".equals(tool.get("type")) && tool.get("function") instanceof Map;
    }

    /** Adds the first problem of each element of a tool list. */
    private static void check(List<?> list, List<Object> problems) {
        Map<String, Integer> seen = new LinkedHashMap<>(); // snake name -> 1-based position
        for (int i = 0; i < list.size(); i++) {
            String problem = problemOf(list.get(i), i + 1, seen);
            if (problem != null) {
                problems.add(problem(i, problem));
            }
        }
    }

    private static String problemOf(Object element, int n, Map<String, Integer> seen) {
        if (!(element instanceof Map)) {
            return "tool " + n + " must be an object with a \"name\", got " + Json.kindOf(element);
        }
        Map<?, ?> tool = (Map<?, ?>) element;
        boolean openAi = false;
        if (tool.containsKey("type") || tool.containsKey("function")) {
            if (!isOpenAi(tool)) {
                return "tool " + n + " looks like the OpenAI form, which is {\"type\": \"function\", \"function\": {\"name\", …}}";
            }
            tool = (Map<?, ?>) tool.get("function");
            openAi = true;
        }
        Object name = tool.get("name");
        if (!(name instanceof String) || ((String) name).isEmpty()) {
            return "tool " + n + " needs a \"name\" (a non-empty string)";
        }
        String where = "tool " + Json.quote((String) name) + ": ";
        String snake = SnakeCase.of((String) name);
        if (snake.isEmpty()) {
            return where + "the name needs at least one ASCII letter or digit";
        }
        if (seen.containsKey(snake)) {
            return "tools " + seen.get(snake) + " and " + n + " have the same name (" + snake + " as the model sees it)";
        }
        seen.put(snake, n);
        if (tool.containsKey("description") && !(tool.get("description") instanceof String)) {
            return where + "\"description\" must be a string";
        }
        if (!tool.containsKey("parameters")) {
            return null;
        }
        Object params = tool.get("parameters");
        if (!(params instanceof Map)) {
            return where + "\"parameters\" must be an object, got " + Json.kindOf(params);
        }
        Map<?, ?> p = (Map<?, ?>) params;
        // a flat parameter may be called "type": its value is then an object, not a JSON-Schema type
        String why = p.get("type") instanceof String || openAi ? schemaProblem(p) : flatProblem(p);
        return why == null ? null : where + why;
    }

    /** JSON-Schema parameters: {"type": "object", "properties": {…}, "required": […]}. */
    private static String schemaProblem(Map<?, ?> params) {
        if (!"object".equals(params.get("type"))) {
            return "JSON Schema parameters need \"type\": \"object\", got "
                    + (params.containsKey("type") ? Json.write(params.get("type")) : "no \"type\"");
        }
        if (!params.containsKey("properties")) {
            return "JSON Schema parameters need \"properties\" (an object of parameters; {} for none)";
        }
        Object properties = params.get("properties");
        if (!(properties instanceof Map)) {
            return "\"properties\" must be an object of parameters, got " + Json.kindOf(properties);
        }
        for (Map.Entry<?, ?> e : ((Map<?, ?>) properties).entrySet()) {
            String key = Json.quote((String) e.getKey());
            if (!(e.getValue() instanceof Map)) {
                return "parameter " + key + " must be an object such as {\"type\": \"string\"}, got " + Json.kindOf(e.getValue());
            }
            Object type = ((Map<?, ?>) e.getValue()).get("type");
            if (type != null && !(type instanceof String) && !isStrings(type)) {
                return "the \"type\" of parameter " + key + " must be a string such as \"string\"";
            }
        }
        if (params.containsKey("required")) {
            Object required = params.get("required");
            if (!(required instanceof List)) {
                return "\"required\" must be an array of parameter names, got " + Json.kindOf(required);
            }
            for (Object r : (List<?>) required) {
                if (!(r instanceof String) || !((Map<?, ?>) properties).containsKey(r)) {
                    return "\"required\" lists " + Json.write(r) + ", which is not one of its \"properties\"";
                }
            }
        }
        return null;
    }

    /** Flat parameters: {"arg": {"type", "description", "required"}}. */
    private static String flatProblem(Map<?, ?> params) {
        for (Map.Entry<?, ?> e : params.entrySet()) {
            String key = Json.quote((String) e.getKey());
            if (!(e.getValue() instanceof Map)) {
                return "parameter " + key + " must be an object such as {\"type\": \"string\", \"required\": true}, got "
                        + Json.kindOf(e.getValue());
            }
            Map<?, ?> p = (Map<?, ?>) e.getValue();
            if (p.containsKey("type") && !(p.get("type") instanceof String)) {
                return "the \"type\" of parameter " + key + " must be a string such as \"string\"";
            }
            if (p.containsKey("required") && !(p.get("required") instanceof Boolean)) {
                return "\"required\" of parameter " + key + " must be true or false, got " + Json.write(p.get("required"));
            }
        }
        return null;
    }

    private static boolean isStrings(Object v) {
        if (!(v instanceof List)) {
            return false;
        }
        for (Object o : (List<?>) v) {
            if (!(o instanceof String)) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, Object> problem(Integer index, String message) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("index", index);
        p.put("message", message);
        return p;
    }

    /** The parser's error: "the tool list is not valid JSON: WHAT at line L column C", with line and column. */
    private static Map<String, Object> jsonProblem(String parserMessage) {
        String what = parserMessage.startsWith("invalid JSON: ") ? parserMessage.substring("invalid JSON: ".length())
                : parserMessage;
        Map<String, Object> p = problem(null, "the tool list is not valid JSON: " + what);
        int[] position = JsonPosition.of(parserMessage);
        if (position != null) {
            p.put("line", position[0]);
            p.put("column", position[1]);
        }
        return p;
    }
}
