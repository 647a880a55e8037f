package io.needle.model;

/**
 * The optional contrastive (retrieval) head: mean of the encoder output over non-pad positions,
 * {@code h = relu(pooled @ W_hidden + b_hidden)}, {@code p = h @ W_proj}, {@code p / sqrt(sum(p²) + 1e-12)}.
 */
public final class ContrastiveHead {
    final Linear hidden;
    final float[] hiddenBias;
    final Linear proj;

    public ContrastiveHead(Linear hidden, float[] hiddenBias, Linear proj) {
        this.hidden = hidden;
        this.hiddenBias = hiddenBias;
        this.proj = proj;
    }

    /** The L2-normalised embedding of an encoder output enc [rows, d] (valid[t] false = pad). */
    public float[] embed(float[] enc, int rows, boolean[] valid) {
        int d = hidden.in();
        float[] pooled = new float[d];
        int n = 0;
        double[] sum = new double[d];
        for (int t = 0; t < rows; t++) {
            if (valid != null && !valid[t]) {
                continue;
            }
            n++;
            for (int i = 0; i < d; i++) {
                sum[i] += enc[t * d + i];
            }
        }
        for (int i = 0; i < d; i++) {
            pooled[i] = n == 0 ? 0f : (float) (sum[i] / n);
        }
        float[] h = new float[hidden.out()];
        hidden.forward(pooled, h, 1);
        for (int i = 0; i < h.length; i++) {
            h[i] = Math.max(0f, h[i] + hiddenBias[i]);
        }
        float[] p = new float[proj.out()];
        proj.forward(h, p, 1);
        double ss = 0;
        for (float x : p) {
            ss += (double) x * x;
        }
        float inv = (float) (1.0 / Math.sqrt(ss + 1e-12));
        for (int i = 0; i < p.length; i++) {
            p[i] *= inv;
        }
        return p;
    }
}
