package io.needle.synthetic;

/**
 * Float to the two 16-bit float formats the writer stores: bfloat16 (1 sign, 8 exponent, 7
 * mantissa bits: the upper half of a float) and IEEE half precision f16 (1 sign, 5 exponent, 10
 * mantissa bits). Rounds to nearest, ties to even; NaN stays a (quiet) NaN. Only writing needs
 * them; the engine decodes with {@code io.needle.safetensors.Float16}.
 */
public final class Float16Encoder {
    private Float16Encoder() {
    }

    /** The nearest bfloat16 to {@code f} (ties to even); NaN gives a quiet NaN. */
    public static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7fffffff) > 0x7f800000) {
            return (short) ((x >>> 16) | 0x0040);
        }
        int rounding = 0x7fff + ((x >>> 16) & 1);
        return (short) ((x + rounding) >>> 16);
    }

    /** The nearest IEEE half-precision value to {@code f} (ties to even); NaN gives a quiet NaN. */
    public static short floatToF16(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int a = x & 0x7fffffff;
        if (a > 0x7f800000) { // NaN: keep the top payload bits, force quiet
            return (short) (sign | 0x7e00 | ((a >>> 13) & 0x3ff));
        }
        if (a >= 0x477ff000) { // >= 65520 (halfway from 65504 up to 65536) rounds to infinity
            return (short) (sign | 0x7c00);
        }
        if (a >= 0x38800000) { // normal f16 range, >= 2^-14
            int h = ((((a >>> 23) - 127 + 15) << 10) | ((a & 0x7fffff) >>> 13));
            int rem = a & 0x1fff;
            if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
                h++; // a carry into the exponent is still the right encoding
            }
            return (short) (sign | h);
        }
        if (a <= 0x33000000) { // <= 2^-25: rounds to zero (2^-25 is a tie, zero is even)
            return (short) sign;
        }
        // subnormal f16: count units of 2^-24
        int m = (a & 0x7fffff) | 0x800000;
        int shift = 126 - (a >>> 23);
        int h = m >>> shift;
        int rem = m & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rem > half || (rem == half && (h & 1) != 0)) {
            h++;
        }
        return (short) (sign | h);
    }
}
