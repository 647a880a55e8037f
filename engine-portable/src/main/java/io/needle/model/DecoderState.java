package io.needle.model;

/**
 * One request's decoder: cross-attention K/V per layer computed once from the encoder output,
 * and a self-attention KV cache for up to {@code maxSteps} positions. {@link #step} feeds one
 * token and returns the logits of its position. Every buffer is allocated here, up front: a
 * step allocates nothing.
 */
public final class DecoderState {
    final NeedleModel model;
    final NeedleModel.EncoderOutput enc;
    final Attention.KeyValues[] cross;
    final Attention.KeyValues[] self;
    private final int capacity;
    private final Scratch scratch = new Scratch();
    private final float[] x;
    final float[] xn;
    private final float[] branch;
    final float[] logits;
    int position; // advanced by step and by DecoderBatch

    DecoderState(NeedleModel model, NeedleModel.EncoderOutput enc, int maxSteps) {
        this.model = model;
        this.enc = enc;
        int layers = model.decoderLayers.length;
        this.capacity = Math.max(1, maxSteps);
        cross = new Attention.KeyValues[layers];
        self = new Attention.KeyValues[layers];
        for (int l = 0; l < layers; l++) {
            Attention ca = model.decoderLayers[l].crossAttn;
            cross[l] = ca.newKeyValues(enc.length);
            ca.keysValues(enc.enc, enc.length, null, 0, cross[l], scratch);
            self[l] = model.decoderLayers[l].selfAttn.newKeyValues(capacity);
        }
        int d = model.config.dModel;
        x = new float[d];
        xn = new float[d];
        branch = new float[d];
        logits = new float[model.config.vocabSize];
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
        hidden(token);
        return logits();
    }

    /**
     * Like {@link #step(int)}, but computes only the logits of {@code ids[0..count)} (the tokens a
     * constraint allows; the same values step(int) gives them) and sets every other entry to
     * negative infinity: the output projection is the largest single cost of a step, and under
     * constrained decoding most tokens are forbidden anyway.
     */
    public float[] step(int token, int[] ids, int count) {
        hidden(token);
        return logitsAt(ids, count);
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

    /** Checks that one more position fits and that token is a valid id (before a step). */
    void checkStep(int token) {
        if (position >= capacity) {
            throw new IllegalStateException("decoder capacity " + capacity + " exhausted");
        }
        model.checkId(token);
    }

    /** Runs the decoder layers for {@code token} at the next position; leaves the final normed state in xn. */
    private void hidden(int token) {
        checkStep(token);
        int d = model.config.dModel;
        int p = position;
        model.embedding.lookup(token, model.embedScale, x, 0);
        for (int l = 0; l < model.decoderLayers.length; l++) {
            DecoderLayer layer = model.decoderLayers[l];
            layer.selfAttnNorm.apply(x, xn, 1);
            Attention sa = layer.selfAttn;
            sa.keysValues(xn, 1, model.rope, p, self[l], scratch);
            float[] q = scratch.floats(Scratch.QUERIES, sa.qDim());
            sa.queries(xn, 1, model.rope, p, q, scratch);
            sa.attend(q, 1, p, self[l], p + 1, null, false, branch, scratch);
            NeedleModel.addScaled(x, branch, d, layer.selfAttnGate);

            layer.crossAttnNorm.apply(x, xn, 1);
            Attention ca = layer.crossAttn;
            float[] cq = scratch.floats(Scratch.QUERIES, ca.qDim());
            ca.queries(xn, 1, null, 0, cq, scratch);
            ca.attend(cq, 1, 0, cross[l], enc.length, enc.valid, false, branch, scratch);
            NeedleModel.addScaled(x, branch, d, layer.crossAttnGate);
            if (layer.ffn != null) {
                layer.ffnNorm.apply(x, xn, 1);
                layer.ffn.forward(xn, 1, branch, scratch);
                NeedleModel.addScaled(x, branch, d, layer.ffnGate);
            }
        }
        model.decoderFinalNorm.apply(x, xn, 1);
        position++;
    }
}
