package io.needle.model;

/**
 * The encoder's work buffers for one sequence: each share's hidden states and scratch, and the
 * keys and values of the layer being run. The model keeps one set between requests ({@link
 * NeedleModel#encode}) so that a request allocates little more than its results: in the Wasm
 * build every array made per request is young garbage for V8, and its young generation grows
 * to hold it (memory the Worker's process keeps). Sets that grew past {@link #KEEP_ROWS} rows
 * are dropped after use instead.
 */
final class EncoderWork {
    /** The longest sequence whose buffers are kept for the next request. */
    static final int KEEP_ROWS = 512;

    /** Rows [from, from + rows) of the sequence: their hidden states and work buffers. */
    static final class Share {
        int from;
        int rows;
        float[] x = new float[0];
        final Scratch scratch = new Scratch();
    }

    private Share[] shares = new Share[0];
    private Attention.KeyValues kv;
    private int largest; // the most rows these buffers were sized for

    /** Share p of {@code count} of a sequence of T rows of width d (x contents unspecified). */
    Share share(int p, int count, int T, int d) {
        Share s = share(p);
        s.from = (int) ((long) T * p / count);
        s.rows = (int) ((long) T * (p + 1) / count) - s.from;
        if (s.x.length < s.rows * d) {
            s.x = new float[s.rows * d];
        }
        largest = Math.max(largest, T);
        return s;
    }

    private Share share(int p) {
        if (shares.length <= p) {
            Share[] grown = new Share[p + 1];
            for (int i = 0; i <= p; i++) {
                grown[i] = i < shares.length ? shares[i] : new Share();
            }
            shares = grown;
        }
        return shares[p];
    }

    /** A key/value store of {@code attention}'s shape for at least T positions (contents unspecified). */
    Attention.KeyValues keyValues(Attention attention, int T) {
        if (kv == null || kv.capacity < T) {
            kv = attention.newKeyValues(T);
        }
        return kv;
    }

    /** Whether these buffers are small enough to keep for the next request. */
    boolean keep() {
        return largest <= KEEP_ROWS;
    }
}
