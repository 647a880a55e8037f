package io.needle.synthetic;

/**
 * The element types the writer puts in a file's header (docs/spec/WEIGHTS.md): the standard
 * {@code F32}, {@code F16} and {@code BF16}, and needle-rs's group-wise {@code I4}, whose header
 * shape {@code [in_pad/2, out]} counts bytes (two signed 4-bit weights per byte). The engine reads
 * them as {@code io.needle.safetensors.DType}; this module does not depend on the engine.
 */
public enum TensorType {
    F32(4),
    F16(2),
    BF16(2),
    I4(1);

    /** Bytes per element of the header shape (I4: the shape counts bytes). */
    public final int bytesPerElement;

    TensorType(int bytesPerElement) {
        this.bytesPerElement = bytesPerElement;
    }

    /**
     * The data bytes of a tensor of this type and header shape (a rank-0 shape is one element).
     * Throws IllegalArgumentException for a negative dimension, an I4 shape that is not rank 2 or
     * a count past {@code Long.MAX_VALUE}.
     */
    public long byteCount(long[] shape) {
        if (this == I4 && shape.length != 2) {
            throw new IllegalArgumentException("an I4 header shape is [in_pad/2, out], got rank " + shape.length);
        }
        long n = bytesPerElement;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension " + d);
            }
        }
        try {
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("a shape too large for a long byte count");
        }
        return n;
    }
}
