package io.needle.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.model.Exp;
import java.util.SplittableRandom;
import jdk.incubator.vector.DoubleVector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorExp} gives {@link Exp#exp}'s bits in every lane: over the whole double range, the
 * softmax's float range, the clamps' edges and the special values; and the softmax's in-place
 * loop gives the scalar loop's floats for every length and offset (whole vectors and the tail).
 */
class VectorExpTest {
    @BeforeAll
    static void theVectorApiIsThere() {
        assertTrue(VectorKernels.available(), "jdk.incubator.vector must be added to the tests' JVM (surefire argLine)");
    }

    private static void assertLanes(double[] xs) {
        int n = VectorExp.D.length();
        double[] out = new double[n];
        for (int i = 0; i + n <= xs.length; i += n) {
            VectorExp.exp(DoubleVector.fromArray(VectorExp.D, xs, i)).intoArray(out, 0);
            for (int l = 0; l < n; l++) {
                double x = xs[i + l];
                double expected = Exp.exp(x);
                if (Double.isNaN(expected)) {
                    assertTrue(Double.isNaN(out[l]), "exp(" + x + ") is NaN");
                } else if (Double.doubleToRawLongBits(expected) != Double.doubleToRawLongBits(out[l])) {
                    assertEquals(expected, out[l], "exp(" + x + ") in lane " + l);
                }
            }
        }
    }

    @Test
    void specialValuesAndEdges() {
        double[] edges = {0.0, -0.0, Double.NaN, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY,
            -Float.MAX_VALUE, -Double.MAX_VALUE, Double.MAX_VALUE, Exp.LOWEST, Exp.HIGHEST,
            Math.nextDown(Exp.LOWEST), Math.nextUp(Exp.HIGHEST), -745.13, -745.14, -708.4, -708.39, 709.78, 709.79,
            -104f, -103.97f, 88.72f, 88.73f, Double.MIN_VALUE, -Double.MIN_VALUE, 1e-300, 0.5 * Math.log(2),
            -0.5 * Math.log(2), 1, -1, 2, -2};
        double[] xs = new double[(edges.length + VectorExp.D.length() - 1) / VectorExp.D.length() * VectorExp.D.length()];
        System.arraycopy(edges, 0, xs, 0, edges.length);
        assertLanes(xs);
    }

    @Test
    void manyDoublesAndFloats() {
        SplittableRandom random = new SplittableRandom(3);
        double[] xs = new double[1 << 16];
        for (int round = 0; round < 64; round++) {
            for (int i = 0; i < xs.length; i++) {
                switch (i % 4) {
                    case 0:
                        xs[i] = random.nextDouble(-750, 712); // the whole range and past both ends
                        break;
                    case 1:
                        xs[i] = (float) -random.nextDouble(0, 110); // the softmax's s - max
                        break;
                    case 2:
                        xs[i] = random.nextDouble(-1e-4, 1e-4);
                        break;
                    default:
                        xs[i] = Double.longBitsToDouble(random.nextLong()); // any bits: huge, tiny, NaN
                }
            }
            assertLanes(xs);
        }
    }

    @Test
    void theSoftmaxLoopGivesTheScalarFloats() {
        SplittableRandom random = new SplittableRandom(5);
        for (int length = 0; length < 40; length++) {
            for (int from = 0; from < 3; from++) {
                float[] a = new float[from + length + 2];
                for (int i = 0; i < a.length; i++) {
                    a[i] = i % 5 == 3 ? -Float.MAX_VALUE : (float) (random.nextGaussian() * 8);
                }
                float max = 0f;
                for (int i = from; i < from + length; i++) {
                    max = Math.max(max, a[i]);
                }
                float[] expected = a.clone();
                for (int i = from; i < from + length; i++) {
                    expected[i] = (float) Exp.exp(expected[i] - max);
                }
                VectorExp.expMinus(a, from, from + length, max);
                PortableReference.assertBits(expected, a, "length " + length + " from " + from);
            }
        }
    }
}
