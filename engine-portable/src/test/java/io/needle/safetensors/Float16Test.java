package io.needle.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.synthetic.Float16Encoder;
import org.junit.jupiter.api.Test;

/** Exhaustive checks of the 16-bit float conversions against a float64 reference computation. */
class Float16Test {

    /** Reference value of an IEEE half: sign * 2^(e-15) * (1 + m/1024), subnormals m * 2^-24. */
    private static double f16Reference(int h) {
        int sign = (h >> 15) & 1;
        int e = (h >> 10) & 0x1f;
        int m = h & 0x3ff;
        double v;
        if (e == 0x1f) {
            v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (e == 0) {
            v = m * Math.pow(2, -24);
        } else {
            v = (1 + m / 1024.0) * Math.pow(2, e - 15);
        }
        return sign == 1 ? -v : v;
    }

    /** Reference value of a bfloat16: sign * 2^(e-127) * (1 + m/128), subnormals m * 2^-133. */
    private static double bf16Reference(int h) {
        int sign = (h >> 15) & 1;
        int e = (h >> 7) & 0xff;
        int m = h & 0x7f;
        double v;
        if (e == 0xff) {
            v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (e == 0) {
            v = m * Math.pow(2, -133);
        } else {
            v = (1 + m / 128.0) * Math.pow(2, e - 127);
        }
        return sign == 1 ? -v : v;
    }

    private static boolean isNaN16(int h, boolean bf16) {
        return bf16 ? ((h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0) : ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0);
    }

    @Test
    void f16DecodesAllPatternsExactly() {
        for (int h = 0; h < 65536; h++) {
            float got = Float16.f16ToFloat((short) h);
            double want = f16Reference(h);
            if (Double.isNaN(want)) {
                assertTrue(Float.isNaN(got), "pattern " + h);
            } else {
                assertEquals(want, (double) got, 0.0, "pattern " + Integer.toHexString(h));
                // signed zero kept
                assertEquals((h & 0x8000) != 0, (Float.floatToRawIntBits(got) & 0x80000000) != 0);
            }
        }
    }

    @Test
    void bf16DecodesAllPatternsExactly() {
        for (int h = 0; h < 65536; h++) {
            float got = Float16.bf16ToFloat((short) h);
            double want = bf16Reference(h);
            if (Double.isNaN(want)) {
                assertTrue(Float.isNaN(got), "pattern " + h);
            } else {
                assertEquals(want, (double) got, 0.0, "pattern " + Integer.toHexString(h));
                assertEquals((h & 0x8000) != 0, (Float.floatToRawIntBits(got) & 0x80000000) != 0);
            }
        }
    }

    @Test
    void encodersInvertDecodersOnEveryPattern() {
        for (int h = 0; h < 65536; h++) {
            short f16 = Float16Encoder.floatToF16(Float16.f16ToFloat((short) h));
            short bf16 = Float16Encoder.floatToBf16(Float16.bf16ToFloat((short) h));
            if (isNaN16(h, false)) {
                assertTrue(isNaN16(f16 & 0xffff, false), "f16 NaN " + h);
            } else {
                assertEquals(h, f16 & 0xffff, "f16 " + Integer.toHexString(h));
            }
            if (isNaN16(h, true)) {
                assertTrue(isNaN16(bf16 & 0xffff, true), "bf16 NaN " + h);
            } else {
                assertEquals(h, bf16 & 0xffff, "bf16 " + Integer.toHexString(h));
            }
        }
    }

    /**
     * For every pair of neighbouring finite values: the exact midpoint rounds to the one with an
     * even mantissa, anything just above or below it rounds to the nearer one.
     */
    @Test
    void encodersRoundToNearestEven() {
        for (int bf = 0; bf <= 1; bf++) {
            boolean bf16 = bf == 1;
            int maxFinite = bf16 ? 0x7f7f : 0x7bff;
            for (int sign = 0; sign <= 0x8000; sign += 0x8000) {
                for (int h = 0; h < maxFinite; h++) {
                    int lo = sign | h;
                    int hi = sign | (h + 1);
                    double a = bf16 ? bf16Reference(lo) : f16Reference(lo);
                    double b = bf16 ? bf16Reference(hi) : f16Reference(hi);
                    float mid = (float) ((a + b) / 2);
                    assertEquals((a + b) / 2, (double) mid, 0.0, "midpoint exact");
                    int even = (lo & 1) == 0 ? lo : hi;
                    assertEquals(even, encode(mid, bf16), "tie " + Integer.toHexString(lo));
                    float towardA = Math.nextAfter(mid, a);
                    float towardB = Math.nextAfter(mid, b);
                    assertEquals(lo, encode(towardA, bf16), "below tie " + Integer.toHexString(lo));
                    assertEquals(hi, encode(towardB, bf16), "above tie " + Integer.toHexString(lo));
                }
            }
        }
    }

    private static int encode(float f, boolean bf16) {
        return (bf16 ? Float16Encoder.floatToBf16(f) : Float16Encoder.floatToF16(f)) & 0xffff;
    }

    @Test
    void overflowAndUnderflow() {
        assertEquals(0x7bff, Float16Encoder.floatToF16(65504f) & 0xffff);
        assertEquals(0x7bff, Float16Encoder.floatToF16(65519.99f) & 0xffff);
        assertEquals(0x7c00, Float16Encoder.floatToF16(65520f) & 0xffff);
        assertEquals(0x7c00, Float16Encoder.floatToF16(1e10f) & 0xffff);
        assertEquals(0xfc00, Float16Encoder.floatToF16(Float.NEGATIVE_INFINITY) & 0xffff);
        assertEquals(0x0000, Float16Encoder.floatToF16(0x1p-25f) & 0xffff); // tie to zero (even)
        assertEquals(0x0001, Float16Encoder.floatToF16(Math.nextUp(0x1p-25f)) & 0xffff);
        assertEquals(0x8000, Float16Encoder.floatToF16(-1e-30f) & 0xffff);
        assertEquals(0x0000, Float16Encoder.floatToF16(Float.MIN_VALUE) & 0xffff);
        assertEquals(0x7f80, Float16Encoder.floatToBf16(Float.MAX_VALUE) & 0xffff); // rounds up to inf
        assertEquals(0x7f80, Float16Encoder.floatToBf16(Float.POSITIVE_INFINITY) & 0xffff);
        assertEquals(0x0000, Float16Encoder.floatToBf16(Float.MIN_VALUE) & 0xffff);
        assertTrue(Float.isNaN(Float16.bf16ToFloat(Float16Encoder.floatToBf16(Float.NaN))));
        assertTrue(Float.isNaN(Float16.f16ToFloat(Float16Encoder.floatToF16(Float.NaN))));
        // a NaN whose payload sits only in the low bits stays NaN
        float lowNaN = Float.intBitsToFloat(0x7f800001);
        assertTrue(Float.isNaN(Float16.bf16ToFloat(Float16Encoder.floatToBf16(lowNaN))));
        assertTrue(Float.isNaN(Float16.f16ToFloat(Float16Encoder.floatToF16(lowNaN))));
    }
}
