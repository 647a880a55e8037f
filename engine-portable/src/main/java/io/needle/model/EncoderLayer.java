package io.needle.model;

/**
 * One encoder layer (docs/spec/MODEL.md section 2): pre-norm, gated residual, bidirectional:
 * <pre>
 * x = x + σ(g_attn) · SelfAttention(N(x))      (padding masked as keys, RoPE)
 * x = x + σ(g_ffn)  · FFN(N_ffn(x))            (only with a feed-forward block)
 * </pre>
 */
public final class EncoderLayer {
    final ZcRmsNorm attnNorm;
    final float attnGate; // sigmoid(stored gate)
    final Attention selfAttn;
    final ZcRmsNorm ffnNorm; // null without FFN
    final float ffnGate;
    final FeedForward ffn; // null without FFN

    public EncoderLayer(ZcRmsNorm attnNorm, float attnGate, Attention selfAttn, ZcRmsNorm ffnNorm,
            float ffnGate, FeedForward ffn) {
        this.attnNorm = attnNorm;
        this.attnGate = attnGate;
        this.selfAttn = selfAttn;
        this.ffnNorm = ffnNorm;
        this.ffnGate = ffnGate;
        this.ffn = ffn;
    }

    /**
     * The layer's first half for a share of one sequence, rows [pos0, pos0 + rows) in x [rows, d]
     * ({@code NeedleModel.encode}; a whole sequence is one share):
     * {@code N(x)} into scratch (kept for {@link #attendAndFeedForward}) and the rows' keys and
     * values into kv at their positions. Shares of one sequence may run at the same time.
     */
    void keysValues(float[] x, int rows, int pos0, Rope rope, Attention.KeyValues kv, Scratch scratch) {
        float[] xn = scratch.floats(Scratch.XN, rows * attnNorm.size());
        attnNorm.apply(x, xn, rows);
        selfAttn.keysValues(xn, rows, rope, pos0, kv, scratch);
    }

    /**
     * The rest of the layer for the same share, once kv holds the keys and values of all
     * {@code keyCount} positions of the sequence: the share's rows attend to every valid position,
     * then the gated residuals and the FFN, in place in x.
     */
    void attendAndFeedForward(float[] x, int rows, int pos0, int keyCount, boolean[] valid, Rope rope,
            Attention.KeyValues kv, Scratch scratch) {
        int n = rows * attnNorm.size();
        float[] xn = scratch.floats(Scratch.XN, n);
        float[] branch = scratch.floats(Scratch.BRANCH, n);
        float[] qs = scratch.floats(Scratch.QUERIES, rows * selfAttn.qDim());
        selfAttn.queries(xn, rows, rope, pos0, qs, scratch);
        selfAttn.attend(qs, rows, pos0, kv, keyCount, valid, false, branch, scratch);
        addScaled(x, branch, n, attnGate);
        if (ffn != null) {
            ffnNorm.apply(x, xn, rows);
            ffn.forward(xn, rows, branch, scratch);
            addScaled(x, branch, n, ffnGate);
        }
    }

    /** x[i] += gate · branch[i] for i in [0, n): a gated residual. */
    static void addScaled(float[] x, float[] branch, int n, float gate) {
        for (int i = 0; i < n; i++) {
            x[i] += gate * branch[i];
        }
    }
}
