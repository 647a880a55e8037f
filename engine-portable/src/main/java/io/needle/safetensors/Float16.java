package io.needle.safetensors;

/**
 * Decoding of the two 16-bit float formats to float: bfloat16 (1 sign, 8 exponent, 7 mantissa
 * bits: the upper half of a float) and IEEE half precision f16 (1 sign, 5 exponent, 10 mantissa
 * bits). Exact, including subnormals, infinities and NaN (the payload is kept). The engine only
 * reads; encoding is the seeded writer's ({@code io.needle.synthetic.Float16Encoder}, module
 * synthetic).
 */
public final class Float16 {
    private Float16() {
    }

    /** The float a bfloat16 bit pattern stands for (exact). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** The float an IEEE half-precision bit pattern stands for (exact). */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) { // infinity or NaN; the payload moves to the top of the float mantissa
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) { // zero or subnormal: mant * 2^-24, exact in float
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 127 - 15) << 23) | (mant << 13));
    }
}
