package io.needle.synthetic;

/**
 * Quantizer and reference of the group-wise INT4 format of needle-rs's export (docs/spec/WEIGHTS.md),
 * used by {@link ModelWriter} for the seeded random models of tests, demos and benchmarks and by
 * tests as the reference of the engine's I4 kernels. For a linear weight {@code W} of logical shape
 * {@code [in, out]} (row-major, {@code w[r * out + c]}), as export.py's {@code quantize_int4}:
 * <ul>
 *   <li>group size {@code g = min(32, in)}; in is padded with zero rows to {@code in_pad}, the next
 *       multiple of g;</li>
 *   <li>per group of g rows and column: {@code scale = max(max|w| / 7, 1e-8)} (float32);</li>
 *   <li>{@code q = rint(w / scale)} (round half to even, as numpy) clamped to [-8, 7];</li>
 *   <li>byte {@code (r/2) * out + c} holds row r (even) in its low nibble and row r+1 in its high
 *       nibble, two's complement: {@code in_pad/2 * out} bytes, the I4 tensor's header shape
 *       {@code [in_pad/2, out]}; scales {@code [in_pad/g, out]}.</li>
 * </ul>
 */
public final class Int4Packing {
    /** export.py's SCALE_MIN: the smallest group scale written. */
    public static final float SCALE_MIN = 1e-8f;

    private Int4Packing() {
    }

    /** A quantized weight: the packed I4 bytes ({@code rows * out}) and the scales, row-major {@code [groups, out]}. */
    public static final class Quantized {
        public final byte[] packed;
        public final float[] scales;
        public final int groups;
        /** Rows of bytes: the I4 tensor's first dimension ({@code ceil(in_pad / 2)}). */
        public final int rows;

        Quantized(byte[] packed, float[] scales, int groups, int rows) {
            this.packed = packed;
            this.scales = scales;
            this.groups = groups;
            this.rows = rows;
        }
    }

    /** Quantizes {@code w} ({@code [in, out]} row-major) as export.py does (group size min(32, in)). */
    public static Quantized quantize(float[] w, int in, int out) {
        return quantize(w, in, out, Math.min(32, in));
    }

    /** Quantizes {@code w} ({@code [in, out]} row-major) with groups of {@code groupSize} rows, in padded to a multiple of it. */
    public static Quantized quantize(float[] w, int in, int out, int groupSize) {
        if (w.length != in * out) {
            throw new IllegalArgumentException("w has " + w.length + " values, expected " + in * out);
        }
        int groups = (in + groupSize - 1) / groupSize;
        int inPad = groups * groupSize;
        float[] scales = new float[groups * out];
        int[] q = new int[inPad * out]; // padding rows stay 0
        for (int g = 0; g < groups; g++) {
            int r0 = g * groupSize;
            int r1 = Math.min(in, r0 + groupSize);
            for (int c = 0; c < out; c++) {
                float max = 0;
                for (int r = r0; r < r1; r++) {
                    max = Math.max(max, Math.abs(w[r * out + c]));
                }
                float scale = Math.max(max / 7f, SCALE_MIN);
                scales[g * out + c] = scale;
                for (int r = r0; r < r1; r++) {
                    q[r * out + c] = quantizeOne(w[r * out + c], scale);
                }
            }
        }
        return new Quantized(pack(q, inPad, out), scales, groups, (inPad + 1) / 2);
    }

    /** {@code rint(w / scale)} clamped to [-8, 7]. */
    public static int quantizeOne(float w, float scale) {
        double v = Math.rint(w / scale);
        return (int) Math.max(-8, Math.min(7, v));
    }

    /** Packs q values in [-8, 7] ({@code [in, out]} row-major) into {@code ceil(in/2) * out} bytes. */
    public static byte[] pack(int[] q, int in, int out) {
        byte[] packed = new byte[(in + 1) / 2 * out];
        for (int r = 0; r < in; r++) {
            for (int c = 0; c < out; c++) {
                int v = q[r * out + c];
                if (v < -8 || v > 7) {
                    throw new IllegalArgumentException("q value " + v + " outside [-8, 7]");
                }
                int i = (r / 2) * out + c;
                int nibble = v & 0xf;
                packed[i] = (byte) ((r % 2 == 0) ? (packed[i] & 0xf0) | nibble
                        : (packed[i] & 0x0f) | (nibble << 4));
            }
        }
        return packed;
    }

    /** The q values ({@code [in, out]} row-major) of packed I4 bytes (padding rows past in are not read). */
    public static int[] unpack(byte[] packed, int in, int out) {
        if (packed.length < (in + 1) / 2 * out) {
            throw new IllegalArgumentException("packed has " + packed.length + " bytes, expected at least "
                    + (in + 1) / 2 * out);
        }
        int[] q = new int[in * out];
        for (int r = 0; r < in; r++) {
            for (int c = 0; c < out; c++) {
                int b = packed[(r / 2) * out + c];
                int nibble = (r % 2 == 0) ? b & 0xf : (b >> 4) & 0xf;
                q[r * out + c] = nibble >= 8 ? nibble - 16 : nibble;
            }
        }
        return q;
    }

    /** {@code W[r][c] = q[r][c] * scales[r / groupSize][c]}, computed in float. */
    public static float[] dequantize(byte[] packed, float[] scales, int in, int out, int groupSize) {
        int[] q = unpack(packed, in, out);
        float[] w = new float[in * out];
        for (int r = 0; r < in; r++) {
            for (int c = 0; c < out; c++) {
                w[r * out + c] = q[r * out + c] * scales[(r / groupSize) * out + c];
            }
        }
        return w;
    }
}
