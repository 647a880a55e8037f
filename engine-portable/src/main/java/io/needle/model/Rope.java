package io.needle.model;

/**
 * Rotary position embedding, half-split (not interleaved): for a head vector x of size hd at
 * position p, {@code f_i = theta^(-2i/hd)}, {@code a = p * f_i},
 * {@code out[i] = x[i] cos a - x[i+hd/2] sin a}, {@code out[i+hd/2] = x[i+hd/2] cos a + x[i] sin a}.
 * cos/sin tables grow on demand (angles computed in double). Safe to use from several threads
 * at once (requests, or shares of one encoder): a grown table is a new object, published whole.
 */
public final class Rope {
    private final int headDim;
    private final double theta;
    private volatile Tables tables = new Tables(new float[0], new float[0], 0);

    /** cos and sin [positions, hd/2]; never changed once made. */
    private static final class Tables {
        final float[] cos;
        final float[] sin;
        final int positions;

        Tables(float[] cos, float[] sin, int positions) {
            this.cos = cos;
            this.sin = sin;
            this.positions = positions;
        }
    }

    public Rope(int headDim, double theta) {
        this.headDim = headDim;
        this.theta = theta;
    }

    /** Tables covering at least {@code nPositions} positions (grown when needed). */
    private Tables tables(int nPositions) {
        Tables t = tables;
        if (nPositions <= t.positions) {
            return t;
        }
        int half = headDim / 2;
        int n = Math.max(nPositions, Math.min(2 * t.positions, 4096));
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
        Tables grown = new Tables(c, s, n); // a thread growing it at the same time makes equal tables
        tables = grown;
        return grown;
    }

    /**
     * Rotates every head of {@code rows} consecutive rows of x (each row = heads * hd values);
     * row t is at position {@code pos0 + t}.
     */
    public void apply(float[] x, int rows, int heads, int pos0) {
        Tables tb = tables(pos0 + rows);
        for (int t = 0; t < rows; t++) {
            rotate(x, t, heads, pos0 + t, tb);
        }
    }

    /** As {@link #apply}, with row t at position {@code positions[t]} (rows of different sequences). */
    public void applyAt(float[] x, int rows, int heads, int[] positions) {
        for (int t = 0; t < rows; t++) {
            rotate(x, t, heads, positions[t], tables(positions[t] + 1));
        }
    }

    private void rotate(float[] x, int t, int heads, int p, Tables tb) {
        float[] cos = tb.cos;
        float[] sin = tb.sin;
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
