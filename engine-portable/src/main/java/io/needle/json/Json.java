package io.needle.json;

import io.needle.base.NeedleException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Our small JSON parser and writer (no reflection, portable to TeaVM).
 *
 * <p>Values map to Java as: object → {@link LinkedHashMap} (keys in input order; a repeated key
 * keeps its first position and takes the last value, as Python's {@code json.loads}), array →
 * {@link ArrayList}, string → {@link String}, number → {@link JsonNumber} (exact input text),
 * {@code true}/{@code false} → {@link Boolean}, {@code null} → {@code null}.
 *
 * <p>Limits: nesting deeper than {@link #MAX_DEPTH} is an error (never a stack overflow), and so
 * is a text longer than {@link #MAX_LENGTH} characters (parsing allocates in proportion to the
 * text; callers with their own bound, such as the SafeTensors header, pass it to
 * {@link #parse(String, int)}).
 */
public final class Json {
    /** Deepest nesting of arrays and objects the parser accepts. */
    public static final int MAX_DEPTH = 512;
    /** Longest text {@link #parse(String)} accepts, in chars: 8 MiB. */
    public static final int MAX_LENGTH = 8 * 1024 * 1024;

    private final char[] s; // the text's chars: indexed directly (a call per char costs the cold JVM, e.g. a CLI request)
    private final int n; // s.length
    private int pos;

    private Json(String text) {
        this.s = text.toCharArray();
        this.n = s.length;
    }

    /** Parses one JSON text (surrounding whitespace allowed). Throws NeedleException kind JSON. */
    public static Object parse(String text) {
        return parse(text, MAX_LENGTH);
    }

    /** Parses one JSON text of at most {@code maxLength} chars. Throws NeedleException kind JSON. */
    public static Object parse(String text, int maxLength) {
        if (text == null) {
            throw new NeedleException(NeedleException.Kind.JSON, "invalid JSON: no text");
        }
        if (text.length() > maxLength) {
            throw new NeedleException(NeedleException.Kind.JSON, "invalid JSON: the text has " + text.length()
                    + " characters, more than the limit of " + maxLength);
        }
        Json p = new Json(text);
        p.skipWs();
        Object v = p.value(0);
        p.skipWs();
        if (p.pos != p.n) {
            throw p.error("unexpected text after the JSON value");
        }
        return v;
    }

    private NeedleException error(String what) {
        int line = 1;
        int col = 1;
        for (int i = 0; i < pos && i < n; i++) {
            if (s[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new NeedleException(NeedleException.Kind.JSON,
                "invalid JSON: " + what + " at line " + line + " column " + col);
    }

    private void skipWs() {
        while (pos < n) {
            char c = s[pos];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                pos++;
            } else {
                break;
            }
        }
    }

    private Object value(int depth) {
        if (pos >= n) {
            throw error("unexpected end of input");
        }
        char c = s[pos];
        switch (c) {
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case '"':
                return string();
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw error("unexpected character '" + printable(c) + "'");
        }
    }

    private static String printable(char c) {
        if (c >= 0x20 && c <= 0x7e) {
            return String.valueOf(c);
        }
        StringBuilder sb = new StringBuilder("\\u");
        appendHex4(sb, c);
        return sb.toString();
    }

    private void literal(String word) {
        boolean same = pos <= n - word.length();
        for (int i = 0; same && i < word.length(); i++) {
            same = s[pos + i] == word.charAt(i);
        }
        if (!same) {
            throw error("invalid literal (expected '" + word + "')");
        }
        pos += word.length();
    }

    private Map<String, Object> object(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
        pos++; // {
        Map<String, Object> map = new LinkedHashMap<>();
        skipWs();
        if (pos < n && s[pos] == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWs();
            if (pos >= n || s[pos] != '"') {
                throw error(pos >= n ? "unexpected end of input" : "expected a string key");
            }
            String key = string();
            skipWs();
            if (pos >= n || s[pos] != ':') {
                throw error("expected ':' after an object key");
            }
            pos++;
            skipWs();
            map.put(key, value(depth));
            skipWs();
            if (pos >= n) {
                throw error("unexpected end of input");
            }
            char c = s[pos++];
            if (c == '}') {
                return map;
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or '}' in an object");
            }
        }
    }

    private List<Object> array(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
        pos++; // [
        List<Object> list = new ArrayList<>();
        skipWs();
        if (pos < n && s[pos] == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWs();
            list.add(value(depth));
            skipWs();
            if (pos >= n) {
                throw error("unexpected end of input");
            }
            char c = s[pos++];
            if (c == ']') {
                return list;
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or ']' in an array");
            }
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder sb = null;
        int start = pos;
        while (true) {
            if (pos >= n) {
                throw error("unterminated string");
            }
            char c = s[pos];
            if (c == '"') {
                String out = sb == null ? new String(s, start, pos - start) : sb.append(s, start, pos - start).toString();
                pos++;
                return out;
            }
            if (c < 0x20) {
                throw error("control character in a string");
            }
            if (c == '\\') {
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(s, start, pos - start);
                pos++;
                if (pos >= n) {
                    throw error("unterminated string");
                }
                char e = s[pos++];
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
                        if (pos + 4 > n) {
                            throw error("truncated \\u escape");
                        }
                        int v = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = hexDigit(s[pos + i]);
                            if (d < 0) {
                                throw error("bad \\u escape");
                            }
                            v = v * 16 + d;
                        }
                        pos += 4;
                        sb.append((char) v);
                        break;
                    }
                    default:
                        pos--;
                        throw error("bad escape '\\" + printable(e) + "'");
                }
                start = pos;
            } else {
                pos++;
            }
        }
    }

    /** The value of an ASCII hex digit, or -1 (Character.digit would also accept non-ASCII digits). */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private JsonNumber number() {
        int start = pos;
        if (s[pos] == '-') {
            pos++;
        }
        if (pos >= n) {
            throw error("bad number");
        }
        if (s[pos] == '0') {
            pos++;
        } else if (isDigit(pos)) {
            while (isDigit(pos)) {
                pos++;
            }
        } else {
            throw error("bad number");
        }
        if (pos < n && s[pos] == '.') {
            pos++;
            if (!isDigit(pos)) {
                throw error("bad number");
            }
            while (isDigit(pos)) {
                pos++;
            }
        }
        if (pos < n && (s[pos] == 'e' || s[pos] == 'E')) {
            pos++;
            if (pos < n && (s[pos] == '+' || s[pos] == '-')) {
                pos++;
            }
            if (!isDigit(pos)) {
                throw error("bad number");
            }
            while (isDigit(pos)) {
                pos++;
            }
        }
        return new JsonNumber(new String(s, start, pos - start));
    }

    private boolean isDigit(int i) {
        return i < n && s[i] >= '0' && s[i] <= '9';
    }

    // ------------------------------------------------------------------ writing

    /**
     * Compact serialization as Python's {@code json.dumps(v, separators=(",", ":"))}: every
     * non-ASCII character and DEL escaped as {@code \\uXXXX} (lower-case hex, UTF-16 units).
     */
    public static String writeAscii(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, true);
        return sb.toString();
    }

    /** Compact serialization with non-ASCII characters kept literal (control characters escaped). */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, false);
        return sb.toString();
    }

    /** Appends the compact serialization of {@code value}. */
    public static void write(StringBuilder sb, Object value, boolean ascii) {
        if (value == null) {
            sb.append("null");
        } else if (value instanceof String) {
            writeString(sb, (String) value, ascii);
        } else if (value instanceof Boolean) {
            sb.append(((Boolean) value).booleanValue() ? "true" : "false");
        } else if (value instanceof JsonNumber) {
            sb.append(((JsonNumber) value).text());
        } else if (value instanceof Integer || value instanceof Long) {
            sb.append(value.toString());
        } else if (value instanceof Number) {
            double d = ((Number) value).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                sb.append("null");
            } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                sb.append((long) d);
            } else {
                sb.append(d);
            }
        } else if (value instanceof Map) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                writeString(sb, String.valueOf(e.getKey()), ascii);
                sb.append(':');
                write(sb, e.getValue(), ascii);
            }
            sb.append('}');
        } else if (value instanceof List) {
            sb.append('[');
            boolean first = true;
            for (Object o : (List<?>) value) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(sb, o, ascii);
            }
            sb.append(']');
        } else if (value instanceof int[]) {
            int[] a = (int[]) value;
            sb.append('[');
            for (int i = 0; i < a.length; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(a[i]);
            }
            sb.append(']');
        } else {
            throw new NeedleException(NeedleException.Kind.INPUT, "not a JSON value: " + value.getClass().getName());
        }
    }

    /** Appends {@code s} as a JSON string literal. */
    public static void writeString(StringBuilder sb, String s, boolean ascii) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                default:
                    if (c < 0x20 || (ascii && c >= 0x7f)) {
                        appendHex4(sb.append("\\u"), c);
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    private static void appendHex4(StringBuilder sb, char c) {
        final String hex = "0123456789abcdef";
        sb.append(hex.charAt((c >> 12) & 15)).append(hex.charAt((c >> 8) & 15))
                .append(hex.charAt((c >> 4) & 15)).append(hex.charAt(c & 15));
    }

    /** The kind of a JSON value for messages: "null", "a string", "a number", "a boolean", "an array", "an object". */
    public static String kindOf(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String) {
            return "a string";
        }
        if (v instanceof JsonNumber || v instanceof Number) {
            return "a number";
        }
        if (v instanceof Boolean) {
            return "a boolean";
        }
        if (v instanceof List) {
            return "an array";
        }
        return "an object";
    }

    /** A JSON string literal for {@code s}, non-ASCII kept literal. */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder();
        writeString(sb, s, false);
        return sb.toString();
    }
}
