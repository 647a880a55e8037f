package io.needle.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.needle.synthetic.Int4Packing;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The engine's packed INT4 kernel against the test-side packer and a plain float computation. */
class Int4LinearTest {

    @Test
    void unpackedValuesAndForwardMatchDenseMath() {
        Random r = new Random(3);
        int[][] shapes = {{64, 48}, {33, 7}, {96, 5}, {1, 3}, {70, 70}};
        for (int[] s : shapes) {
            int in = s[0];
            int out = s[1];
            float[] w = new float[in * out];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) r.nextGaussian();
            }
            Int4Packing.Quantized p = Int4Packing.quantize(w, in, out, 32);
            byte[] file = new byte[p.packed.length + 5]; // at an offset, as inside a weight file
            System.arraycopy(p.packed, 0, file, 5, p.packed.length);
            Int4Linear lin = new Int4Linear(in, out, 32, file, 5, p.scales);
            int[] q = Int4Packing.unpack(p.packed, in, out);
            for (int row = 0; row < in; row++) {
                for (int c = 0; c < out; c++) {
                    assertEquals(q[row * out + c], lin.q(row, c));
                }
            }
            int rows = 3;
            float[] x = new float[rows * in];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[] y = new float[rows * out];
            lin.forward(x, y, rows);
            for (int t = 0; t < rows; t++) {
                for (int c = 0; c < out; c++) {
                    double sum = 0;
                    for (int row = 0; row < in; row++) {
                        sum += (double) x[t * in + row] * lin.weight(row, c);
                    }
                    assertEquals(sum, y[t * out + c], 1e-4 * Math.max(1, Math.abs(sum)));
                }
            }
        }
    }
}
