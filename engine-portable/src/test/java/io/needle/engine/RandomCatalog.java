package io.needle.engine;

import io.needle.tools.SnakeCase;
import io.needle.json.Json;
import io.needle.json.JsonNumber;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Seeded random tool catalogues for the property tests, with the expected grammar written down
 * independently of {@link ToolCatalog}: tool names in every case style (camelCase, PascalCase,
 * snake, kebab, spaces, dotted, acronyms, non-ASCII), each tool in the flat, JSON-Schema or OpenAI
 * form, typed parameters (string / integer / number / boolean / enum / array / object / untyped /
 * unknown type), required lists, unicode in descriptions.
 *
 * <p>Tools whose names snake_case to the same name are avoided (the first would win, see
 * {@link ToolCatalog}); so each tool is known by its snake name.
 */
final class RandomCatalog {
    /** A parameter's value kind as docs/spec/DECODING.md types it. */
    enum Kind { STRING, INTEGER, NUMBER, BOOLEAN, ENUM, ARRAY, OBJECT, ANY }

    static final class Param {
        final String key;
        final Kind kind;
        final List<Object> enumValues; // ENUM only
        final boolean required;

        Param(String key, Kind kind, List<Object> enumValues, boolean required) {
            this.key = key;
            this.kind = kind;
            this.enumValues = enumValues;
            this.required = required;
        }

        /** An empty enum cannot be written. */
        boolean usable() {
            return kind != Kind.ENUM || !enumValues.isEmpty();
        }
    }

    static final class Tool {
        final String original;
        final String snake;
        final List<Param> params;
        final String form;

        Tool(String original, String snake, List<Param> params, String form) {
            this.original = original;
            this.snake = snake;
            this.params = params;
            this.form = form;
        }

        Param param(String key) {
            for (Param p : params) {
                if (p.key.equals(key)) {
                    return p;
                }
            }
            return null;
        }

        /** Callable when every required parameter can be written. */
        boolean callable() {
            for (Param p : params) {
                if (p.required && !p.usable()) {
                    return false;
                }
            }
            return true;
        }
    }

    final List<Tool> tools;
    final String json;

    private RandomCatalog(List<Tool> tools, String json) {
        this.tools = tools;
        this.json = json;
    }

    /** A catalogue of the given tools (no JSON text), for checking the checker. */
    static RandomCatalog of(List<Tool> tools) {
        return new RandomCatalog(tools, null);
    }

    /** The tool whose snake_case name is {@code snake}, or null. */
    Tool bySnake(String snake) {
        for (Tool t : tools) {
            if (t.snake.equals(snake)) {
                return t;
            }
        }
        return null;
    }

    /** The tool whose original name is {@code original}, or null. */
    Tool byOriginal(String original) {
        for (Tool t : tools) {
            if (t.original.equals(original)) {
                return t;
            }
        }
        return null;
    }

    boolean anyCallable() {
        for (Tool t : tools) {
            if (t.callable()) {
                return true;
            }
        }
        return false;
    }

    boolean anyRenamed() {
        for (Tool t : tools) {
            if (!t.original.equals(t.snake)) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ generation

    private static final String[] WORDS = {"get", "set", "weather", "alarm", "send", "message", "play", "music",
        "search", "flights", "create", "event", "book", "table", "list", "files", "user", "profile", "turn",
        "lights", "convert", "currency", "translate", "text", "add", "item", "cart", "open", "door", "read"};
    private static final String[] ACRONYMS = {"HTTP", "URL", "ID", "API", "SMS", "PDF"};
    private static final String[] KEY_STYLES = {"location", "city", "max_results", "maxResults", "unit", "days",
        "count", "enabled", "tags", "options", "query", "volume", "price", "label", "time", "date", "lang",
        "recipient", "payload", "filters", "ville", "città", "größe", "with space", "dash-key", "dot.key",
        "a\"quote", "back\\slash", "名前", "x", "y"};
    private static final String[] DESCRIPTIONS = {"Get the current weather", "Météo à Paris ☀️",
        "天気を取得する", "Envoyer un message — vite", "Play a song 🎵 or artist", "Search flights ✈",
        "Ünïcödé déscriptïon", "Book a table for two", "", "Set an alarm at HH:MM", "Конвертировать валюту",
        "Line\nbreak and \"quotes\" and \\ backslash", "emoji 😀😀 and CJK 中文"};
    private static final Object[][] ENUMS = {
        {"celsius", "fahrenheit"}, {"c", "f", "k"}, {"low", "medium", "high"}, {"a", "ab", "abc"},
        {"été", "hiver"}, {"with space", "x\"y"}, {"東京", "大阪"}, {1, 2, 3}, {10, 1, 100}, {"1", 1}, {"only"},
        {}, {true, "maybe"}, {0.5, 2.25}};

    /** A random catalogue of 0..6 tools (mostly 1..3). */
    static RandomCatalog make(Random r) {
        int n = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(r.nextInt(4) == 0 ? 6 : 3);
        List<Tool> tools = new ArrayList<>();
        List<Object> array = new ArrayList<>();
        Set<String> snakes = new HashSet<>();
        int attempts = 0;
        while (tools.size() < n && attempts++ < 50) {
            String name = name(r);
            String snake = SnakeCase.of(name);
            if (!snakes.add(snake)) {
                continue;
            }
            List<Param> params = params(r);
            String form = new String[] {"flat", "schema", "openai", "openai-flat"}[r.nextInt(4)];
            tools.add(new Tool(name, snake, params, form));
            array.add(toolJson(r, name, params, form));
        }
        return new RandomCatalog(tools, r.nextBoolean() ? Json.write(array) : Json.writeAscii(array));
    }

    /** A tool name in a random style. */
    static String name(Random r) {
        int words = 1 + r.nextInt(3);
        List<String> w = new ArrayList<>();
        for (int i = 0; i < words; i++) {
            w.add(r.nextInt(6) == 0 ? ACRONYMS[r.nextInt(ACRONYMS.length)] : WORDS[r.nextInt(WORDS.length)]);
        }
        int style = r.nextInt(10);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < w.size(); i++) {
            String word = w.get(i);
            boolean acronym = word.equals(word.toUpperCase());
            switch (style) {
                case 0: // camelCase
                    sb.append(i == 0 ? word.toLowerCase() : acronym ? word : cap(word));
                    break;
                case 1: // PascalCase
                    sb.append(acronym ? word : cap(word));
                    break;
                case 2: // snake
                    sb.append(i == 0 ? "" : "_").append(word.toLowerCase());
                    break;
                case 3: // kebab
                    sb.append(i == 0 ? "" : "-").append(word.toLowerCase());
                    break;
                case 4: // spaces
                    sb.append(i == 0 ? cap(word.toLowerCase()) : " " + word.toLowerCase());
                    break;
                case 5: // dotted
                    sb.append(i == 0 ? "" : ".").append(word.toLowerCase());
                    break;
                case 6: // SCREAMING_SNAKE
                    sb.append(i == 0 ? "" : "_").append(word.toUpperCase());
                    break;
                case 7: // non-ASCII and digits mixed in
                    sb.append(i == 0 ? "" : "é").append(word.toLowerCase()).append(r.nextBoolean() ? "2" : "");
                    break;
                default: // camel with acronyms kept
                    sb.append(i == 0 ? word.toLowerCase() : acronym ? word.toUpperCase() : cap(word));
            }
        }
        if (r.nextInt(40) == 0) {
            return r.nextBoolean() ? "天気" : "__" + sb + "__"; // snakes to "" / strips underscores
        }
        return sb.toString();
    }

    private static String cap(String w) {
        return Character.toUpperCase(w.charAt(0)) + w.substring(1).toLowerCase();
    }

    private static List<Param> params(Random r) {
        int n = r.nextInt(5);
        List<Param> out = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < n; i++) {
            String key = KEY_STYLES[r.nextInt(KEY_STYLES.length)];
            if (!keys.add(key)) {
                continue;
            }
            Kind kind = Kind.values()[r.nextInt(Kind.values().length)];
            List<Object> enumValues = null;
            if (kind == Kind.ENUM) {
                enumValues = new ArrayList<>();
                Object[] e = ENUMS[r.nextInt(ENUMS.length)];
                for (Object v : e) {
                    enumValues.add(v instanceof Integer || v instanceof Double ? new JsonNumber(v.toString()) : v);
                }
            }
            out.add(new Param(key, kind, enumValues, r.nextInt(3) == 0));
        }
        return out;
    }

    /** The declared type text of a kind ("untyped" is no type at all; ANY is sometimes an unknown type). */
    private static String typeText(Random r, Param p) {
        switch (p.kind) {
            case STRING: return "string";
            case INTEGER: return "integer";
            case NUMBER: return "number";
            case BOOLEAN: return "boolean";
            case ARRAY: return "array";
            case OBJECT: return "object";
            case ENUM: return r.nextBoolean() ? null : p.enumValues.isEmpty()
                    || p.enumValues.get(0) instanceof String ? "string" : "integer";
            default: return r.nextBoolean() ? null : "date"; // untyped, or a type the grammar does not know
        }
    }

    private static Map<String, Object> paramJson(Random r, Param p, boolean flat) {
        Map<String, Object> m = new LinkedHashMap<>();
        String type = typeText(r, p);
        if (type != null) {
            m.put("type", type);
        }
        if (r.nextInt(4) == 0) { // (rarely: descriptions make the prompt, and the encoder's work, longer)
            m.put("description", DESCRIPTIONS[r.nextInt(DESCRIPTIONS.length)]);
        }
        if (p.kind == Kind.ENUM) {
            m.put("enum", p.enumValues);
        }
        if (p.kind == Kind.ARRAY && r.nextBoolean()) {
            Map<String, Object> items = new LinkedHashMap<>();
            items.put("type", "string");
            m.put("items", items);
        }
        if (flat && (p.required || r.nextBoolean())) {
            m.put("required", p.required);
        }
        return m;
    }

    private static Map<String, Object> toolJson(Random r, String name, List<Param> params, String form) {
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("name", name);
        if (r.nextBoolean()) {
            tool.put("description", DESCRIPTIONS[r.nextInt(DESCRIPTIONS.length)]);
        }
        boolean flat = form.equals("flat") || form.equals("openai-flat");
        if (flat) {
            Map<String, Object> ps = new LinkedHashMap<>();
            for (Param p : params) {
                ps.put(p.key, paramJson(r, p, true));
            }
            if (!params.isEmpty() || r.nextBoolean()) {
                tool.put("parameters", ps);
            }
        } else {
            Map<String, Object> schema = new LinkedHashMap<>();
            schema.put("type", "object");
            Map<String, Object> props = new LinkedHashMap<>();
            List<Object> required = new ArrayList<>();
            for (Param p : params) {
                props.put(p.key, paramJson(r, p, false));
                if (p.required) {
                    required.add(p.key);
                }
            }
            schema.put("properties", props);
            if (!required.isEmpty() || r.nextBoolean()) {
                schema.put("required", required);
            }
            tool.put("parameters", schema);
        }
        if (form.startsWith("openai")) {
            Map<String, Object> wrapper = new LinkedHashMap<>();
            wrapper.put("type", "function");
            wrapper.put("function", tool);
            return wrapper;
        }
        return tool;
    }
}
