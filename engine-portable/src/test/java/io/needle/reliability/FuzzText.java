package io.needle.reliability;

/**
 * Turns fuzzer bytes into a Java string that can hold anything a String can, lone surrogates
 * included, while corpus files stay readable text: the bytes are read as UTF-8 (each malformed
 * byte gives U+FFFD), except that a byte 0xFF, which UTF-8 never uses, followed by two bytes gives
 * the UTF-16 unit they spell (big-endian), e.g. {@code FF D8 00} → an unpaired U+D800.
 */
final class FuzzText {
    private FuzzText() {
    }

    static String decode(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length);
        int i = 0;
        while (i < b.length) {
            int c = b[i] & 0xff;
            if (c == 0xff) {
                if (i + 2 < b.length) {
                    sb.append((char) (((b[i + 1] & 0xff) << 8) | (b[i + 2] & 0xff)));
                    i += 3;
                } else {
                    sb.append('\ufffd');
                    i = b.length;
                }
                continue;
            }
            i += utf8(b, i, sb);
        }
        return sb.toString();
    }

    /** Decodes one UTF-8 sequence at i (strict; U+FFFD and 1 byte when malformed); returns bytes used. */
    private static int utf8(byte[] b, int i, StringBuilder sb) {
        int c = b[i] & 0xff;
        if (c < 0x80) {
            sb.append((char) c);
            return 1;
        }
        int need;
        int cp;
        int min;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            sb.append('\ufffd');
            return 1;
        }
        if (i + need >= b.length) { // truncated sequence
            sb.append('\ufffd');
            return 1;
        }
        for (int k = 1; k <= need; k++) {
            int cc = b[i + k] & 0xff;
            if ((cc & 0xc0) != 0x80) {
                sb.append('\ufffd');
                return 1;
            }
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            sb.append('\ufffd');
            return 1;
        }
        sb.appendCodePoint(cp);
        return need + 1;
    }
}
