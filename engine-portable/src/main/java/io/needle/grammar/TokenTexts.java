package io.needle.grammar;

import io.needle.tokenizer.Tokenizer;

/**
 * Every token's text as the grammar sees it ({@link Tokenizer#tokenBytes}), all in one array:
 * token {@code id}'s bytes are {@code bytes[start[id] .. start[id + 1])}. One array rather than
 * one per token: in the Wasm build each of the vocabulary's ~8,000 small arrays would be an object
 * V8's young generation copies when it survives (and grows to hold).
 */
public final class TokenTexts {
    private final byte[] bytes;
    private final int[] start; // size() + 1 entries

    private TokenTexts(byte[] bytes, int[] start) {
        this.bytes = bytes;
        this.start = start;
    }

    /** The texts of every id of {@code tok}. */
    public static TokenTexts of(Tokenizer tok) {
        byte[][] texts = new byte[tok.size()][];
        for (int id = 0; id < texts.length; id++) {
            texts[id] = tok.tokenBytes(id);
        }
        return of(texts);
    }

    /** The texts {@code texts[id]} by id (copied). */
    public static TokenTexts of(byte[][] texts) {
        int[] start = new int[texts.length + 1];
        for (int id = 0; id < texts.length; id++) {
            start[id + 1] = start[id] + texts[id].length;
        }
        byte[] bytes = new byte[start[texts.length]];
        for (int id = 0; id < texts.length; id++) {
            System.arraycopy(texts[id], 0, bytes, start[id], texts[id].length);
        }
        return new TokenTexts(bytes, start);
    }

    /** The number of token ids. */
    public int size() {
        return start.length - 1;
    }

    /** The length of token {@code id}'s text in bytes (0: no text). */
    public int length(int id) {
        return start[id + 1] - start[id];
    }

    /** Byte {@code k} of token {@code id}'s text, as an unsigned value. */
    public int byteAt(int id, int k) {
        return bytes[start[id] + k] & 0xff;
    }
}
