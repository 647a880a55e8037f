package io.needle.tokenizer;

/**
 * The vocabulary's pieces → their ids, in two flat arrays (open addressing, linear probing)
 * instead of a {@code HashMap<String, Integer>}: no entry object and no boxed id per piece (in
 * the Wasm build each of those would be an object V8's young generation copies when it survives
 * the load), and a piece can be looked up as a range of a longer text without cutting it out
 * (the BPE loop asks for every adjacent pair).
 */
final class PieceIndex {
    private String[] keys; // the pieces, null = empty slot
    private int[] ids;
    private int size;

    PieceIndex(int expected) {
        int capacity = 16;
        while (capacity < 2 * expected) {
            capacity *= 2;
        }
        keys = new String[capacity];
        ids = new int[capacity];
    }

    /** Adds piece → id unless the piece is there already; returns its earlier id, or -1 when added. */
    int putIfAbsent(String piece, int id) {
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        int mask = keys.length - 1;
        for (int slot = spread(piece.hashCode()) & mask;; slot = (slot + 1) & mask) {
            String k = keys[slot];
            if (k == null) {
                keys[slot] = piece;
                ids[slot] = id;
                size++;
                return -1;
            }
            if (k.equals(piece)) {
                return ids[slot];
            }
        }
    }

    /** The id of {@code piece}, or -1. */
    int get(String piece) {
        return get(piece, 0, piece.length());
    }

    /** The id of the piece {@code text[from, to)}, or -1 (the same as {@code get(text.substring(from, to))}). */
    int get(String text, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + text.charAt(i); // String.hashCode's
        }
        int n = to - from;
        int mask = keys.length - 1;
        for (int slot = spread(h) & mask;; slot = (slot + 1) & mask) {
            String k = keys[slot];
            if (k == null) {
                return -1;
            }
            if (k.length() == n && k.regionMatches(0, text, from, n)) {
                return ids[slot];
            }
        }
    }

    private static int spread(int h) {
        return h ^ (h >>> 16);
    }

    private void grow() {
        String[] oldKeys = keys;
        int[] oldIds = ids;
        keys = new String[2 * oldKeys.length];
        ids = new int[keys.length];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != null) {
                putIfAbsent(oldKeys[i], oldIds[i]);
            }
        }
    }
}
