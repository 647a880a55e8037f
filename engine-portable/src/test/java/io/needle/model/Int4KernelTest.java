package io.needle.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.needle.synthetic.Int4Packing;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The two INT4 kernels (one input row: table look-up; several rows: unpacked groups) give the same
 * floats bit for bit, for every row count and awkward shapes (odd in, partial last group), and
 * match dense math; reused work buffers change nothing.
 */
class Int4KernelTest {

    @Test
    void oneRowAndManyRowsAgreeBitForBit() {
        Random r = new Random(21);
        int[][] shapes = {{64, 48}, {33, 7}, {96, 5}, {1, 3}, {70, 70}, {512, 256}, {45, 130}};
        Scratch shared = new Scratch();
        for (int[] s : shapes) {
            int in = s[0];
            int out = s[1];
            float[] w = gaussian(r, in * out);
            Int4Packing.Quantized p = Int4Packing.quantize(w, in, out, 32);
            byte[] file = new byte[p.packed.length + 3];
            System.arraycopy(p.packed, 0, file, 3, p.packed.length);
            Int4Linear lin = new Int4Linear(in, out, 32, file, 3, p.scales);
            for (int rows : new int[] {1, 2, 3, 5, 8, 17}) {
                float[] x = gaussian(r, rows * in);
                float[] many = new float[rows * out];
                lin.forward(x, many, rows, shared);
                for (int t = 0; t < rows; t++) {
                    float[] one = new float[out];
                    float[] xt = new float[in];
                    System.arraycopy(x, t * in, xt, 0, in);
                    lin.forward(xt, one, 1, shared);
                    for (int c = 0; c < out; c++) {
                        assertEquals(Float.floatToIntBits(one[c]), Float.floatToIntBits(many[t * out + c]),
                                in + "x" + out + " rows " + rows + " row " + t + " col " + c);
                        double sum = 0;
                        for (int k = 0; k < in; k++) {
                            sum += (double) xt[k] * lin.weight(k, c);
                        }
                        assertEquals(sum, one[c], 1e-4 * Math.max(1, Math.abs(sum)));
                    }
                }
            }
        }
    }

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
