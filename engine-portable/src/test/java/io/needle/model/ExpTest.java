package io.needle.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Exp} against {@code StrictMath.exp} (fdlibm, within one ulp of e<sup>x</sup>): the float
 * the softmax keeps, over the whole range it sees, and the double over the whole range.
 */
class ExpTest {

    @Test
    void specialValues() {
        assertEquals(Double.doubleToRawLongBits(1.0), Double.doubleToRawLongBits(Exp.exp(0.0)));
        assertEquals(Double.doubleToRawLongBits(1.0), Double.doubleToRawLongBits(Exp.exp(-0.0)));
        assertTrue(Double.isNaN(Exp.exp(Double.NaN)));
        assertTrue(Double.isNaN(Exp.exp(Float.NaN)));
        // a masked key: its score minus the row's maximum is about -3.4e38, or -inf when both overflow
        assertEquals(0.0, Exp.exp(-Float.MAX_VALUE - 10f));
        assertEquals(0.0, Exp.exp(-Double.MAX_VALUE));
        assertEquals(0.0, Exp.exp(Double.NEGATIVE_INFINITY));
        assertEquals(0.0, Exp.exp(-746.0));
        assertEquals(Double.POSITIVE_INFINITY, Exp.exp(Double.POSITIVE_INFINITY));
        assertEquals(Double.POSITIVE_INFINITY, Exp.exp(Double.MAX_VALUE));
        assertEquals(Double.POSITIVE_INFINITY, Exp.exp(709.8));
        // the ends of the range: the largest finite result, the smallest subnormal ones
        for (double x : new double[] {709.78, 709.0, -708.0, -709.0, -740.0, -745.0, -745.1}) {
            assertEquals(StrictMath.exp(x), Exp.exp(x), Math.ulp(StrictMath.exp(x)), "exp(" + x + ")");
            assertTrue(Exp.exp(x) > 0 && Exp.exp(x) < Double.POSITIVE_INFINITY, "exp(" + x + ") finite, > 0");
        }
    }

    /**
     * The softmax's exp: (float) exp(s - max) with s - max a float in [-104, 0] (below, the float
     * is 0). Every 61st float there (18 M of them; a run over all 1.1 G gave the same result) is the
     * float of StrictMath.exp, the correctly rounded one.
     */
    @Test
    void softmaxFloatsAreStrictMathFloats() {
        int from = Float.floatToRawIntBits(-0.0f);
        int to = Float.floatToRawIntBits(-104.0f);
        int checked = 0;
        for (int b = from; b <= to; b += 61) {
            float x = Float.intBitsToFloat(b);
            float ours = (float) Exp.exp(x);
            float strict = (float) StrictMath.exp(x);
            if (Float.floatToRawIntBits(ours) != Float.floatToRawIntBits(strict)) {
                assertEquals(strict, ours, "exp(" + x + ") as a float");
            }
            checked++;
        }
        assertTrue(checked > 18_000_000, "checked " + checked);
        for (float x = -104f; x > -200f; x -= 0.25f) {
            assertEquals(0f, (float) Exp.exp(x), "exp(" + x + ") as a float");
        }
    }

    /** Doubles over the whole range, subnormal results and overflow included: at most one ulp from StrictMath. */
    @Test
    void doublesWithinOneUlpOfStrictMath() {
        SplittableRandom random = new SplittableRandom(20240514);
        long worst = 0;
        for (int i = 0; i < 4_000_000; i++) {
            double x = i % 4 == 0 ? random.nextDouble(-1e-3, 1e-3) : random.nextDouble(-746.0, 710.0);
            long ours = Double.doubleToRawLongBits(Exp.exp(x));
            long strict = Double.doubleToRawLongBits(StrictMath.exp(x));
            long ulps = Math.abs(ours - strict);
            if (ulps > 1) {
                assertEquals(StrictMath.exp(x), Exp.exp(x), "exp(" + x + ") is " + ulps + " ulps away");
            }
            worst = Math.max(worst, ulps);
        }
        assertTrue(worst <= 1, "worst " + worst + " ulps");
    }

    /** The activation's exp(-g) for a float g, positive arguments included: as a float, StrictMath's. */
    @Test
    void positiveFloatArguments() {
        for (int b = 0; b <= Float.floatToRawIntBits(88.7f); b += 67) {
            float x = Float.intBitsToFloat(b);
            float ours = (float) Exp.exp(x);
            float strict = (float) StrictMath.exp(x);
            if (Float.floatToRawIntBits(ours) != Float.floatToRawIntBits(strict)) {
                assertEquals(strict, ours, "exp(" + x + ") as a float");
            }
        }
        assertEquals(Float.POSITIVE_INFINITY, (float) Exp.exp(89f));
    }
}
