package io.needle.json;

/**
 * A JSON number kept as the exact text it had in the input, so that re-serialization writes it
 * back unchanged (docs/spec/MODEL.md section 3: numbers are written as they appeared).
 */
public final class JsonNumber {
    private final String text;

    public JsonNumber(String text) {
        this.text = text;
    }

    /** The number's text as it appeared in the input. */
    public String text() {
        return text;
    }

    /** True when the text has no fraction and no exponent. */
    public boolean isInteger() {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '.' || c == 'e' || c == 'E') {
                return false;
            }
        }
        return true;
    }

    public double doubleValue() {
        return Double.parseDouble(text);
    }

    /** The value as a long; throws NumberFormatException when it is not an integer in range. */
    public long longValue() {
        return Long.parseLong(text);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JsonNumber && ((JsonNumber) o).text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
