package io.needle.model;

/**
 * Zero-centred RMSNorm over the last axis of size n: {@code y = (1 + γ) * x / sqrt(mean(x²) + eps)},
 * eps = 1e-6, γ stored as is (trained around 0).
 */
public final class ZcRmsNorm {
    public static final double EPS = 1e-6;

    private final float[] onePlusGamma;

    public ZcRmsNorm(float[] gamma) {
        onePlusGamma = new float[gamma.length];
        for (int i = 0; i < gamma.length; i++) {
            onePlusGamma[i] = 1f + gamma[i];
        }
    }

    public int size() {
        return onePlusGamma.length;
    }

    /** Normalizes {@code rows} consecutive vectors of size n from x into y (x == y allowed). */
    public void apply(float[] x, float[] y, int rows) {
        int n = onePlusGamma.length;
        for (int t = 0; t < rows; t++) {
            int o = t * n;
            double ss = 0;
            for (int i = 0; i < n; i++) {
                float v = x[o + i];
                ss += v * v;
            }
            float inv = (float) (1.0 / Math.sqrt(ss / n + EPS));
            for (int i = 0; i < n; i++) {
                y[o + i] = onePlusGamma[i] * (x[o + i] * inv);
            }
        }
    }
}
