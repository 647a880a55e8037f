package io.needle.safetensors;

/**
 * One tensor of a {@link SafeTensors} file: its name, dtype, shape and where its bytes are.
 *
 * <p>The shape is kept as {@code int} dimensions: a validated tensor's bytes lie inside a Java
 * {@code byte[]}, so every dimension of a non-empty tensor fits in an int (the reader rejects larger
 * dimensions). {@link #offset()} is ABSOLUTE: the index of the tensor's first byte in
 * {@link SafeTensors#bytes()}, not the header's data-region-relative offset.
 */
public final class TensorInfo {
    private final String name;
    private final DType dtype;
    private final int[] shape;
    private final int offset;
    private final int byteLength;

    public TensorInfo(String name, DType dtype, int[] shape, int offset, int byteLength) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.offset = offset;
        this.byteLength = byteLength;
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** Number of dimensions (0 for a scalar). */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public int dim(int i) {
        return shape[i];
    }

    /** Index of the first byte in the file's byte array. */
    public int offset() {
        return offset;
    }

    /** Number of data bytes. */
    public int byteLength() {
        return byteLength;
    }

    /** Product of the dimensions (1 for a scalar). */
    public long elementCount() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** The shape as text, e.g. {@code [512, 64]} ({@code []} for a scalar). */
    public String shapeString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape[i]);
        }
        return sb.append(']').toString();
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString() + " @" + offset + "+" + byteLength;
    }
}
