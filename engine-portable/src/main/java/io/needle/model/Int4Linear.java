package io.needle.model;

/**
 * A group-wise INT4 linear layer kept packed in memory (docs/spec/WEIGHTS.md):
 * {@code W[r][c] = q[r][c] * scale[r / groupSize][c]}, q a signed nibble; byte
 * {@code (r/2)*out + c} holds row r (even) in its low nibble and row r+1 in its high nibble.
 * The packed bytes are the weight file's own (shared, not copied or re-laid out); the file pads
 * the rows to a multiple of the group size, and rows from {@code in} on are never read.
 *
 * <p>Arithmetic (the same for one row and for many, so batched and single computations agree
 * bit for bit): per group of {@code groupSize} input rows and per column,
 * {@code acc = Σ over row pairs of (x[r]·q[r] + x[r+1]·q[r+1])} in row order, then
 * {@code y += acc · scale}, groups in order.
 *
 * <p>Two kernels compute it:
 * <ul>
 *   <li>one input row (a decoder step): for each pair of weight rows a 256-entry table holds
 *       {@code x[r]·q_lo + x[r+1]·q_hi} for every byte value, so each packed byte costs one
 *       table look-up and one add (no nibble unpacking or int-to-float conversion per weight);</li>
 *   <li>several input rows (the encoder): each group of weight rows is unpacked once into float
 *       rows and applied to every input row (the accumulators in a small separate array indexed
 *       from 0: the loop shape the JVM's compiler turns into SIMD code).</li>
 * </ul>
 *
 * <p>When a host holds the weight file outside the Java heap ({@code safetensors.WeightBytes}:
 * the npm package's linear memory) the packed bytes are null: only the host's kernel (see
 * {@link Kernels}) can compute this layer, and the portable kernels fail loudly instead of
 * reading anything.
 */
public final class Int4Linear implements Linear {
    private final int in;
    private final int out;
    private final int groupSize;
    private final byte[] packed; // the file's bytes (shared, not copied); null when a host holds them
    private final int packedOffset; // where this tensor's bytes start in packed
    private float[] scales; // [ceil(in/groupSize), out]; null when only a host reads them (see scalesOffset)
    private final int scalesOffset; // where the file holds the scales as little-endian F32, or -1
    private Int4Kernel kernel; // a host's faster kernel (Kernels), or null: the portable ones below

    public Int4Linear(int in, int out, int groupSize, byte[] packed, int packedOffset, float[] scales) {
        this(in, out, groupSize, packed, packedOffset, scales, -1);
    }

    /**
     * A layer whose group scales the weight file also holds as little-endian F32
     * {@code [ceil(in/groupSize) or more, out]} from byte {@code scalesOffset} (-1: it does not), so
     * that a host's kernel can read them in place; {@code scales} may then be null when the host
     * holds the file (the loader has checked them and makes no Java copy).
     */
    public Int4Linear(int in, int out, int groupSize, byte[] packed, int packedOffset, float[] scales,
            int scalesOffset) {
        if (groupSize <= 0 || (groupSize % 2 != 0 && groupSize < in)) {
            throw new io.needle.base.NeedleException(io.needle.base.NeedleException.Kind.CONFIG,
                    "bad model config: an INT4 group size must be positive and even (or cover all "
                    + in + " rows), got " + groupSize);
        }
        this.in = in;
        this.out = out;
        this.groupSize = groupSize;
        this.packed = packed;
        this.packedOffset = packedOffset;
        this.scales = scales;
        this.scalesOffset = scalesOffset;
    }

    @Override
    public int in() {
        return in;
    }

    @Override
    public int out() {
        return out;
    }

    public int groupSize() {
        return groupSize;
    }

    /** The file bytes holding the packed nibbles (shared), or null when a host holds the file (see above). */
    public byte[] packedBytes() {
        return packed;
    }

    /** Where this tensor's packed bytes start in {@link #packedBytes()}. */
    public int packedOffset() {
        return packedOffset;
    }

    /**
     * The group scales, [ceil(in/groupSize), out] row-major (shared); null after {@link #dropScales},
     * or when the host holds the file and reads them there ({@link #scalesOffset}).
     */
    public float[] scales() {
        return scales;
    }

    /**
     * Where the weight file holds this layer's group scales as little-endian F32
     * [ceil(in/groupSize), out] row-major (the needle-rs layout's {@code .scale} tensor), for a
     * host's kernel to read them in place; -1 when the file holds them in another dtype.
     */
    public int scalesOffset() {
        return scalesOffset;
    }

    /**
     * Lets go of the Java copy of the group scales, for a layer whose weights are in the host's
     * memory only and whose host kernel took what it needs when it was made (the Wasm SIMD kernels
     * copy 16-bit files' scales into the linear memory as floats; F32 scales never had a Java copy,
     * see {@link #scalesOffset}): the portable kernels cannot compute such a layer anyway.
     */
    void dropScales() {
        if (packed == null && kernel != null) {
            scales = null;
        }
    }

    /** The signed 4-bit value q[r][c]. */
    public int q(int r, int c) {
        int b = packed()[packedOffset + (r >> 1) * out + c];
        return (r & 1) == 0 ? (b << 28) >> 28 : b >> 4;
    }

    /** The dequantized weight W[r][c] = q * scale. */
    public float weight(int r, int c) {
        return q(r, c) * scales[(r / groupSize) * out + c];
    }

    /**
     * Routes {@link #forward} to a host's faster kernel (which must compute the same floats), or
     * back to the portable kernels with null. Set once, at load, by NeedleModel.installKernels.
     */
    void kernel(Int4Kernel kernel) {
        this.kernel = kernel;
    }

    /** The host kernel in use, or null for the portable kernels. */
    public Int4Kernel kernel() {
        return kernel;
    }

    @Override
    public void forward(float[] x, float[] y, int rows, Scratch scratch) {
        if (kernel != null) {
            if (rows > 0) {
                kernel.forward(x, y, rows);
            }
        } else if (rows == 1) {
            packed();
            vector(x, y, scratch);
        } else if (rows > 1) {
            packed();
            matrix(x, y, rows, scratch);
        }
    }

    /** The packed bytes for the portable kernels; fails when only a host's kernel holds them. */
    private byte[] packed() {
        if (packed == null) {
            throw new IllegalStateException("this INT4 linear [" + in + ", " + out + "] has its weights in the host's"
                    + " memory only (WeightBytes): the portable kernels cannot compute it, the host's kernel must");
        }
        return packed;
    }

    /** One input row: table look-up per packed byte. */
    private void vector(float[] x, float[] y, Scratch scratch) {
        float[] acc = scratch.floats(Scratch.ACC0, out);
        float[] lut = scratch.floats(Scratch.LUT, 256 + 32);
        for (int c = 0; c < out; c++) {
            y[c] = 0f;
        }
        for (int r0 = 0; r0 < in; r0 += groupSize) {
            int r1 = Math.min(in, r0 + groupSize);
            for (int c = 0; c < out; c++) {
                acc[c] = 0f;
            }
            for (int r = r0; r < r1; r += 2) {
                pairTable(lut, x[r], r + 1 < in ? x[r + 1] : 0f);
                int base = packedOffset + (r >> 1) * out;
                for (int c = 0; c < out; c++) {
                    acc[c] += lut[packed[base + c] & 0xff];
                }
            }
            int so = (r0 / groupSize) * out;
            for (int c = 0; c < out; c++) {
                y[c] += acc[c] * scales[so + c];
            }
        }
    }

    /**
     * lut[b] = x0·lo(b) + x1·hi(b) for every byte b (lo, hi: its signed low and high nibbles),
     * built from the 16 products of each nibble value; lut[256..288) is work space.
     */
    private static void pairTable(float[] lut, float x0, float x1) {
        for (int v = 0; v < 16; v++) {
            int q = (v << 28) >> 28;
            lut[256 + v] = x0 * q;
            lut[272 + v] = x1 * q;
        }
        for (int hi = 0; hi < 16; hi++) {
            float h = lut[272 + hi];
            int o = hi << 4;
            for (int lo = 0; lo < 16; lo++) {
                lut[o + lo] = lut[256 + lo] + h;
            }
        }
    }

    /** Several input rows: each group of weight rows is unpacked once, then used for every row. */
    private void matrix(float[] x, float[] y, int rows, Scratch scratch) {
        float[][] w = scratch.weightRows((groupSize + 1) & ~1, out); // rows unpacked in pairs: an odd group needs one more
        float[] a0 = scratch.floats(Scratch.ACC0, out);
        float[] sc = scratch.floats(Scratch.LUT, out);
        float[] row = scratch.floats(Scratch.ROW, out);
        for (int i = 0; i < rows * out; i++) {
            y[i] = 0f;
        }
        for (int r0 = 0; r0 < in; r0 += groupSize) {
            int r1 = Math.min(in, r0 + groupSize);
            int n = r1 - r0; // rows in this group; unpacked pairwise (a missing odd row is 0)
            for (int k = 0; k < n; k += 2) {
                float[] lo = w[k];
                float[] hi = w[k + 1];
                int base = packedOffset + ((r0 + k) >> 1) * out;
                for (int c = 0; c < out; c++) {
                    int b = packed[base + c];
                    lo[c] = (b << 28) >> 28;
                    hi[c] = b >> 4;
                }
            }
            System.arraycopy(scales, (r0 / groupSize) * out, sc, 0, out);
            for (int t = 0; t < rows; t++) {
                group1(x, t, r0, n, w, a0);
                addScaled(y, t, a0, sc, row);
            }
        }
    }

    private void group1(float[] x, int t, int r0, int n, float[][] w, float[] a) {
        for (int c = 0; c < out; c++) {
            a[c] = 0f;
        }
        int xo = t * in + r0;
        for (int k = 0; k < n; k += 2) {
            float u = x[xo + k];
            float v = r0 + k + 1 < in ? x[xo + k + 1] : 0f;
            pairs1(w[k], w[k + 1], a, u, v, out);
        }
    }

    /**
     * a[c] += u·lo[c] + v·hi[c] for c in [0, n): one stored array per loop, every array indexed
     * from 0 (the loop shape the JVM's compiler turns into SIMD code; two stored arrays in one
     * loop, or arrays at different offsets, stay scalar).
     */
    private static void pairs1(float[] lo, float[] hi, float[] a, float u, float v, int n) {
        for (int c = 0; c < n; c++) {
            a[c] += u * lo[c] + v * hi[c];
        }
    }

    /** y[t][c] += a[c] · sc[c], through the row buffer {@code row} (keeps the loop SIMD-friendly). */
    private void addScaled(float[] y, int t, float[] a, float[] sc, float[] row) {
        int yo = t * out;
        System.arraycopy(y, yo, row, 0, out);
        for (int c = 0; c < out; c++) {
            row[c] += a[c] * sc[c];
        }
        System.arraycopy(row, 0, y, yo, out);
    }
}
