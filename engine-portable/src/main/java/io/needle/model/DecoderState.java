package io.needle.model;

/**
 * One request's decoder: cross-attention K/V per layer computed once from the encoder output,
 * and a self-attention KV cache for up to {@code maxSteps} positions. {@link #step} feeds one
 * token (a {@link DecoderBatch} of one) and returns the logits of its position. The cache starts
 * at {@link #INITIAL_CACHE} positions and doubles when a step needs more (up to maxSteps; the
 * same values, copied): most requests decode a few dozen tokens of a 511-token budget, and a cache
 * for all of it would be 8 MB of the full-size model's per request. Other buffers are allocated up
 * front or on the first step.
 */
public final class DecoderState {
    final NeedleModel model;
    final int encoderLength; // the encoder output's positions
    final boolean[] encoderValid; // which of them are not padding
    final Attention.KeyValues[] cross;
    final Attention.KeyValues[] self; // grown by checkStep
    private final int capacity;
    /** Positions the self-attention cache holds at first (a multiple of 16: whole key vectors). */
    static final int INITIAL_CACHE = 32;
    final float[] xn; // the final normed state of the last step
    final float[] logits;
    int position; // advanced by DecoderBatch
    private boolean released; // release() gave the key/value stores back
    private final DecoderBatch single;
    private final DecoderState[] one = {this};
    private final int[] token = new int[1];
    private final int[][] ids = new int[1][];
    private final int[] counts = new int[1];

    /** A decoder over an encoder output of {@code encoderLength} positions whose cross-attention K/V are in {@code cross}. */
    DecoderState(NeedleModel model, int encoderLength, boolean[] encoderValid, int maxSteps, Attention.KeyValues[] cross) {
        this.model = model;
        this.encoderLength = encoderLength;
        this.encoderValid = encoderValid;
        this.capacity = Math.max(1, maxSteps);
        this.cross = cross;
        self = model.selfStores();
        xn = new float[model.config.dModel];
        logits = new float[model.config.vocabSize];
        single = new DecoderBatch(model);
    }

    /**
     * Ends this request's decoding: its key/value stores go back to the model for the next request
     * (fewer arrays made per request), so the state must not step any more. Optional: a
     * state never released is simply collected.
     */
    public void release() {
        if (!released) {
            released = true;
            model.giveBack(cross, self);
        }
    }

    /** Positions fed so far. */
    public int position() {
        return position;
    }

    /**
     * Feeds {@code token} at the next position and returns the vocab-sized logits there. The
     * returned array is this state's own buffer: it is overwritten by the next step.
     */
    public float[] step(int token) {
        this.token[0] = token;
        ids[0] = null;
        single.step(one, this.token, ids, counts, 1);
        return logits;
    }

    /**
     * Like {@link #step(int)}, but computes only the logits of {@code ids[0..count)} (the tokens a
     * constraint allows; the same values step(int) gives them) and sets every other entry to
     * negative infinity: the output projection is the largest single cost of a step, and under
     * constrained decoding most tokens are forbidden anyway.
     */
    public float[] step(int token, int[] ids, int count) {
        this.token[0] = token;
        this.ids[0] = ids;
        counts[0] = count;
        single.step(one, this.token, this.ids, counts, 1);
        return logits;
    }

    /** The full logits of the final normed state xn, into this state's buffer. */
    float[] logits() {
        model.embedding.logits(xn, logits);
        return logits;
    }

    /** The logits of ids[0..count) only (others negative infinity), into this state's buffer. */
    float[] logitsAt(int[] ids, int count) {
        for (int v = 0; v < logits.length; v++) {
            logits[v] = Float.NEGATIVE_INFINITY;
        }
        model.embedding.logitsAt(xn, logits, ids, count);
        return logits;
    }

    /**
     * Checks that one more position fits and that token is a valid id (before a step); grows the
     * self-attention cache when the next position is past it.
     */
    void checkStep(int token) {
        if (released) {
            throw new IllegalStateException("this decoder state was released");
        }
        if (position >= capacity) {
            throw new IllegalStateException("decoder capacity " + capacity + " exhausted");
        }
        model.checkId(token);
        if (self.length > 0 && position >= self[0].capacity) {
            int grown = Math.min(capacity, 2 * self[0].capacity);
            for (int l = 0; l < self.length; l++) {
                self[l] = grow(model.decoderLayers[l].selfAttn, self[l], grown);
            }
        }
    }

    /** A store for {@code positions} holding the first {@link #position} keys and values of {@code kv}. */
    private Attention.KeyValues grow(Attention attention, Attention.KeyValues kv, int positions) {
        Attention.KeyValues g = attention.newKeyValues(positions);
        int keyRows = attention.kvDim();
        for (int r = 0; r < keyRows; r++) {
            System.arraycopy(kv.keysT, r * kv.stride, g.keysT, r * g.stride, position);
        }
        System.arraycopy(kv.values, 0, g.values, 0, position * attention.kvDim());
        return g;
    }
}
