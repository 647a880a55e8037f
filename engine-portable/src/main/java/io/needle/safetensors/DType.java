package io.needle.safetensors;

import io.needle.base.NeedleException;

/**
 * The element types a Needle weight file may hold (docs/spec/WEIGHTS.md): the standard {@code F32},
 * {@code F16} and {@code BF16}, and the custom group-wise {@code I4} (two signed 4-bit values per
 * byte, only for rank-2 linear weights stored as {@code [in_pad/2, out]} bytes).
 */
public enum DType {
    F32,
    F16,
    BF16,
    I4;

    /** Parses a header dtype string ("F32", "F16", "BF16", "I4"); anything else is an error. */
    public static DType parse(String dtype) {
        return parse(dtype, null);
    }

    /**
     * Parses a header dtype string; an unknown one throws NeedleException WEIGHTS naming
     * {@code tensor} (when not null) and the dtype.
     */
    public static DType parse(String dtype, String tensor) {
        if (dtype != null) {
            switch (dtype) {
                case "F32": return F32;
                case "F16": return F16;
                case "BF16": return BF16;
                case "I4": return I4;
                default: break;
            }
        }
        String what = "unknown dtype " + (dtype == null ? "null" : quote(dtype))
                + " (supported: F32, F16, BF16, I4)";
        throw new NeedleException(NeedleException.Kind.WEIGHTS,
                tensor == null ? what : "tensor " + quote(tensor) + ": " + what);
    }

    /**
     * The number of data bytes a tensor of this dtype and shape occupies: F32 4 per element, F16
     * and BF16 2 per element, I4 one per element, because an I4 tensor's header shape counts bytes:
     * {@code [in_pad/2, out]}, two 4-bit weights per byte (needle-rs's export). A rank-0 shape is
     * one element. Throws NeedleException WEIGHTS for a negative dimension, an I4 shape that is not
     * rank 2, or a count that does not fit in a long.
     */
    public long byteCount(long[] shape) {
        for (long d : shape) {
            if (d < 0) {
                throw new NeedleException(NeedleException.Kind.WEIGHTS,
                        "negative dimension in shape " + shapeString(shape));
            }
        }
        if (this == I4) {
            if (shape.length != 2) {
                throw new NeedleException(NeedleException.Kind.WEIGHTS,
                        "an I4 tensor must have shape [in_pad/2, out], got " + shapeString(shape));
            }
        }
        return multiply(shape, this == F32 ? 4 : this == I4 ? 1 : 2, shape);
    }

    /** Product of {@code dims} times {@code unit}, with overflow reported as an error. */
    private static long multiply(long[] dims, long unit, long[] shapeForMessage) {
        for (long d : dims) {
            if (d == 0) {
                return 0;
            }
        }
        long n = unit;
        for (long d : dims) {
            if (n > Long.MAX_VALUE / d) {
                throw new NeedleException(NeedleException.Kind.WEIGHTS,
                        "shape " + shapeString(shapeForMessage) + " is too large");
            }
            n *= d;
        }
        return n;
    }

    static String shapeString(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape[i]);
        }
        return sb.append(']').toString();
    }

    static String quote(String s) {
        return io.needle.json.Json.quote(s);
    }
}
