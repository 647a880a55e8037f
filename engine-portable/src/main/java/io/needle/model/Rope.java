package io.needle.model;

/**
 * Rotary position embedding, half-split (not interleaved): for a head vector x of size hd at
 * position p, {@code f_i = theta^(-2i/hd)}, {@code a = p * f_i},
 * {@code out[i] = x[i] cos a - x[i+hd/2] sin a}, {@code out[i+hd/2] = x[i+hd/2] cos a + x[i] sin a}.
 * cos/sin tables grow on demand (angles computed in double).
 */
public final class Rope {
    private final int headDim;
    private final double theta;
    private float[] cos = new float[0]; // [positions, hd/2]
    private float[] sin = new float[0];
    private int positions;

    public Rope(int headDim, double theta) {
        this.headDim = headDim;
        this.theta = theta;
    }

    private void ensure(int nPositions) {
        if (nPositions <= positions) {
            return;
        }
        int half = headDim / 2;
        int n = Math.max(nPositions, Math.min(2 * positions, 4096));
        float[] c = new float[n * half];
        float[] s = new float[n * half];
        for (int p = 0; p < n; p++) {
            for (int i = 0; i < half; i++) {
                double f = Math.pow(theta, -2.0 * i / headDim);
                double a = p * f;
                c[p * half + i] = (float) Math.cos(a);
                s[p * half + i] = (float) Math.sin(a);
            }
        }
        cos = c;
        sin = s;
        positions = n;
    }

    /**
     * Rotates every head of {@code rows} consecutive rows of x (each row = heads * hd values);
     * row t is at position {@code pos0 + t}.
     */
    public void apply(float[] x, int rows, int heads, int pos0) {
        ensure(pos0 + rows);
        for (int t = 0; t < rows; t++) {
            rotate(x, t, heads, pos0 + t);
        }
    }

    /** As {@link #apply}, with row t at position {@code positions[t]} (rows of different sequences). */
    public void applyAt(float[] x, int rows, int heads, int[] positions) {
        for (int t = 0; t < rows; t++) {
            ensure(positions[t] + 1);
            rotate(x, t, heads, positions[t]);
        }
    }

    private void rotate(float[] x, int t, int heads, int p) {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int o = (t * heads + h) * headDim;
            for (int i = 0; i < half; i++) {
                float c = cos[p * half + i];
                float s = sin[p * half + i];
                float a = x[o + i];
                float b = x[o + i + half];
                x[o + i] = a * c - b * s;
                x[o + i + half] = b * c + a * s;
            }
        }
    }
}
