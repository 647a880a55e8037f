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
        int t = 0;
        // four rows at a time: four independent sums in flight (each row's sum in its own order, so
        // the same floats as one row at a time; a lone double sum waits on each add's latency)
        for (; t + 4 <= rows; t += 4) {
            int o0 = t * n;
            int o1 = o0 + n;
            int o2 = o1 + n;
            int o3 = o2 + n;
            double s0 = 0;
            double s1 = 0;
            double s2 = 0;
            double s3 = 0;
            for (int i = 0; i < n; i++) {
                float v0 = x[o0 + i];
                float v1 = x[o1 + i];
                float v2 = x[o2 + i];
                float v3 = x[o3 + i];
                s0 += v0 * v0;
                s1 += v1 * v1;
                s2 += v2 * v2;
                s3 += v3 * v3;
            }
            scale(x, y, o0, n, s0);
            scale(x, y, o1, n, s1);
            scale(x, y, o2, n, s2);
            scale(x, y, o3, n, s3);
        }
        for (; t < rows; t++) {
            int o = t * n;
            double ss = 0;
            for (int i = 0; i < n; i++) {
                float v = x[o + i];
                ss += v * v;
            }
            scale(x, y, o, n, ss);
        }
    }

    /** Row {@code y[o..o+n) = (1 + γ) · x / rms}, rms from the row's sum of squares {@code ss}. */
    private void scale(float[] x, float[] y, int o, int n, double ss) {
        float inv = (float) (1.0 / Math.sqrt(ss / n + EPS));
        for (int i = 0; i < n; i++) {
            y[o + i] = onePlusGamma[i] * (x[o + i] * inv);
        }
    }
}
