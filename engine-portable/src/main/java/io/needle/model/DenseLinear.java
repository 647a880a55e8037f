package io.needle.model;

/**
 * A plain (not quantized) linear layer: {@code X.weight} stored as F32, F16 or BF16 [in, out].
 * The values are held as float (the real Needle file quantizes every linear; plain ones only
 * appear in small or mixed test models).
 */
public final class DenseLinear implements Linear {
    private final int in;
    private final int out;
    private final float[] w; // [in, out] row-major

    public DenseLinear(int in, int out, float[] w) {
        if (w.length != in * out) {
            throw new IllegalArgumentException("weight size " + w.length + " != " + in + "x" + out);
        }
        this.in = in;
        this.out = out;
        this.w = w;
    }

    @Override
    public int in() {
        return in;
    }

    @Override
    public int out() {
        return out;
    }

    @Override
    public void forward(float[] x, float[] y, int rows, Scratch scratch) {
        for (int t = 0; t < rows; t++) {
            int yo = t * out;
            for (int c = 0; c < out; c++) {
                y[yo + c] = 0f;
            }
            int xo = t * in;
            for (int r = 0; r < in; r++) {
                float xr = x[xo + r];
                int wo = r * out;
                for (int c = 0; c < out; c++) {
                    y[yo + c] += xr * w[wo + c];
                }
            }
        }
    }
}
