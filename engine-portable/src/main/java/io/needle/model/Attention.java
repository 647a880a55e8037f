package io.needle.model;

/**
 * One attention block (MODEL.md section 2): q/k/v/o projections, per-head ZCRMSNorm of q and k,
 * optional RoPE, grouped-query attention (query head h uses KV head h / (H/KV)).
 */
public final class Attention {
    final Linear q;
    final Linear k;
    final Linear v;
    final Linear o;
    final ZcRmsNorm qNorm;
    final ZcRmsNorm kNorm;
    final int heads;
    final int kvHeads;
    final int headDim;

    public Attention(Linear q, Linear k, Linear v, Linear o, ZcRmsNorm qNorm, ZcRmsNorm kNorm,
            int heads, int kvHeads, int headDim) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.o = o;
        this.qNorm = qNorm;
        this.kNorm = kNorm;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
    }

    /** Width of one K or V row: KV * hd. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Width of one q row: H * hd. */
    public int qDim() {
        return heads * headDim;
    }

    /**
     * K and V for {@code rows} rows of x: {@code K = kNorm(x @ Wk)} (then RoPE at positions
     * pos0.. when rope is given), {@code V = x @ Wv}; written at row offset {@code rowOff} of K and V.
     */
    public void keysValues(float[] x, int rows, Rope rope, int pos0, float[] kOut, float[] vOut, int rowOff) {
        int kd = kvDim();
        float[] kTmp = new float[rows * kd];
        float[] vTmp = new float[rows * kd];
        k.forward(x, kTmp, rows);
        v.forward(x, vTmp, rows);
        kNorm.apply(kTmp, kTmp, rows * kvHeads);
        if (rope != null) {
            rope.apply(kTmp, rows, kvHeads, pos0);
        }
        System.arraycopy(kTmp, 0, kOut, rowOff * kd, rows * kd);
        System.arraycopy(vTmp, 0, vOut, rowOff * kd, rows * kd);
    }

    /** {@code q = qNorm(x @ Wq)} (then RoPE at positions pos0.. when rope is given). */
    public float[] queries(float[] x, int rows, Rope rope, int pos0) {
        float[] qOut = new float[rows * qDim()];
        q.forward(x, qOut, rows);
        qNorm.apply(qOut, qOut, rows * heads);
        if (rope != null) {
            rope.apply(qOut, rows, heads, pos0);
        }
        return qOut;
    }

    /**
     * softmax(q·k / sqrt(hd)) · v per head, then the output projection.
     *
     * @param qs queries [rows, H*hd], row t at position pos0 + t
     * @param keys K [S, KV*hd], values V [S, KV*hd], S = keyCount
     * @param keyValid per key position, false = masked (padding); null = all valid
     * @param causal when true, row t sees only keys at positions <= pos0 + t
     * @return [rows, d_model]
     */
    public float[] attend(float[] qs, int rows, int pos0, float[] keys, float[] values, int keyCount,
            boolean[] keyValid, boolean causal) {
        int qd = qDim();
        int kd = kvDim();
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] ctx = new float[rows * qd];
        float[] scores = new float[keyCount];
        for (int t = 0; t < rows; t++) {
            for (int h = 0; h < heads; h++) {
                int qo = t * qd + h * headDim;
                int kvo = (h / group) * headDim;
                float max = -Float.MAX_VALUE;
                for (int j = 0; j < keyCount; j++) {
                    boolean visible = (keyValid == null || keyValid[j]) && (!causal || j <= pos0 + t);
                    float s;
                    if (visible) {
                        int ko = j * kd + kvo;
                        float dot = 0f;
                        for (int i = 0; i < headDim; i++) {
                            dot += qs[qo + i] * keys[ko + i];
                        }
                        s = dot * scale;
                    } else {
                        s = -Float.MAX_VALUE;
                    }
                    scores[j] = s;
                    if (s > max) {
                        max = s;
                    }
                }
                double sum = 0;
                for (int j = 0; j < keyCount; j++) {
                    float e = (float) Math.exp(scores[j] - max);
                    scores[j] = e;
                    sum += e;
                }
                float inv = (float) (1.0 / sum);
                for (int j = 0; j < keyCount; j++) {
                    float p = scores[j] * inv;
                    if (p == 0f) {
                        continue;
                    }
                    int vo = j * kd + kvo;
                    for (int i = 0; i < headDim; i++) {
                        ctx[qo + i] += p * values[vo + i];
                    }
                }
            }
        }
        float[] out = new float[rows * o.out()];
        o.forward(ctx, out, rows);
        return out;
    }
}
