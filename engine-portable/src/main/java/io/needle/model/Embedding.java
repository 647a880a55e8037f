package io.needle.model;

import io.needle.safetensors.Float16;

/**
 * The token embedding table E [vocab, d], shared by the encoder input, the decoder input and the
 * output projection (tied logits). Kept 16-bit (BF16 or F16 bits) as in the file; F32 files keep
 * float values.
 */
public final class Embedding {
    /** How the 16-bit values are encoded. */
    public enum Format { BF16, F16, F32 }

    private final int vocab;
    private final int dim;
    private final Format format;
    private final short[] half; // BF16/F16 bits, [vocab, dim]
    private final float[] full; // F32 values, [vocab, dim]
    private final float[] f16Table; // F16 bits → float, for Format.F16

    private Embedding(int vocab, int dim, Format format, short[] half, float[] full) {
        this.vocab = vocab;
        this.dim = dim;
        this.format = format;
        this.half = half;
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

    public static Embedding ofHalf(int vocab, int dim, Format format, short[] bits) {
        return new Embedding(vocab, dim, format, bits, null);
    }

    public static Embedding ofFloat(int vocab, int dim, float[] values) {
        return new Embedding(vocab, dim, Format.F32, null, values);
    }

    public int vocab() {
        return vocab;
    }

    public int dim() {
        return dim;
    }

    /** E[token][i]. */
    public float value(int token, int i) {
        int k = token * dim + i;
        switch (format) {
            case BF16:
                return Float.intBitsToFloat(half[k] << 16);
            case F16:
                return f16Table[half[k] & 0xffff];
            default:
                return full[k];
        }
    }

    /** out[off + i] = E[token][i] * scale. */
    public void lookup(int token, float scale, float[] out, int off) {
        for (int i = 0; i < dim; i++) {
            out[off + i] = value(token, i) * scale;
        }
    }

    /** logits[v] = h · E[v] for every v (the tied output projection). */
    public void logits(float[] h, float[] logits) {
        for (int v = 0; v < vocab; v++) {
            int base = v * dim;
            float sum = 0f;
            if (format == Format.BF16) {
                for (int i = 0; i < dim; i++) {
                    sum += h[i] * Float.intBitsToFloat(half[base + i] << 16);
                }
            } else if (format == Format.F16) {
                for (int i = 0; i < dim; i++) {
                    sum += h[i] * f16Table[half[base + i] & 0xffff];
                }
            } else {
                for (int i = 0; i < dim; i++) {
                    sum += h[i] * full[base + i];
                }
            }
            logits[v] = sum;
        }
    }
}
