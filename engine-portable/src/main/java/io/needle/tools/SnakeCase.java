package io.needle.tools;

/**
 * Tool names as the model was trained to see them: snake_case (docs/spec/MODEL.md section 3).
 *
 * <p>The rule, applied in this order, each step to the result of the previous one:
 * <ol>
 *   <li>replace each run of characters other than {@code [A-Za-z0-9_]} by one {@code _}
 *       (non-ASCII letters are such "other characters");</li>
 *   <li>insert {@code _} between a lower-case letter or digit and a following upper-case letter;</li>
 *   <li>insert {@code _} between a run of upper-case letters and an upper-case letter followed by a
 *       lower-case one ({@code HTTPServer} → {@code HTTP_Server});</li>
 *   <li>collapse runs of {@code _}; lower-case; strip {@code _} at both ends.</li>
 * </ol>
 * Examples: {@code getWeather} → {@code get_weather}, {@code Book Flight} → {@code book_flight},
 * {@code HTTPServerStatus} → {@code http_server_status}, {@code user.get-profile} →
 * {@code user_get_profile}. A name with no ASCII letter or digit becomes the empty string.
 */
public final class SnakeCase {

    private SnakeCase() {
    }

    /** The snake_case form of {@code name}. */
    public static String of(String name) {
        // 1. runs of other characters -> one '_'
        StringBuilder a = new StringBuilder(name.length());
        boolean inRun = false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (isWord(c)) {
                a.append(c);
                inRun = false;
            } else if (!inRun) {
                a.append('_');
                inRun = true;
            }
        }

        // 2. lower-case letter or digit, then upper-case letter: insert '_'
        StringBuilder b = new StringBuilder(a.length() + 8);
        for (int i = 0; i < a.length(); i++) {
            char c = a.charAt(i);
            if (i > 0 && isUpper(c) && (isLower(a.charAt(i - 1)) || isDigit(a.charAt(i - 1)))) {
                b.append('_');
            }
            b.append(c);
        }

        // 3. upper-case run, then upper-case + lower-case: insert '_' before that upper-case letter
        StringBuilder c3 = new StringBuilder(b.length() + 8);
        for (int i = 0; i < b.length(); i++) {
            char c = b.charAt(i);
            if (i > 0 && i + 1 < b.length() && isUpper(b.charAt(i - 1)) && isUpper(c)
                    && isLower(b.charAt(i + 1))) {
                c3.append('_');
            }
            c3.append(c);
        }

        // 4. collapse '_' runs, lower-case, strip '_' at both ends
        StringBuilder out = new StringBuilder(c3.length());
        for (int i = 0; i < c3.length(); i++) {
            char c = c3.charAt(i);
            if (c == '_') {
                if (out.length() > 0 && out.charAt(out.length() - 1) != '_') {
                    out.append('_'); // a leading '_' is never appended: stripped
                }
            } else {
                out.append(isUpper(c) ? (char) (c + ('a' - 'A')) : c);
            }
        }
        if (out.length() > 0 && out.charAt(out.length() - 1) == '_') {
            out.setLength(out.length() - 1);
        }
        return out.toString();
    }

    private static boolean isWord(char c) {
        return isUpper(c) || isLower(c) || isDigit(c) || c == '_';
    }

    private static boolean isUpper(char c) {
        return c >= 'A' && c <= 'Z';
    }

    private static boolean isLower(char c) {
        return c >= 'a' && c <= 'z';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
