package io.needle.tools;

import io.needle.base.NeedleException;
import io.needle.json.Json;
import java.util.Map;

/**
 * Restores original tool names in model output as it streams (docs/spec/MODEL.md section 3 step 6): in the
 * output array, each call object's {@code "name"} string whose value is the snake_case name of a
 * renamed tool is replaced by the original name (as a compact JSON string, non-ASCII literal).
 * Everything else passes through exactly as the model wrote it, so the concatenation of the
 * streamed pieces is the final text, and for a valid output the result is the same JSON value as
 * re-serializing it with the names restored.
 *
 * <p>Only the text of a name value is held back (until its closing quote); a scan of the JSON
 * structure (depth, strings, escapes) decides where call names are.
 */
public final class NameRestorer {
    private final Map<String, String> originals; // snake name -> original (only renamed ones)
    private final StringBuilder out = new StringBuilder();
    private int depth; // container nesting
    private boolean rootIsArray;
    private boolean level2IsObject;
    private boolean inString;
    private boolean escape;
    private boolean stringIsKey;
    private boolean expectKey; // in a depth-2 object, the next string is a key
    private final StringBuilder key = new StringBuilder();
    private boolean nameValueNext; // after "name": in a call object
    private boolean capturing;
    private final StringBuilder captured = new StringBuilder();

    /** @param originals snake name → original name of every renamed tool (may be empty) */
    public NameRestorer(Map<String, String> originals) {
        this.originals = originals;
    }

    /** Feeds output text; returns the text that can be shown now. */
    public String push(String piece) {
        if (originals.isEmpty()) {
            return piece;
        }
        out.setLength(0);
        for (int i = 0; i < piece.length(); i++) {
            scan(piece.charAt(i));
        }
        return out.toString();
    }

    /** The text still held back at the end of the output (an unfinished name). */
    public String finish() {
        if (capturing) {
            capturing = false;
            return "\"" + captured;
        }
        return "";
    }

    /** Restores names in a complete text. */
    public static String restore(String text, Map<String, String> originals) {
        NameRestorer r = new NameRestorer(originals);
        return r.push(text) + r.finish();
    }

    private void scan(char c) {
        if (capturing) {
            if (escape) {
                escape = false;
                captured.append(c);
            } else if (c == '\\') {
                escape = true;
                captured.append(c);
            } else if (c == '"') {
                capturing = false;
                out.append(replacement(captured.toString()));
                nameValueNext = false;
            } else {
                captured.append(c);
            }
            return;
        }
        if (inString) {
            out.append(c);
            if (escape) {
                escape = false;
                if (stringIsKey) {
                    key.append('\\').append(c);
                }
            } else if (c == '\\') {
                escape = true;
            } else if (c == '"') {
                inString = false;
            } else if (stringIsKey) {
                key.append(c);
            }
            return;
        }
        if (c == '"' && nameValueNext) {
            capturing = true;
            captured.setLength(0);
            return;
        }
        out.append(c);
        switch (c) {
            case '[':
            case '{':
                depth++;
                if (depth == 1) {
                    rootIsArray = c == '[';
                } else if (depth == 2) {
                    level2IsObject = c == '{';
                    expectKey = level2IsObject;
                }
                nameValueNext = false;
                break;
            case ']':
            case '}':
                depth--;
                nameValueNext = false;
                break;
            case ',':
                if (inCallObject()) {
                    expectKey = true;
                }
                nameValueNext = false;
                break;
            case ':':
                if (inCallObject() && !expectKey) {
                    nameValueNext = key.toString().equals("name");
                }
                break;
            case '"':
                inString = true;
                stringIsKey = inCallObject() && expectKey;
                if (stringIsKey) {
                    key.setLength(0);
                    expectKey = false;
                }
                nameValueNext = false;
                break;
            case ' ':
            case '\t':
            case '\n':
            case '\r':
                break;
            default:
                nameValueNext = false;
        }
    }

    private boolean inCallObject() {
        return depth == 2 && rootIsArray && level2IsObject;
    }

    private String replacement(String raw) {
        String value;
        try {
            Object v = Json.parse("\"" + raw + "\"");
            value = v instanceof String ? (String) v : null;
        } catch (NeedleException e) {
            value = null;
        }
        String original = value == null ? null : originals.get(value);
        return original == null ? "\"" + raw + "\"" : Json.quote(original);
    }
}
