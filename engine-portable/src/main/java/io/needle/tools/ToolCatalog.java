package io.needle.tools;

import io.needle.base.NeedleException;
import io.needle.json.Json;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tools of one request, normalized as the model was trained to see them (docs/spec/MODEL.md section 3,
 * steps 1 and 6).
 *
 * <p>{@link #parse} accepts three forms of tool in a JSON array and turns each into the flat form
 * {@code {"name","description","parameters":{"arg":{"type","description","required"}}}}:
 * <ul>
 *   <li>(c) OpenAI's {@code {"type":"function","function":{…}}}: unwrapped to its {@code function}
 *       object, which keeps only its {@code name}, {@code description} and {@code parameters}
 *       (in that order, each only if present); the parameters are then converted as (b) when they
 *       have that form, else kept as they are;</li>
 *   <li>(b) a tool whose {@code parameters} is an object with {@code "type":"object"} and an object
 *       {@code properties}: becomes {@code {"name", "description" (if present), "parameters":{KEY:
 *       P, …}}}, KEY in {@code properties} order, P the property's object with its members in
 *       order, a {@code required} member dropped and {@code "required":true|false} appended (true
 *       when KEY is in the schema's {@code required} list). A property whose value is not an object
 *       is kept as it is. All other members of the tool are dropped;</li>
 *   <li>(a) any other object: kept as it is.</li>
 * </ul>
 * Every tool whose {@code name} is a string is renamed to {@link SnakeCase snake_case} (in place:
 * the member keeps its position). A non-array top level and array elements that are not objects
 * are kept as they are. The result is serialized as Python's compact {@code json.dumps}
 * ({@link Json#writeAscii}), numbers as they appeared. Text that is not valid JSON is used as is,
 * with no renaming and no {@link #tools()}.
 *
 * <p>Choices: a tool without a string {@code name} stays in {@link #serialized()} but is left out
 * of {@link #tools()} (the model cannot call it by name). When two different original names snake
 * to the same name, both tools are listed in {@link #tools()} under that name, and the first one
 * wins for {@link #restoreNames} and {@link #tool(String)}. A null text counts as empty text (not
 * JSON).
 */
public final class ToolCatalog {
    private final String serialized;
    private final boolean json;
    private final List<ToolSpec> tools;
    /** snake name → original name, first tool wins. */
    private final Map<String, String> originals;
    private final boolean renamed;

    private ToolCatalog(String serialized, boolean json, List<ToolSpec> tools,
            Map<String, String> originals) {
        this.serialized = serialized;
        this.json = json;
        this.tools = Collections.unmodifiableList(tools);
        this.originals = originals;
        boolean any = false;
        for (Map.Entry<String, String> e : originals.entrySet()) {
            if (!e.getKey().equals(e.getValue())) {
                any = true;
            }
        }
        this.renamed = any;
    }

    /** Normalizes a tools text. Never throws: text that is not valid JSON is used as is. */
    public static ToolCatalog parse(String toolsText) {
        String text = toolsText == null ? "" : toolsText;
        Object root;
        try {
            root = Json.parse(text);
        } catch (NeedleException e) {
            return new ToolCatalog(text, false, new ArrayList<ToolSpec>(),
                    new LinkedHashMap<String, String>());
        }
        List<ToolSpec> specs = new ArrayList<>();
        Map<String, String> originals = new LinkedHashMap<>();
        if (root instanceof List) {
            @SuppressWarnings("unchecked")
            List<Object> list = (List<Object>) root;
            for (int i = 0; i < list.size(); i++) {
                Object element = list.get(i);
                if (!(element instanceof Map)) {
                    continue; // kept as it is
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> tool = normalize((Map<String, Object>) element);
                list.set(i, tool);
                Object name = tool.get("name");
                if (name instanceof String) {
                    String original = (String) name;
                    String snake = SnakeCase.of(original);
                    tool.put("name", snake);
                    if (!originals.containsKey(snake)) {
                        originals.put(snake, original);
                    }
                    specs.add(spec(snake, original, tool));
                }
            }
        }
        return new ToolCatalog(Json.writeAscii(root), true, specs, originals);
    }

    /** One tool in the flat form: unwraps (c), converts (b), keeps (a). Names not yet renamed. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> normalize(Map<String, Object> tool) {
        boolean wrapped = false;
        if ("function".equals(tool.get("type")) && tool.get("function") instanceof Map) {
            tool = (Map<String, Object>) tool.get("function");
            wrapped = true;
        }
        Object params = tool.get("parameters");
        boolean schema = isSchemaObject(params);
        if (!schema && !wrapped) {
            return tool; // (a): as it is
        }
        Map<String, Object> flat = new LinkedHashMap<>();
        if (tool.containsKey("name")) {
            flat.put("name", tool.get("name"));
        }
        if (tool.containsKey("description")) {
            flat.put("description", tool.get("description"));
        }
        if (schema) {
            flat.put("parameters", flatParameters((Map<String, Object>) params));
        } else if (tool.containsKey("parameters")) {
            flat.put("parameters", params);
        }
        return flat;
    }

    /** True for JSON-Schema parameters: an object with "type":"object" and an object "properties". */
    private static boolean isSchemaObject(Object params) {
        if (!(params instanceof Map)) {
            return false;
        }
        Map<?, ?> m = (Map<?, ?>) params;
        return "object".equals(m.get("type")) && m.get("properties") instanceof Map;
    }

    /** Form (b) parameters → {KEY: P with "required" appended, …} in properties order. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> flatParameters(Map<String, Object> schema) {
        Map<String, Object> properties = (Map<String, Object>) schema.get("properties");
        Object requiredList = schema.get("required");
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : properties.entrySet()) {
            String key = e.getKey();
            Object value = e.getValue();
            if (!(value instanceof Map)) {
                out.put(key, value);
                continue;
            }
            Map<String, Object> p = new LinkedHashMap<>();
            for (Map.Entry<String, Object> m : ((Map<String, Object>) value).entrySet()) {
                if (!m.getKey().equals("required")) {
                    p.put(m.getKey(), m.getValue());
                }
            }
            boolean required = requiredList instanceof List && ((List<Object>) requiredList).contains(key);
            p.put("required", Boolean.valueOf(required));
            out.put(key, p);
        }
        return out;
    }

    /** The structured view of one normalized (flat) tool. */
    @SuppressWarnings("unchecked")
    private static ToolSpec spec(String snake, String original, Map<String, Object> tool) {
        List<ParamSpec> params = new ArrayList<>();
        Object ps = tool.get("parameters");
        if (ps instanceof Map) {
            for (Map.Entry<String, Object> e : ((Map<String, Object>) ps).entrySet()) {
                Map<String, Object> p = e.getValue() instanceof Map
                        ? (Map<String, Object>) e.getValue()
                        : new LinkedHashMap<String, Object>();
                Object type = p.get("type");
                Object enumValues = p.get("enum");
                params.add(new ParamSpec(e.getKey(),
                        type instanceof String ? lowerAscii((String) type) : null,
                        enumValues instanceof List ? (List<Object>) enumValues : null,
                        Boolean.TRUE.equals(p.get("required")), p));
            }
        }
        Object description = tool.get("description");
        return new ToolSpec(snake, original, description instanceof String ? (String) description : null,
                params);
    }

    private static String lowerAscii(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
        }
        return sb.toString();
    }

    /** The tools text the model sees (compact, ASCII-escaped), or the input as is when not JSON. */
    public String serialized() {
        return serialized;
    }

    /** False when the tools text was not valid JSON (then it is used as is). */
    public boolean isJson() {
        return json;
    }

    /** The tools with a string name, in order, as the constrained decoder needs them. */
    public List<ToolSpec> tools() {
        return tools;
    }

    /** The first tool whose snake_cased name is {@code name}, or null. */
    public ToolSpec tool(String name) {
        for (ToolSpec t : tools) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** True when at least one tool name changed by snake_casing (its original must be restored). */
    public boolean renamed() {
        return renamed;
    }

    /**
     * Snake name → original name of every tool whose name snake_casing changed (the first tool
     * wins when several snake to the same name; a snake name that is itself some tool's original
     * name is not restored).
     */
    public Map<String, String> renamedOriginals() {
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : originals.entrySet()) {
            if (!e.getKey().equals(e.getValue())) {
                m.put(e.getKey(), e.getValue());
            }
        }
        return m;
    }

    /**
     * docs/spec/MODEL.md section 3 step 6: restores original tool names in a model output (each call
     * object's {@code "name"} value that is a renamed tool's snake name), keeping the rest of the
     * text as written; see {@link NameRestorer}. Returns the text unchanged when no tool was renamed.
     */
    public String restoreNames(String outputText) {
        if (!renamed || outputText == null) {
            return outputText;
        }
        return NameRestorer.restore(outputText, renamedOriginals());
    }
}
