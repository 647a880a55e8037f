package io.needle.json;

/**
 * The position in a JSON parser message: {@link io.needle.json.Json} ends every syntax error with
 * {@code " at line L column C"} (1-based, columns in UTF-16 units). Hosts get it as fields
 * ({@code line}, {@code column}) beside the message.
 */
public final class JsonPosition {
    private static final String AT_LINE = " at line ";
    private static final String COLUMN = " column ";

    private JsonPosition() {
    }

    /** {line, column} from a message ending with " at line L column C", else null. */
    public static int[] of(String message) {
        if (message == null) {
            return null;
        }
        int at = message.lastIndexOf(AT_LINE);
        if (at < 0) {
            return null;
        }
        int col = message.indexOf(COLUMN, at + AT_LINE.length());
        if (col < 0) {
            return null;
        }
        int line = digits(message, at + AT_LINE.length(), col);
        int column = digits(message, col + COLUMN.length(), message.length());
        return line > 0 && column > 0 ? new int[] {line, column} : null;
    }

    /** The positive number written as the digits in [from, to), or -1. */
    private static int digits(String s, int from, int to) {
        if (from >= to || to - from > 9) {
            return -1;
        }
        int n = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }
}
