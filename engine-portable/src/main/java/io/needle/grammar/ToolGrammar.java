package io.needle.grammar;

import io.needle.tools.ParamSpec;
import io.needle.tools.ToolCatalog;
import io.needle.tools.ToolSpec;
import io.needle.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The tool-call grammar of docs/spec/DECODING.md compiled for one tool catalogue: which tool names may be
 * written, and per tool which argument keys exist, their value types and which are required.
 * Immutable; {@link GrammarState} walks it.
 */
public final class ToolGrammar {
    /** Value kinds (from the parameter's schema). */
    static final int ANY = 0;
    static final int STRING = 1;
    static final int INTEGER = 2;
    static final int NUMBER = 3;
    static final int BOOLEAN = 4;
    static final int ENUM = 5;
    static final int ARRAY = 6;
    static final int OBJECT = 7;

    /** Callable tool names, each as UTF-8 bytes followed by the closing quote. */
    final Choice names;
    /** Rules per tool, indexed by {@code names.origin}. */
    final ToolRule[] tools;
    /** At least one call: {@code []} is refused while a tool can be called (see {@link #compile(ToolCatalog, boolean)}). */
    final boolean requireCall;

    /** One tool's arguments. */
    static final class ToolRule {
        /**
         * Usable keys, each as its JSON-escaped UTF-8 bytes followed by {@code ":}; a key with
         * non-ASCII characters in two spellings, literal and escaped as {@link Json#writeAscii}
         * writes it (the model was trained on answers written by Python's {@code json.dumps},
         * which escapes them). Enum values likewise.
         */
        final Choice keys;
        /** Per parameter (by declaration index): value kind and, for enum/boolean, the literal values. */
        final int[] kinds;
        final Choice[] literals;
        /** Parameters that must be present before {@code arguments} closes. */
        final boolean[] required;
        /** Parameters that can be written at all (an empty enum cannot). */
        final boolean[] usable;
        final int paramCount;

        ToolRule(Choice keys, int[] kinds, Choice[] literals, boolean[] required, boolean[] usable) {
            this.keys = keys;
            this.kinds = kinds;
            this.literals = literals;
            this.required = required;
            this.usable = usable;
            this.paramCount = kinds.length;
        }
    }

    private ToolGrammar(Choice names, ToolRule[] tools, boolean requireCall) {
        this.names = names;
        this.tools = tools;
        this.requireCall = requireCall;
    }

    /** Compiles the grammar for a catalogue (tools that cannot be called validly are left out). */
    public static ToolGrammar compile(ToolCatalog catalog) {
        return compile(catalog, false);
    }

    /**
     * As {@link #compile(ToolCatalog)}; with {@code requireCall} the output holds at least one call:
     * the empty array {@code []} is refused whenever a tool can be called (with no callable tool it
     * stays the only output). An OpenAI {@code tool_choice} of {@code "required"} or a named function.
     */
    public static ToolGrammar compile(ToolCatalog catalog, boolean requireCall) {
        List<ToolSpec> specs = catalog.tools();
        List<byte[]> nameBytes = new ArrayList<>();
        ToolRule[] rules = new ToolRule[specs.size()];
        for (int t = 0; t < specs.size(); t++) {
            ToolSpec spec = specs.get(t);
            ToolRule rule = rule(spec);
            rules[t] = rule;
            boolean callable = true;
            for (int p = 0; p < rule.paramCount; p++) {
                if (rule.required[p] && !rule.usable[p]) {
                    callable = false;
                }
            }
            nameBytes.add(callable ? utf8(escapedBody(spec.name()) + "\"") : null);
        }
        return new ToolGrammar(Choice.of(nameBytes), rules, requireCall);
    }

    /** True when at least one tool can be called. */
    public boolean hasTools() {
        return names.size() > 0;
    }

    /** True when the output must hold at least one call (and a tool can be called). */
    public boolean requiresCall() {
        return requireCall && hasTools();
    }

    private static ToolRule rule(ToolSpec spec) {
        List<ParamSpec> params = spec.params();
        int n = params.size();
        int[] kinds = new int[n];
        Choice[] literals = new Choice[n];
        boolean[] required = new boolean[n];
        boolean[] usable = new boolean[n];
        List<byte[]> keys = new ArrayList<>();
        List<Integer> keyParams = new ArrayList<>();
        for (int p = 0; p < n; p++) {
            ParamSpec ps = params.get(p);
            required[p] = ps.required();
            List<Object> enumValues = ps.enumValues();
            if (enumValues != null) {
                kinds[p] = ENUM;
                List<byte[]> values = new ArrayList<>();
                for (Object v : enumValues) {
                    values.add(utf8(Json.write(v)));
                    values.add(utf8(Json.writeAscii(v))); // a duplicate when v is ASCII
                }
                literals[p] = Choice.of(values);
            } else {
                kinds[p] = kindOf(ps.type());
                if (kinds[p] == BOOLEAN) {
                    List<byte[]> values = new ArrayList<>();
                    values.add(utf8("true"));
                    values.add(utf8("false"));
                    literals[p] = Choice.of(values);
                }
            }
            usable[p] = kinds[p] != ENUM || literals[p].size() > 0;
            if (usable[p]) {
                keys.add(utf8(escapedBody(ps.name()) + "\":"));
                keyParams.add(p);
                String ascii = Json.writeAscii(ps.name());
                keys.add(utf8(ascii.substring(1, ascii.length() - 1) + "\":"));
                keyParams.add(p);
            }
        }
        return new ToolRule(Choice.of(keys, keyParams), kinds, literals, required, usable);
    }

    static int kindOf(String type) {
        if (type == null) {
            return ANY;
        }
        switch (type) {
            case "string":
            case "str":
                return STRING;
            case "integer":
            case "int":
                return INTEGER;
            case "number":
            case "float":
            case "double":
                return NUMBER;
            case "boolean":
            case "bool":
                return BOOLEAN;
            case "array":
            case "list":
                return ARRAY;
            case "object":
            case "dict":
                return OBJECT;
            default:
                return ANY;
        }
    }

    /** The text between the quotes of {@code s} as a compact JSON string (non-ASCII literal). */
    private static String escapedBody(String s) {
        String q = Json.quote(s);
        return q.substring(1, q.length() - 1);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
