package io.needle.model;

import io.needle.safetensors.Float16;

/**
 * The token embedding table E [vocab, d], shared by the encoder input, the decoder input and the
 * output projection (tied logits). BF16 and F16 tables are read in place from the weight file's
 * bytes (little-endian 16-bit values; no copy, no float expansion); an F32 table keeps floats.
 *
 * <p>When a host holds the weight file outside the Java heap ({@code safetensors.WeightBytes}) a
 * 16-bit table has no bytes here: the host's {@link LogitsKernel} computes the logits and serves
 * the row look-ups ({@link LogitsKernel#lookup}), and the portable loops fail loudly instead of
 * reading anything.
 */
public final class Embedding {
    /** How the values are encoded. */
    public enum Format { BF16, F16, F32 }

    private final int vocab;
    private final int dim;
    private final Format format;
    private final byte[] bytes; // the weight file (BF16/F16); null when a host holds it
    private final int offset; // where the table starts in bytes
    private final float[] full; // F32 values, [vocab, dim]
    private final float[] f16Table; // F16 bits → float, for Format.F16
    private LogitsKernel kernel; // a host's faster output projection (Kernels), or null

    private Embedding(int vocab, int dim, Format format, byte[] bytes, int offset, float[] full) {
        this.vocab = vocab;
        this.dim = dim;
        this.format = format;
        this.bytes = bytes;
        this.offset = offset;
        this.full = full;
        if (format == Format.F16) {
            f16Table = new float[65536];
            for (int i = 0; i < 65536; i++) {
                f16Table[i] = Float16.f16ToFloat((short) i);
            }
        } else {
            f16Table = null;
        }
    }

    /**
     * A BF16 or F16 table stored at {@code offset} in {@code bytes} (kept by reference); bytes null:
     * a host holds the file, and its kernel must serve this table (see the class comment).
     */
    public static Embedding ofHalf(int vocab, int dim, Format format, byte[] bytes, int offset) {
        return new Embedding(vocab, dim, format, bytes, offset, null);
    }

    public static Embedding ofFloat(int vocab, int dim, float[] values) {
        return new Embedding(vocab, dim, Format.F32, null, 0, values);
    }

    public int vocab() {
        return vocab;
    }

    public int dim() {
        return dim;
    }

    public Format format() {
        return format;
    }

    /** The weight file's bytes holding a BF16/F16 table (null for F32, and when a host holds the file). */
    public byte[] bytes() {
        return bytes;
    }

    /** Where the BF16/F16 table starts in {@link #bytes()}. */
    public int offset() {
        return offset;
    }

    /**
     * Routes {@link #logits} and {@link #logitsAt} to a host's faster kernel (which must compute
     * the same floats), or back to the portable loops with null. Set once, at load, by NeedleModel.installKernels.
     */
    void kernel(LogitsKernel kernel) {
        this.kernel = kernel;
    }

    /** The host kernel in use, or null for the portable loops. */
    public LogitsKernel kernel() {
        return kernel;
    }

    /** E[token][i]. */
    public float value(int token, int i) {
        requireBytes();
        int k = token * dim + i;
        switch (format) {
            case BF16:
                return bf16At(offset + 2 * k);
            case F16:
                return f16At(offset + 2 * k);
            default:
                return full[k];
        }
    }

    private float bf16At(int p) {
        return Float.intBitsToFloat(((bytes[p + 1] & 0xff) << 24) | ((bytes[p] & 0xff) << 16));
    }

    private float f16At(int p) {
        return f16Table[((bytes[p + 1] & 0xff) << 8) | (bytes[p] & 0xff)];
    }

    /** out[off + i] = E[token][i] * scale. */
    public void lookup(int token, float scale, float[] out, int off) {
        if (kernel != null && kernel.lookup(token, scale, out, off)) {
            return;
        }
        requireBytes();
        for (int i = 0; i < dim; i++) {
            out[off + i] = value(token, i) * scale;
        }
    }

    /** logits[v] = h · E[v] for every v (the tied output projection). */
    public void logits(float[] h, float[] logits) {
        logits(h, logits, 0, vocab);
    }

    /**
     * logits[v] = h · E[v] for v in [from, to): each a sum over i in order, four rows at a time
     * (independent sums, so the processor overlaps them; the 16-bit values are decoded in place).
     */
    public void logits(float[] h, float[] logits, int from, int to) {
        if (kernel != null) {
            kernel.logits(h, logits, from, to);
            return;
        }
        requireBytes();
        int v = from;
        if (format == Format.BF16) {
            for (; v + 4 <= to; v += 4) {
                bf16Rows4(h, logits, v);
            }
        }
        for (; v < to; v++) {
            logits[v] = dot(h, v);
        }
    }

    /**
     * logits[ids[k]] = h · E[ids[k]] for k in [0, count), each exactly as {@link #logits(float[], float[])}
     * computes it; other entries are left alone.
     */
    public void logitsAt(float[] h, float[] logits, int[] ids, int count) {
        if (kernel != null) {
            kernel.logitsAt(h, logits, ids, count);
            return;
        }
        requireBytes();
        for (int k = 0; k < count; k++) {
            logits[ids[k]] = dot(h, ids[k]);
        }
    }

    /** Fails when a host holds the 16-bit table and the portable loops were about to read it. */
    private void requireBytes() {
        if (format != Format.F32 && bytes == null) {
            throw new IllegalStateException("the " + format + " embedding [" + vocab + ", " + dim + "] is in the host's"
                    + " memory only (WeightBytes): the portable loops cannot read it, the host's kernel must");
        }
    }

    /** h · E[v], summed over i in order. */
    private float dot(float[] h, int v) {
        float sum = 0f;
        if (format == Format.F32) {
            int base = v * dim;
            for (int i = 0; i < dim; i++) {
                sum += h[i] * full[base + i];
            }
        } else if (format == Format.BF16) {
            int p = offset + 2 * v * dim;
            for (int i = 0; i < dim; i++, p += 2) {
                sum += h[i] * Float.intBitsToFloat((bytes[p + 1] << 24) | ((bytes[p] & 0xff) << 16));
            }
        } else {
            int p = offset + 2 * v * dim;
            for (int i = 0; i < dim; i++, p += 2) {
                sum += h[i] * f16Table[((bytes[p + 1] & 0xff) << 8) | (bytes[p] & 0xff)];
            }
        }
        return sum;
    }

    /** Rows v..v+3 of a BF16 table: bf16 bits are the high half of a float's bits. */
    private void bf16Rows4(float[] h, float[] logits, int v) {
        int row = 2 * dim;
        int p0 = offset + v * row;
        int p1 = p0 + row;
        int p2 = p1 + row;
        int p3 = p2 + row;
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        byte[] b = bytes;
        for (int i = 0; i < dim; i++) {
            float x = h[i];
            int k = 2 * i;
            s0 += x * Float.intBitsToFloat((b[p0 + k + 1] << 24) | ((b[p0 + k] & 0xff) << 16));
            s1 += x * Float.intBitsToFloat((b[p1 + k + 1] << 24) | ((b[p1 + k] & 0xff) << 16));
            s2 += x * Float.intBitsToFloat((b[p2 + k + 1] << 24) | ((b[p2 + k] & 0xff) << 16));
            s3 += x * Float.intBitsToFloat((b[p3 + k + 1] << 24) | ((b[p3 + k] & 0xff) << 16));
        }
        logits[v] = s0;
        logits[v + 1] = s1;
        logits[v + 2] = s2;
        logits[v + 3] = s3;
    }
}
