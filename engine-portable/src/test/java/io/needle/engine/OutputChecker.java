package io.needle.engine;

import io.needle.json.Json;
import io.needle.json.JsonNumber;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An independent checker of constrained output text (docs/spec/DECODING.md), written from the spec and a
 * {@link RandomCatalog}, not from the grammar code: a strict character-level parser of
 *
 * <pre>
 * "[" ( call ( "," call )* )? "]"
 * call := {"name":"TOOL","arguments":{ ("KEY":value ( ,"KEY":value )* )? }}
 * </pre>
 *
 * with no whitespace outside strings, TOOL an original name of a callable tool (names are
 * restored), KEY a declared, usable key of that tool used at most once, values of the declared
 * kind, required keys present when {@code arguments} closes.
 *
 * <p>Text that ends early is reported as {@link Verdict#PREFIX} when it is a prefix of some valid
 * output (every partial token so far can still be completed: a partial name is a prefix of a
 * callable tool's snake_case name, a partial key of an unused key, a comma in the arguments leaves
 * an unused key, a partial literal is a prefix of an allowed literal, …). Anything else is an
 * {@link AssertionError} naming the position.
 */
final class OutputChecker {
    enum Verdict { COMPLETE, PREFIX }

    /** Thrown when the text ends where more is needed. */
    private static final class Eof extends RuntimeException {
        Eof() {
            super(null, null, false, false);
        }
    }

    private final String s;
    private final RandomCatalog catalog;
    private int pos;
    /** Counts over the whole text (complete calls and arguments only). */
    int calls;
    final Map<RandomCatalog.Kind, Integer> argsByKind;

    private OutputChecker(String s, RandomCatalog catalog, Map<RandomCatalog.Kind, Integer> argsByKind) {
        this.s = s;
        this.catalog = catalog;
        this.argsByKind = argsByKind;
    }

    /**
     * Checks {@code text}; counts complete calls and arguments into {@code stats} (kind → count, may
     * be null).
     */
    static Verdict check(String text, RandomCatalog catalog, Map<RandomCatalog.Kind, Integer> stats,
            int[] callCount) {
        OutputChecker c = new OutputChecker(text, catalog, stats);
        Verdict v;
        try {
            c.output();
            if (c.pos != text.length()) {
                throw c.fail("text after the closing ]");
            }
            v = Verdict.COMPLETE;
        } catch (Eof e) {
            v = Verdict.PREFIX;
        }
        if (callCount != null) {
            callCount[0] += c.calls;
        }
        return v;
    }

    /** Checks a complete output a second way: parsed by our JSON parser, every rule on the values. */
    static void checkParsed(String text, RandomCatalog catalog) {
        Object v = Json.parse(text);
        if (!(v instanceof List)) {
            throw new AssertionError("not a JSON array: " + text);
        }
        for (Object o : (List<?>) v) {
            if (!(o instanceof Map)) {
                throw new AssertionError("call is not an object: " + text);
            }
            Map<?, ?> call = (Map<?, ?>) o;
            if (!new ArrayList<>(call.keySet()).equals(List.of("name", "arguments"))) {
                throw new AssertionError("call keys are not exactly name, arguments: " + text);
            }
            RandomCatalog.Tool tool = call.get("name") instanceof String
                    ? catalog.byOriginal((String) call.get("name")) : null;
            if (tool == null || !tool.callable()) {
                throw new AssertionError("name is not a callable declared tool: " + call.get("name") + " in " + text);
            }
            if (!(call.get("arguments") instanceof Map)) {
                throw new AssertionError("arguments is not an object: " + text);
            }
            Map<?, ?> args = (Map<?, ?>) call.get("arguments");
            for (Map.Entry<?, ?> e : args.entrySet()) {
                RandomCatalog.Param p = tool.param((String) e.getKey());
                if (p == null) {
                    throw new AssertionError("undeclared key " + e.getKey() + " in " + text);
                }
                if (!hasKind(e.getValue(), p)) {
                    throw new AssertionError("value of " + p.key + " is not " + p.kind + ": " + text);
                }
            }
            for (RandomCatalog.Param p : tool.params) {
                if (p.required && !args.containsKey(p.key)) {
                    throw new AssertionError("required key " + p.key + " missing: " + text);
                }
            }
        }
    }

    private static boolean hasKind(Object v, RandomCatalog.Param p) {
        switch (p.kind) {
            case STRING: return v instanceof String;
            case INTEGER: return v instanceof JsonNumber && ((JsonNumber) v).isInteger();
            case NUMBER: return v instanceof JsonNumber;
            case BOOLEAN: return v instanceof Boolean;
            case ARRAY: return v instanceof List;
            case OBJECT: return v instanceof Map;
            case ENUM:
                for (Object e : p.enumValues) {
                    if (Json.write(e).equals(Json.write(v))) {
                        return true;
                    }
                }
                return false;
            default: return true;
        }
    }

    // ------------------------------------------------------------------ the parser

    private AssertionError fail(String what) {
        String shown = s.substring(0, Math.min(pos, s.length())) + " <HERE> " + s.substring(Math.min(pos, s.length()));
        return new AssertionError(what + " at " + pos + ": " + shown);
    }

    private char peek() {
        if (pos >= s.length()) {
            throw new Eof();
        }
        return s.charAt(pos);
    }

    private void expect(char c) {
        if (peek() != c) {
            throw fail("expected '" + c + "'");
        }
        pos++;
    }

    private void literal(String lit) {
        for (int i = 0; i < lit.length(); i++) {
            expect(lit.charAt(i));
        }
    }

    private void output() {
        expect('[');
        if (peek() == ']') {
            pos++;
            return;
        }
        while (true) {
            call();
            char c = peek();
            if (c == ']') {
                pos++;
                return;
            }
            if (c != ',') {
                throw fail("expected ',' or ']' after a call");
            }
            pos++;
        }
    }

    private void call() {
        if (peek() != '{') {
            throw fail("expected a call");
        }
        if (!catalog.anyCallable()) {
            throw fail("a call although no tool can be called");
        }
        pos++;
        literal("\"name\":");
        RandomCatalog.Tool tool = toolName();
        literal(",\"arguments\":{");
        Set<String> used = new HashSet<>();
        if (peek() == '}') {
            closeArgs(tool, used);
        } else {
            while (true) {
                RandomCatalog.Param p = key(tool, used);
                expect(':');
                value(p);
                count(p.kind);
                char c = peek();
                if (c == '}') {
                    closeArgs(tool, used);
                    break;
                }
                if (c != ',') {
                    throw fail("expected ',' or '}' after an argument");
                }
                boolean unused = false;
                for (RandomCatalog.Param q : tool.params) {
                    unused |= q.usable() && !used.contains(q.key);
                }
                if (!unused) {
                    throw fail("',' although every key is used");
                }
                pos++;
            }
        }
        expect('}');
        calls++;
    }

    private void count(RandomCatalog.Kind k) {
        if (argsByKind != null) {
            argsByKind.merge(k, 1, Integer::sum);
        }
    }

    private void closeArgs(RandomCatalog.Tool tool, Set<String> used) {
        for (RandomCatalog.Param p : tool.params) {
            if (p.required && !used.contains(p.key)) {
                throw fail("arguments closed without required key " + p.key);
            }
        }
        pos++;
    }

    /** A name string; a partial one must be a prefix of a callable tool's snake name. */
    private RandomCatalog.Tool toolName() {
        int start = pos;
        String name;
        try {
            name = string();
        } catch (Eof e) {
            // raw, as the model wrote it (not restored yet)
            String partial = start + 1 <= s.length() ? s.substring(start + 1) : "";
            for (RandomCatalog.Tool t : catalog.tools) {
                if (t.callable() && spells(partial, t.snake)) {
                    throw e;
                }
            }
            throw fail("partial name '" + partial + "' is no callable tool's prefix");
        }
        RandomCatalog.Tool t = catalog.byOriginal(name);
        if (t == null || !t.callable()) {
            throw fail("name '" + name + "' is not a callable declared tool (original name)");
        }
        if (!s.substring(start, pos).equals(Json.quote(name))) {
            throw fail("name not written as the compact JSON string of the original");
        }
        return t;
    }

    private RandomCatalog.Param key(RandomCatalog.Tool tool, Set<String> used) {
        int start = pos;
        String key;
        try {
            if (peek() != '"') {
                throw fail("expected a key");
            }
            key = string();
        } catch (Eof e) {
            String partial = s.substring(start);
            partial = partial.isEmpty() ? partial : partial.substring(1);
            for (RandomCatalog.Param p : tool.params) {
                if (p.usable() && !used.contains(p.key) && spells(partial, p.key)) {
                    throw e;
                }
            }
            throw fail("partial key '" + partial + "' is no unused key's prefix");
        }
        RandomCatalog.Param p = tool.param(key);
        if (p == null || !p.usable()) {
            throw fail("key '" + key + "' is not a usable declared key of " + tool.original);
        }
        if (!used.add(key)) {
            throw fail("key '" + key + "' used twice");
        }
        return p;
    }

    /**
     * True when {@code raw} (the text after an opening quote, up to the end of the output) can be
     * continued into a JSON string whose value is {@code target}: every character so far, literal or
     * escaped ({@code \u00e9} or {@code \n}), is the next character of target, and an unfinished
     * escape at the end can still spell the next one.
     */
    static boolean spells(String raw, String target) {
        int j = 0;
        int i = 0;
        while (i < raw.length()) {
            char c = raw.charAt(i);
            if (c != '\\') {
                if (c == '"' || c < 0x20 || j >= target.length() || target.charAt(j) != c) {
                    return false;
                }
                i++;
                j++;
                continue;
            }
            if (j >= target.length()) {
                return false;
            }
            char want = target.charAt(j);
            if (i + 1 == raw.length()) {
                return true; // a lone backslash: a u escape can spell any character
            }
            char e = raw.charAt(i + 1);
            if (e == 'u') {
                String hex = raw.substring(i + 2, Math.min(raw.length(), i + 6));
                String full = String.format("%04x", (int) want);
                if (!full.startsWith(hex.toLowerCase())) {
                    return false;
                }
                if (hex.length() < 4) {
                    return true; // unfinished at the end
                }
                i += 6;
                j++;
                continue;
            }
            String simple = "\"\\/bfnrt";
            String value = "\"\\/\b\f\n\r\t";
            int k = simple.indexOf(e);
            if (k < 0 || value.charAt(k) != want) {
                return false;
            }
            i += 2;
            j++;
        }
        return true;
    }

    private void value(RandomCatalog.Param p) {
        switch (p.kind) {
            case STRING:
                if (peek() != '"') {
                    throw fail("expected a string");
                }
                string();
                return;
            case INTEGER:
                number(true);
                return;
            case NUMBER:
                number(false);
                return;
            case BOOLEAN:
                oneOf(List.of("true", "false"));
                return;
            case ENUM: {
                List<String> lits = new ArrayList<>();
                List<String> strings = new ArrayList<>();
                for (Object e : p.enumValues) {
                    if (e instanceof String) {
                        strings.add((String) e);
                    } else {
                        lits.add(Json.write(e));
                    }
                }
                if (peek() == '"' && !strings.isEmpty()) {
                    int start = pos;
                    String v;
                    try {
                        v = string();
                    } catch (Eof eof) {
                        for (String t : strings) {
                            if (spells(s.substring(start + 1), t)) {
                                throw eof;
                            }
                        }
                        throw fail("partial string is no enum value's prefix");
                    }
                    if (!strings.contains(v)) {
                        throw fail("string '" + v + "' is not among the enum values " + strings);
                    }
                    return;
                }
                oneOf(lits);
                return;
            }
            case ARRAY:
                if (peek() != '[') {
                    throw fail("expected an array");
                }
                anyValue(0);
                return;
            case OBJECT:
                if (peek() != '{') {
                    throw fail("expected an object");
                }
                anyValue(0);
                return;
            default:
                anyValue(0);
        }
    }

    /** One of the literal texts, followed by ',' or '}' (or the end of a prefix). */
    private void oneOf(List<String> lits) {
        String rest = s.substring(pos);
        String best = null;
        for (String l : lits) {
            if (rest.startsWith(l) && (rest.length() == l.length() || ",}".indexOf(rest.charAt(l.length())) >= 0)) {
                best = l;
            }
        }
        if (best != null) {
            pos += best.length();
            return;
        }
        for (String l : lits) {
            if (l.startsWith(rest)) {
                pos = s.length();
                throw new Eof();
            }
        }
        throw fail("expected one of " + lits);
    }

    private void anyValue(int depth) {
        if (depth > 64) {
            throw fail("nested too deep");
        }
        char c = peek();
        switch (c) {
            case '"':
                string();
                return;
            case '[':
                pos++;
                if (peek() == ']') {
                    pos++;
                    return;
                }
                while (true) {
                    anyValue(depth + 1);
                    char d = peek();
                    pos++;
                    if (d == ']') {
                        return;
                    }
                    if (d != ',') {
                        pos--;
                        throw fail("expected ',' or ']' in an array");
                    }
                }
            case '{':
                pos++;
                if (peek() == '}') {
                    pos++;
                    return;
                }
                while (true) {
                    if (peek() != '"') {
                        throw fail("expected a key in an object");
                    }
                    string();
                    expect(':');
                    anyValue(depth + 1);
                    char d = peek();
                    pos++;
                    if (d == '}') {
                        return;
                    }
                    if (d != ',') {
                        pos--;
                        throw fail("expected ',' or '}' in an object");
                    }
                }
            case 't':
            case 'f':
            case 'n':
                oneOfInValue();
                return;
            default:
                number(false);
        }
    }

    /** true / false / null inside any value (followed by anything; the container checks it). */
    private void oneOfInValue() {
        for (String l : new String[] {"true", "false", "null"}) {
            String rest = s.substring(pos, Math.min(s.length(), pos + l.length()));
            if (rest.equals(l)) {
                pos += l.length();
                return;
            }
            if (l.startsWith(rest) && pos + rest.length() == s.length()) {
                pos = s.length();
                throw new Eof();
            }
        }
        throw fail("expected true, false or null");
    }

    /** A JSON number (integer only when asked); ends at the first character that cannot continue it. */
    private void number(boolean intOnly) {
        int state = 0; // 0 start, 1 after '-', 2 "0", 3 int digits, 4 after '.', 5 frac, 6 after e, 7 after sign, 8 exp
        while (true) {
            if (pos >= s.length()) {
                throw new Eof(); // every state so far can be completed
            }
            char c = s.charAt(pos);
            boolean digit = c >= '0' && c <= '9';
            int next = -1;
            switch (state) {
                case 0: next = c == '-' ? 1 : c == '0' ? 2 : digit ? 3 : -1; break;
                case 1: next = c == '0' ? 2 : digit ? 3 : -1; break;
                case 2: next = intOnly ? -1 : c == '.' ? 4 : (c == 'e' || c == 'E') ? 6 : -1; break;
                case 3: next = digit ? 3 : intOnly ? -1 : c == '.' ? 4 : (c == 'e' || c == 'E') ? 6 : -1; break;
                case 4: next = digit ? 5 : -1; break;
                case 5: next = digit ? 5 : (c == 'e' || c == 'E') ? 6 : -1; break;
                case 6: next = (c == '+' || c == '-') ? 7 : digit ? 8 : -1; break;
                case 7: next = digit ? 8 : -1; break;
                default: next = digit ? 8 : -1;
            }
            if (next < 0) {
                if (state == 2 || state == 3 || state == 5 || state == 8) {
                    return;
                }
                throw fail(intOnly ? "expected an integer" : "expected a number");
            }
            state = next;
            pos++;
        }
    }

    /** A JSON string at pos (which holds '"'); returns its value. */
    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (true) {
            char c = peek();
            pos++;
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                pos--;
                throw fail("control character in a string");
            }
            if (c == '\uFFFD') {
                pos--;
                throw fail("U+FFFD (malformed UTF-8) in a string");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = peek();
            pos++;
            switch (e) {
                case '"': sb.append('"'); break;
                case '\\': sb.append('\\'); break;
                case '/': sb.append('/'); break;
                case 'b': sb.append('\b'); break;
                case 'f': sb.append('\f'); break;
                case 'n': sb.append('\n'); break;
                case 'r': sb.append('\r'); break;
                case 't': sb.append('\t'); break;
                case 'u': {
                    int v = 0;
                    for (int i = 0; i < 4; i++) {
                        char h = peek();
                        int d = Character.digit(h, 16);
                        if (d < 0) {
                            throw fail("bad \\u escape");
                        }
                        v = v * 16 + d;
                        pos++;
                    }
                    sb.append((char) v);
                    break;
                }
                default:
                    pos--;
                    throw fail("bad escape");
            }
        }
    }
}
