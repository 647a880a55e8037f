package io.needle.cli;

import io.needle.base.NeedleException;
import io.needle.json.Json;
import io.needle.json.JsonNumber;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * The "many inputs in one process" loop: read standard input line by line (UTF-8, {@code \n} or
 * {@code \r\n}), turn each line into exactly one output line, print it and flush at once. A line
 * that fails (bad JSON, bad UTF-8, an engine error) gives {@code error: MESSAGE} in its place and
 * the loop goes on. An empty line is an input line too (and an error), so output line i always
 * answers input line i.
 */
final class Jsonl {
    /** Longest input line accepted; a longer one gives an error line and is skipped. */
    static final int MAX_LINE_BYTES = 256 << 20;

    /** Turns one input line (already decoded, without its line ending) into one output line. */
    interface LineHandler {
        String handle(String line);
    }

    private Jsonl() {
    }

    /** Runs the loop; returns the number of lines that gave an error. */
    static int run(InputStream in, PrintStream out, LineHandler handler) {
        int errors = 0;
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        boolean tooLong = false;
        boolean pending = false;
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] != '\n') {
                        continue;
                    }
                    tooLong |= !append(line, buf, start, i - start);
                    errors += emit(line, tooLong, out, handler);
                    line.reset();
                    tooLong = false;
                    pending = false;
                    start = i + 1;
                }
                if (start < n) {
                    tooLong |= !append(line, buf, start, n - start);
                    pending = true;
                }
            }
        } catch (IOException e) {
            throw CliException.error("cannot read standard input: " + e.getMessage());
        }
        if (pending) {
            errors += emit(line, tooLong, out, handler);
        }
        return errors;
    }

    /** Appends unless the line would grow past the limit; returns false when bytes were dropped. */
    private static boolean append(ByteArrayOutputStream line, byte[] buf, int off, int len) {
        if (line.size() + (long) len > MAX_LINE_BYTES) {
            return false;
        }
        line.write(buf, off, len);
        return true;
    }

    private static int emit(ByteArrayOutputStream lineBytes, boolean tooLong, PrintStream out, LineHandler handler) {
        String result;
        boolean failed = false;
        try {
            if (tooLong) {
                throw CliException.error("input line longer than " + MAX_LINE_BYTES + " bytes");
            }
            String line = Inputs.decodeUtf8(lineBytes.toByteArray(), "input line");
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            if (line.trim().isEmpty()) {
                throw CliException.error("empty input line");
            }
            result = handler.handle(line);
        } catch (CliException | NeedleException e) {
            result = "error: " + Main.oneLine(e.getMessage());
            failed = true;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            result = "error: " + Main.describeUnexpected(e);
            failed = true;
        }
        out.print(result);
        out.print('\n');
        out.flush();
        return failed ? 1 : 0;
    }

    // ------------------------------------------------------------------ JSON field helpers

    /** Parses a line that must hold one JSON object. */
    static Map<?, ?> object(String line) {
        Object v = Json.parse(line);
        if (!(v instanceof Map)) {
            throw CliException.error("expected a JSON object, got " + Json.kindOf(v));
        }
        return (Map<?, ?>) v;
    }

    /** A JSON array of token ids as an int[]. */
    static int[] ids(Object v, String what) {
        if (!(v instanceof List)) {
            throw CliException.error(what + " must be a JSON array of token ids, got " + Json.kindOf(v));
        }
        List<?> list = (List<?>) v;
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = intValue(list.get(i), what + "[" + i + "]");
        }
        return ids;
    }

    /** A JSON integer that fits an int. */
    static int intValue(Object v, String what) {
        if (v instanceof JsonNumber && ((JsonNumber) v).isInteger()) {
            try {
                return Math.toIntExact(((JsonNumber) v).longValue());
            } catch (ArithmeticException | NumberFormatException e) {
                throw CliException.error(what + " is out of range: " + v);
            }
        }
        throw CliException.error(what + " must be an integer, got " + (v instanceof JsonNumber ? v : Json.kindOf(v)));
    }

    /** A text field: a JSON string as is; any other JSON value (e.g. a tools array) re-serialized compactly. */
    static String text(Map<?, ?> obj, String key, boolean required) {
        if (!obj.containsKey(key)) {
            if (required) {
                throw CliException.error("missing field \"" + key + "\"");
            }
            return null;
        }
        Object v = obj.get(key);
        if (v instanceof String) {
            return (String) v;
        }
        if (v instanceof Map || v instanceof List) {
            return Json.write(v);
        }
        throw CliException.error("field \"" + key + "\" must be a string, got " + Json.kindOf(v));
    }
}
