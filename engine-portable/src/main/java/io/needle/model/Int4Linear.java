package io.needle.model;

/**
 * A group-wise INT4 linear layer kept packed in memory (MODEL.md section 4):
 * {@code W[r][c] = q[r][c] * scale[r / groupSize][c]}, q a signed nibble; byte
 * {@code (r/2)*out + c} holds row r (even) in its low nibble and row r+1 in its high nibble.
 *
 * <p>The kernel walks W one pair of rows at a time (the file's order, so memory is read
 * sequentially), unpacks that pair once and applies it to every input row, accumulating each
 * group of {@code groupSize} rows before multiplying by the group's scale.
 */
public final class Int4Linear implements Linear {
    private final int in;
    private final int out;
    private final int groupSize;
    private final byte[] packed; // the file's bytes (shared, not copied)
    private final int packedOffset; // where this tensor's bytes start in packed
    private final float[] scales; // [ceil(in/groupSize), out]

    public Int4Linear(int in, int out, int groupSize, byte[] packed, int packedOffset, float[] scales) {
        if (groupSize % 2 != 0) {
            throw new io.needle.engine.NeedleException(io.needle.engine.NeedleException.Kind.CONFIG,
                    "bad model config: group_size must be even, got " + groupSize);
        }
        this.in = in;
        this.out = out;
        this.groupSize = groupSize;
        this.packed = packed;
        this.packedOffset = packedOffset;
        this.scales = scales;
    }

    @Override
    public int in() {
        return in;
    }

    @Override
    public int out() {
        return out;
    }

    /** The signed 4-bit value q[r][c]. */
    public int q(int r, int c) {
        int b = packed[packedOffset + (r >> 1) * out + c];
        return (r & 1) == 0 ? (b << 28) >> 28 : b >> 4;
    }

    /** The dequantized weight W[r][c] = q * scale. */
    public float weight(int r, int c) {
        return q(r, c) * scales[(r / groupSize) * out + c];
    }

    @Override
    public void forward(float[] x, float[] y, int rows) {
        float[] lo = new float[out];
        float[] hi = new float[out];
        float[] acc = new float[rows * out];
        for (int i = 0; i < rows * out; i++) {
            y[i] = 0f;
        }
        int groups = (in + groupSize - 1) / groupSize;
        for (int g = 0; g < groups; g++) {
            int r0 = g * groupSize;
            int r1 = Math.min(in, r0 + groupSize);
            for (int i = 0; i < rows * out; i++) {
                acc[i] = 0f;
            }
            for (int r = r0; r < r1; r += 2) {
                unpackRowPair(r, lo, hi);
                boolean hasOdd = r + 1 < in;
                for (int t = 0; t < rows; t++) {
                    float x0 = x[t * in + r];
                    float x1 = hasOdd ? x[t * in + r + 1] : 0f;
                    int ao = t * out;
                    for (int c = 0; c < out; c++) {
                        acc[ao + c] += x0 * lo[c] + x1 * hi[c];
                    }
                }
            }
            int so = g * out;
            for (int t = 0; t < rows; t++) {
                int ao = t * out;
                for (int c = 0; c < out; c++) {
                    y[ao + c] += acc[ao + c] * scales[so + c];
                }
            }
        }
    }

    private void unpackRowPair(int r, float[] lo, float[] hi) {
        int base = packedOffset + (r >> 1) * out;
        for (int c = 0; c < out; c++) {
            int b = packed[base + c];
            lo[c] = (b << 28) >> 28;
            hi[c] = b >> 4;
        }
    }
}
