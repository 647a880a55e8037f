package io.needle.synthetic;

/**
 * String literals as Python's {@code json.dumps} writes them with its default
 * {@code ensure_ascii=True}: printable ASCII as is; {@code "} {@code \} and the control characters
 * {@code \b \f \n \r \t} with a backslash; every other character (other control characters, DEL,
 * anything past ASCII) as {@code \}{@code uXXXX}, lower-case hex, one per UTF-16 unit (so a
 * character past U+FFFF is its surrogate pair, as Python writes it). The header of a written file
 * is built from these literals, integers, {@code ,} and {@code :} ({@code separators=(",", ":")}).
 */
final class PythonJson {
    /** Characters escaped with a backslash and a letter, and their letters, position by position. */
    private static final String SHORT_ESCAPED = "\"\\\b\f\n\r\t";
    private static final String SHORT_LETTERS = "\"\\bfnrt";

    private PythonJson() {
    }

    /** Appends {@code s} as a JSON string literal, as {@code json.dumps(s)}. */
    static StringBuilder appendString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int shortEscape = SHORT_ESCAPED.indexOf(c);
            if (shortEscape >= 0) {
                sb.append('\\').append(SHORT_LETTERS.charAt(shortEscape));
            } else if (c >= ' ' && c <= '~') {
                sb.append(c);
            } else {
                String hex = Integer.toHexString(c);
                sb.append("\\u").append("0000", hex.length(), 4).append(hex);
            }
        }
        return sb.append('"');
    }

    /** {@code json.dumps(s)}. */
    static String string(String s) {
        return appendString(new StringBuilder(), s).toString();
    }
}
