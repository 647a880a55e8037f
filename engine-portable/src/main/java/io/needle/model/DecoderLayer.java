package io.needle.model;

/**
 * One decoder layer (docs/spec/MODEL.md section 2), one new position per sequence:
 * <pre>
 * x = x + σ(g_self)  · SelfAttention(N1(x))      (causal through the cache, RoPE)
 * x = x + σ(g_cross) · CrossAttention(N2(x), enc) (encoder padding masked, no RoPE)
 * x = x + σ(g_ffn)   · FFN(N_ffn(x))              (only with a feed-forward block)
 * </pre>
 * A single request's step is a batch of one: {@link #forward} runs {@code rows} sequences
 * together, each row at its own position with its own caches.
 */
public final class DecoderLayer {
    final ZcRmsNorm selfAttnNorm;
    final float selfAttnGate; // sigmoid(stored gate)
    final Attention selfAttn;
    final ZcRmsNorm crossAttnNorm;
    final float crossAttnGate;
    final Attention crossAttn;
    final ZcRmsNorm ffnNorm; // null without FFN
    final float ffnGate;
    final FeedForward ffn;

    public DecoderLayer(ZcRmsNorm selfAttnNorm, float selfAttnGate, Attention selfAttn,
            ZcRmsNorm crossAttnNorm, float crossAttnGate, Attention crossAttn,
            ZcRmsNorm ffnNorm, float ffnGate, FeedForward ffn) {
        this.selfAttnNorm = selfAttnNorm;
        this.selfAttnGate = selfAttnGate;
        this.selfAttn = selfAttn;
        this.crossAttnNorm = crossAttnNorm;
        this.crossAttnGate = crossAttnGate;
        this.crossAttn = crossAttn;
        this.ffnNorm = ffnNorm;
        this.ffnGate = ffnGate;
        this.ffn = ffn;
    }

    /** Where each row of a decoder step belongs: its position, its caches of this layer, its encoder output. */
    static final class Rows {
        int[] positions = new int[0];
        Attention.KeyValues[] self = new Attention.KeyValues[0];
        Attention.KeyValues[] cross = new Attention.KeyValues[0];
        int[] encoderLengths = new int[0];
        boolean[][] encoderValid = new boolean[0][];

        void ensure(int rows) {
            if (positions.length < rows) {
                positions = new int[rows];
                self = new Attention.KeyValues[rows];
                cross = new Attention.KeyValues[rows];
                encoderLengths = new int[rows];
                encoderValid = new boolean[rows][];
            }
        }
    }

    /** Applies the layer to x [rows, d] in place, row k being position r.positions[k] of its sequence. */
    void forward(float[] x, int rows, Rows r, Rope rope, Scratch scratch) {
        int n = rows * selfAttnNorm.size();
        float[] xn = scratch.floats(Scratch.XN, n);
        float[] branch = scratch.floats(Scratch.BRANCH, n);
        selfAttnNorm.apply(x, xn, rows);
        selfAttn.selfStep(xn, rows, rope, r.positions, r.self, branch, scratch);
        EncoderLayer.addScaled(x, branch, n, selfAttnGate);
        crossAttnNorm.apply(x, xn, rows);
        crossAttn.crossStep(xn, rows, r.cross, r.encoderLengths, r.encoderValid, branch, scratch);
        EncoderLayer.addScaled(x, branch, n, crossAttnGate);
        if (ffn != null) {
            ffnNorm.apply(x, xn, rows);
            ffn.forward(xn, rows, branch, scratch);
            EncoderLayer.addScaled(x, branch, n, ffnGate);
        }
    }
}
