package io.needle.tokenizer;

/**
 * UTF-8 the way SentencePiece does it (package-private helper).
 *
 * <p>Encoding: Java strings are UTF-16; a lone surrogate has no UTF-8 form and is written as
 * U+FFFD (EF BF BD), which is also what SentencePiece's normalizer substitutes for a malformed
 * input byte.
 *
 * <p>Decoding follows SentencePiece's {@code DecodeUTF8}/{@code IsValidDecodeUTF8}: a character
 * is valid when its lead byte announces n bytes, all n-1 following bytes are continuation bytes,
 * the value is not overlong, not a surrogate and at most U+10FFFF. Otherwise exactly ONE byte is
 * consumed and becomes U+FFFD, and decoding resumes at the next byte.
 */
final class Utf8 {
    /** The replacement character SentencePiece emits for a malformed byte. */
    static final char REPLACEMENT = '\uFFFD';

    private Utf8() {
    }

    /** UTF-8 bytes of {@code s}; a lone surrogate becomes the bytes of U+FFFD. */
    static byte[] encode(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = codePointAt(s, i);
            i += Character.charCount(cp);
            n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = codePointAt(s, i);
            i += Character.charCount(cp);
            if (cp < 0x80) {
                out[o++] = (byte) cp;
            } else if (cp < 0x800) {
                out[o++] = (byte) (0xC0 | (cp >> 6));
                out[o++] = (byte) (0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out[o++] = (byte) (0xE0 | (cp >> 12));
                out[o++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                out[o++] = (byte) (0xF0 | (cp >> 18));
                out[o++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                out[o++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (byte) (0x80 | (cp & 0x3F));
            }
        }
        return out;
    }

    /**
     * The code point at {@code i}: a valid surrogate pair gives its supplementary code point, a
     * lone surrogate gives U+FFFD (and counts as one char).
     */
    static int codePointAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < s.length()
                && Character.isLowSurrogate(s.charAt(i + 1))) {
            return Character.toCodePoint(c, s.charAt(i + 1));
        }
        if (Character.isSurrogate(c)) {
            return REPLACEMENT;
        }
        return c;
    }

    /**
     * Decodes one character from {@code b[off..end)} and appends it (or U+FFFD) to {@code out}.
     *
     * @param runEnded true when no more bytes can follow {@code end} (the byte run is over);
     *                 then an incomplete sequence is malformed
     * @return the number of bytes consumed (1..4), or 0 when {@code runEnded} is false and the
     *         outcome depends on bytes that have not arrived yet
     */
    static int decodeOne(byte[] b, int off, int end, boolean runEnded, StringBuilder out) {
        int b0 = b[off] & 0xFF;
        if (b0 < 0x80) {
            out.append((char) b0);
            return 1;
        }
        int n;
        if ((b0 & 0xE0) == 0xC0) {
            n = 2;
        } else if ((b0 & 0xF0) == 0xE0) {
            n = 3;
        } else if ((b0 & 0xF8) == 0xF0) {
            n = 4;
        } else {
            out.append(REPLACEMENT);
            return 1;
        }
        int avail = end - off;
        if (avail < n) {
            if (!runEnded && !surelyInvalid(b, off, avail)) {
                return 0;
            }
            out.append(REPLACEMENT);
            return 1;
        }
        for (int k = 1; k < n; k++) {
            if (!isTrail(b[off + k])) {
                out.append(REPLACEMENT);
                return 1;
            }
        }
        int cp;
        int min;
        if (n == 2) {
            cp = ((b0 & 0x1F) << 6) | (b[off + 1] & 0x3F);
            min = 0x80;
        } else if (n == 3) {
            cp = ((b0 & 0x0F) << 12) | ((b[off + 1] & 0x3F) << 6) | (b[off + 2] & 0x3F);
            min = 0x800;
        } else {
            cp = ((b0 & 0x07) << 18) | ((b[off + 1] & 0x3F) << 12)
                    | ((b[off + 2] & 0x3F) << 6) | (b[off + 3] & 0x3F);
            min = 0x10000;
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) {
            out.append(REPLACEMENT);
            return 1;
        }
        out.appendCodePoint(cp);
        return n;
    }

    /**
     * True when the incomplete multi-byte sequence {@code b[off..off+avail)} is malformed whatever
     * bytes follow: a following byte that is not a continuation byte, or a lead/second byte that
     * can only give an overlong form, a surrogate or a value above U+10FFFF.
     */
    private static boolean surelyInvalid(byte[] b, int off, int avail) {
        for (int k = 1; k < avail; k++) {
            if (!isTrail(b[off + k])) {
                return true;
            }
        }
        int b0 = b[off] & 0xFF;
        if (b0 == 0xC0 || b0 == 0xC1 || b0 >= 0xF5) {
            return true;
        }
        if (avail >= 2) {
            int b1 = b[off + 1] & 0xFF;
            return (b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 >= 0xA0)
                    || (b0 == 0xF0 && b1 < 0x90) || (b0 == 0xF4 && b1 >= 0x90);
        }
        return false;
    }

    private static boolean isTrail(byte x) {
        return (x & 0xC0) == 0x80;
    }
}
