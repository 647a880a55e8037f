package io.needle.tokenizer;

/**
 * Decodes token ids one at a time, for streaming output.
 *
 * <p>The concatenation of every {@link #push} result followed by {@link #finish()} equals
 * {@link Tokenizer#decode} of all the pushed ids, exactly: the leading {@code ▁} of pieces is
 * dropped while nothing has been produced yet, and byte pieces are held back while they form an
 * incomplete UTF-8 character (at most 3 bytes), until the character completes, is proven
 * malformed, or a non-byte piece or {@code finish()} ends the byte run (then each held byte that
 * cannot start a character gives U+FFFD, as in {@code decode}).
 *
 * <p>One instance decodes one sequence; use a new instance for the next one.
 */
public final class StreamDecoder {
    private final Tokenizer tokenizer;
    private final byte[] pending = new byte[4];
    private int pendingLength;
    /** Whether any text has been produced so far (decides the leading-space rule). */
    private boolean produced;

    public StreamDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Adds one token and returns the text it completes (possibly empty).
     *
     * @throws io.needle.base.NeedleException kind INPUT when {@code id} is out of range
     */
    public String push(int id) {
        tokenizer.checkId(id);
        StringBuilder out = new StringBuilder();
        int b = tokenizer.byteValue(id);
        if (b >= 0) {
            pending[pendingLength++] = (byte) b;
            drain(false, out);
        } else {
            drain(true, out);
            out.append(tokenizer.surface(id, !produced && out.length() == 0));
        }
        if (out.length() > 0) {
            produced = true;
        }
        return out.toString();
    }

    /** Ends the sequence: returns the text of any held-back bytes (U+FFFD for each malformed one). */
    public String finish() {
        StringBuilder out = new StringBuilder();
        drain(true, out);
        if (out.length() > 0) {
            produced = true;
        }
        return out.toString();
    }

    /** Decodes held bytes; with {@code runEnded} false, stops at an incomplete character. */
    private void drain(boolean runEnded, StringBuilder out) {
        int off = 0;
        while (off < pendingLength) {
            int used = Utf8.decodeOne(pending, off, pendingLength, runEnded, out);
            if (used == 0) {
                break;
            }
            off += used;
        }
        System.arraycopy(pending, off, pending, 0, pendingLength - off);
        pendingLength -= off;
    }
}
