package io.needle.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The norm over many rows (four at a time) gives each row exactly the floats of that row normed
 * alone, also in place (x and y the same array, as the key norm runs), and the formula
 * {@code y = (1 + γ) · x / sqrt(mean(x²) + eps)} with the sum of squares in double, in order.
 */
class ZcRmsNormTest {
    @Test
    void manyRowsAtOnceAreEachRowAlone() {
        Random rnd = new Random(3);
        for (int n : new int[] {1, 7, 64, 512}) {
            float[] gamma = new float[n];
            for (int i = 0; i < n; i++) {
                gamma[i] = (float) rnd.nextGaussian() * 0.1f;
            }
            ZcRmsNorm norm = new ZcRmsNorm(gamma);
            for (int rows : new int[] {1, 3, 4, 5, 8, 11}) {
                float[] x = new float[rows * n];
                for (int i = 0; i < x.length; i++) {
                    x[i] = i % 9 == 0 ? 0f : (float) (rnd.nextGaussian() * (i % 5 == 0 ? 30 : 1));
                }
                float[] expected = new float[x.length];
                for (int t = 0; t < rows; t++) {
                    float[] row = java.util.Arrays.copyOfRange(x, t * n, (t + 1) * n);
                    float[] out = new float[n];
                    norm.apply(row, out, 1);
                    System.arraycopy(out, 0, expected, t * n, n);
                    // the formula, for the first row of each shape
                    if (t == 0) {
                        double ss = 0;
                        for (float v : row) {
                            ss += v * v;
                        }
                        float inv = (float) (1.0 / Math.sqrt(ss / n + ZcRmsNorm.EPS));
                        for (int i = 0; i < n; i++) {
                            assertEquals(Float.floatToRawIntBits((1f + gamma[i]) * (row[i] * inv)),
                                    Float.floatToRawIntBits(out[i]), "n " + n + " i " + i);
                        }
                    }
                }
                float[] y = new float[x.length];
                norm.apply(x, y, rows);
                float[] inPlace = x.clone();
                norm.apply(inPlace, inPlace, rows);
                for (int i = 0; i < x.length; i++) {
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(y[i]),
                            "n " + n + ", " + rows + " rows, at " + i);
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(inPlace[i]),
                            "in place: n " + n + ", " + rows + " rows, at " + i);
                }
            }
        }
    }
}
