package io.needle.jvm;

import io.needle.model.Embedding;
import io.needle.model.Int4Kernel;
import io.needle.model.Int4Linear;
import io.needle.model.LogitsKernel;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API code of {@link VectorKernels}, in a class of its own: it is loaded only after
 * {@link VectorKernels#available()} found the module {@code jdk.incubator.vector}, so a JVM
 * without it never touches a Vector class.
 *
 * <p>Every vector lane holds a different output value (an output column of a linear, a
 * vocabulary row of the logits) and runs exactly the portable kernels' float operations for it,
 * in their order: a multiply and an add stay two roundings (never a fused multiply-add), nothing
 * is summed across lanes. So the floats are the portable kernels' bit for bit.
 */
final class VectorCode {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector (16 with AVX-512, 8 with AVX2). */
    static final int L = F.length();
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final VectorSpecies<Byte> B = L >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    static final VectorSpecies<Short> S = L >= 8 ? VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16)) : null;

    private VectorCode() {
    }

    /** Whether this JVM's vectors are wide enough for these kernels (8 floats or more). */
    static boolean usable() {
        return L >= 8 && B != null && S != null;
    }

    static String describe() {
        return L + " float lanes (" + F.vectorBitSize() + "-bit vectors)";
    }

    // ------------------------------------------------------------------ INT4 linears

    /** Per thread: the unpacked weight rows of one group (many-rows kernel). */
    private static final ThreadLocal<float[][]> UNPACKED = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    /** The INT4 kernel of {@code linear}, or null for shapes left to the portable code. */
    static Int4Kernel int4(Int4Linear linear) {
        int in = linear.in();
        int out = linear.out();
        int gs = linear.groupSize();
        if (in % 2 != 0 || (gs % 2 != 0 && gs < in)) {
            return null;
        }
        byte[] p = linear.packedBytes();
        int po = linear.packedOffset();
        float[] scales = linear.scales();
        return (x, y, rows) -> {
            if (rows == 1) {
                row(p, po, scales, in, out, gs, x, y);
            } else {
                rows(p, po, scales, in, out, gs, x, y, rows);
            }
        };
    }

    /** The packed byte row (two weight rows) at {@code off}, as floats: {@code u·lo + v·hi} per column. */
    private static FloatVector pair(byte[] p, int off, FloatVector u, FloatVector v) {
        IntVector b = (IntVector) ByteVector.fromArray(B, p, off).convertShape(VectorOperators.B2I, I, 0);
        FloatVector lo = (FloatVector) b.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                .convert(VectorOperators.I2F, 0);
        FloatVector hi = (FloatVector) b.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0);
        return lo.mul(u).add(hi.mul(v));
    }

    /**
     * One input row (a decoder step): per group {@code acc += x[r]·q[r] + x[r+1]·q[r+1]} over the
     * row pairs, then {@code y += acc·scale}, as Int4Linear's table kernel (whose table entry is
     * that very sum); nibbles unpacked in registers, four vectors of columns at a time.
     */
    static void row(byte[] p, int po, float[] scales, int in, int out, int gs, float[] x, float[] y) {
        int c = 0;
        for (; c + 4 * L <= out; c += 4 * L) {
            FloatVector y0 = FloatVector.zero(F);
            FloatVector y1 = y0;
            FloatVector y2 = y0;
            FloatVector y3 = y0;
            for (int r0 = 0; r0 < in; r0 += gs) {
                int r1 = Math.min(in, r0 + gs);
                FloatVector a0 = FloatVector.zero(F);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                for (int r = r0; r < r1; r += 2) {
                    FloatVector u = FloatVector.broadcast(F, x[r]);
                    FloatVector v = FloatVector.broadcast(F, x[r + 1]);
                    int base = po + (r >> 1) * out + c;
                    a0 = a0.add(pair(p, base, u, v));
                    a1 = a1.add(pair(p, base + L, u, v));
                    a2 = a2.add(pair(p, base + 2 * L, u, v));
                    a3 = a3.add(pair(p, base + 3 * L, u, v));
                }
                int so = (r0 / gs) * out + c;
                y0 = y0.add(a0.mul(FloatVector.fromArray(F, scales, so)));
                y1 = y1.add(a1.mul(FloatVector.fromArray(F, scales, so + L)));
                y2 = y2.add(a2.mul(FloatVector.fromArray(F, scales, so + 2 * L)));
                y3 = y3.add(a3.mul(FloatVector.fromArray(F, scales, so + 3 * L)));
            }
            y0.intoArray(y, c);
            y1.intoArray(y, c + L);
            y2.intoArray(y, c + 2 * L);
            y3.intoArray(y, c + 3 * L);
        }
        for (; c + L <= out; c += L) {
            FloatVector y0 = FloatVector.zero(F);
            for (int r0 = 0; r0 < in; r0 += gs) {
                int r1 = Math.min(in, r0 + gs);
                FloatVector a0 = FloatVector.zero(F);
                for (int r = r0; r < r1; r += 2) {
                    a0 = a0.add(pair(p, po + (r >> 1) * out + c, FloatVector.broadcast(F, x[r]),
                            FloatVector.broadcast(F, x[r + 1])));
                }
                y0 = y0.add(a0.mul(FloatVector.fromArray(F, scales, (r0 / gs) * out + c)));
            }
            y0.intoArray(y, c);
        }
        if (c < out) {
            tail(p, po, scales, in, out, gs, x, 0, y, 0, c);
        }
    }

    /** Columns [c0, out) of one input row at x[xo..], one at a time, with the same float operations. */
    private static void tail(byte[] p, int po, float[] scales, int in, int out, int gs, float[] x, int xo, float[] y,
            int yo, int c0) {
        for (int c = c0; c < out; c++) {
            float yc = 0f;
            for (int r0 = 0; r0 < in; r0 += gs) {
                int r1 = Math.min(in, r0 + gs);
                float acc = 0f;
                for (int r = r0; r < r1; r += 2) {
                    int b = p[po + (r >> 1) * out + c];
                    acc += x[xo + r] * ((b << 28) >> 28) + x[xo + r + 1] * (b >> 4);
                }
                yc += acc * scales[(r0 / gs) * out + c];
            }
            y[yo + c] = yc;
        }
    }

    /**
     * Several input rows (the encoder, cross-attention K/V, batched decoder steps): each group of
     * weight rows is unpacked once into float rows, then applied to tiles of 4 input rows × 2
     * vectors of columns held in registers; per output value the same sums as Int4Linear's
     * many-rows kernel ({@code acc += u·lo + v·hi} over the pairs, then {@code y += acc·scale}).
     */
    static void rows(byte[] p, int po, float[] scales, int in, int out, int gs, float[] x, float[] y, int rows) {
        float[][] holder = UNPACKED.get();
        int gmax = Math.min(gs, in);
        if (holder[0].length < gmax * out) {
            holder[0] = new float[gmax * out];
        }
        float[] w = holder[0];
        java.util.Arrays.fill(y, 0, rows * out, 0f);
        int vout = out - out % L; // columns from vout on: one at a time (tail)
        for (int r0 = 0; r0 < in; r0 += gs) {
            int r1 = Math.min(in, r0 + gs);
            int n = r1 - r0;
            for (int k = 0; k < n; k += 2) {
                int base = po + ((r0 + k) >> 1) * out;
                int lo = k * out;
                int hi = lo + out;
                for (int c = 0; c < vout; c += L) {
                    IntVector b = (IntVector) ByteVector.fromArray(B, p, base + c)
                            .convertShape(VectorOperators.B2I, I, 0);
                    b.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                            .convert(VectorOperators.I2F, 0).reinterpretAsFloats().intoArray(w, lo + c);
                    b.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                            .intoArray(w, hi + c);
                }
            }
            int so = (r0 / gs) * out;
            int c = 0;
            for (; c + 2 * L <= vout; c += 2 * L) {
                int t = 0;
                for (; t + 4 <= rows; t += 4) {
                    tile4x2(w, n, out, c, x, in, r0, t, y, scales, so);
                }
                for (; t < rows; t++) {
                    tile1(w, n, out, c, x, in, r0, t, y, scales, so);
                    tile1(w, n, out, c + L, x, in, r0, t, y, scales, so);
                }
            }
            for (; c < vout; c += L) {
                for (int t = 0; t < rows; t++) {
                    tile1(w, n, out, c, x, in, r0, t, y, scales, so);
                }
            }
        }
        if (vout < out) {
            for (int t = 0; t < rows; t++) {
                tail(p, po, scales, in, out, gs, x, t * in, y, t * out, vout);
            }
        }
    }

    /** Input rows t..t+3, columns c..c+2L of one unpacked group w (n rows): y += (Σ u·lo + v·hi) · scale. */
    private static void tile4x2(float[] w, int n, int out, int c, float[] x, int in, int r0, int t, float[] y,
            float[] scales, int so) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a20 = a00;
        FloatVector a21 = a00;
        FloatVector a30 = a00;
        FloatVector a31 = a00;
        int x0 = t * in + r0;
        int x1 = x0 + in;
        int x2 = x1 + in;
        int x3 = x2 + in;
        for (int k = 0; k < n; k += 2) {
            int lo = k * out + c;
            int hi = lo + out;
            FloatVector lo0 = FloatVector.fromArray(F, w, lo);
            FloatVector lo1 = FloatVector.fromArray(F, w, lo + L);
            FloatVector hi0 = FloatVector.fromArray(F, w, hi);
            FloatVector hi1 = FloatVector.fromArray(F, w, hi + L);
            FloatVector u = FloatVector.broadcast(F, x[x0 + k]);
            FloatVector v = FloatVector.broadcast(F, x[x0 + k + 1]);
            a00 = a00.add(lo0.mul(u).add(hi0.mul(v)));
            a01 = a01.add(lo1.mul(u).add(hi1.mul(v)));
            u = FloatVector.broadcast(F, x[x1 + k]);
            v = FloatVector.broadcast(F, x[x1 + k + 1]);
            a10 = a10.add(lo0.mul(u).add(hi0.mul(v)));
            a11 = a11.add(lo1.mul(u).add(hi1.mul(v)));
            u = FloatVector.broadcast(F, x[x2 + k]);
            v = FloatVector.broadcast(F, x[x2 + k + 1]);
            a20 = a20.add(lo0.mul(u).add(hi0.mul(v)));
            a21 = a21.add(lo1.mul(u).add(hi1.mul(v)));
            u = FloatVector.broadcast(F, x[x3 + k]);
            v = FloatVector.broadcast(F, x[x3 + k + 1]);
            a30 = a30.add(lo0.mul(u).add(hi0.mul(v)));
            a31 = a31.add(lo1.mul(u).add(hi1.mul(v)));
        }
        FloatVector s0 = FloatVector.fromArray(F, scales, so + c);
        FloatVector s1 = FloatVector.fromArray(F, scales, so + c + L);
        int y0 = t * out + c; // y += a·scale, written out: a helper taking vectors would box them
        FloatVector.fromArray(F, y, y0).add(a00.mul(s0)).intoArray(y, y0);
        FloatVector.fromArray(F, y, y0 + L).add(a01.mul(s1)).intoArray(y, y0 + L);
        y0 += out;
        FloatVector.fromArray(F, y, y0).add(a10.mul(s0)).intoArray(y, y0);
        FloatVector.fromArray(F, y, y0 + L).add(a11.mul(s1)).intoArray(y, y0 + L);
        y0 += out;
        FloatVector.fromArray(F, y, y0).add(a20.mul(s0)).intoArray(y, y0);
        FloatVector.fromArray(F, y, y0 + L).add(a21.mul(s1)).intoArray(y, y0 + L);
        y0 += out;
        FloatVector.fromArray(F, y, y0).add(a30.mul(s0)).intoArray(y, y0);
        FloatVector.fromArray(F, y, y0 + L).add(a31.mul(s1)).intoArray(y, y0 + L);
    }

    /** Input row t, columns c..c+L: as {@link #tile4x2} for one row and one vector. */
    private static void tile1(float[] w, int n, int out, int c, float[] x, int in, int r0, int t, float[] y,
            float[] scales, int so) {
        FloatVector a = FloatVector.zero(F);
        int xo = t * in + r0;
        for (int k = 0; k < n; k += 2) {
            int lo = k * out + c;
            a = a.add(FloatVector.fromArray(F, w, lo).mul(x[xo + k])
                    .add(FloatVector.fromArray(F, w, lo + out).mul(x[xo + k + 1])));
        }
        int yo = t * out + c;
        FloatVector.fromArray(F, y, yo).add(a.mul(FloatVector.fromArray(F, scales, so + c))).intoArray(y, yo);
    }

    // ------------------------------------------------------------------ logits

    /** The logits kernel of a BF16 embedding, or null (F16, F32: the portable loops). */
    static LogitsKernel logits(Embedding embedding) {
        if (embedding.format() != Embedding.Format.BF16) {
            return null;
        }
        return new Logits(embedding);
    }

    /**
     * The tied output projection over a copy of the BF16 table re-laid in blocks of L rows
     * (element i of the block's L rows side by side), so one lane per vocabulary row sums
     * {@code h[i]·E[v][i]} over i in order, as the portable loops do; rows past the last whole
     * block are summed one by one. The copy is the same 16-bit values (vocab × d × 2 bytes).
     */
    static final class Logits implements LogitsKernel {
        private final int vocab;
        private final int dim;
        private final int blocks; // whole blocks of L rows
        private final short[] blocked; // [blocks][dim][L]
        private final byte[] bytes;
        private final int offset;
        private final ThreadLocal<Work> work;

        /** Per thread: logitsAt's block list and results. */
        private final class Work {
            final int[] stamp = new int[blocks];
            final int[] slot = new int[blocks];
            final int[] list = new int[blocks];
            final float[] results = new float[blocks * L];
            int call;
        }

        Logits(Embedding e) {
            vocab = e.vocab();
            dim = e.dim();
            blocks = vocab / L;
            bytes = e.bytes();
            offset = e.offset();
            blocked = new short[blocks * dim * L];
            for (int v = 0; v < blocks * L; v++) {
                int p = offset + 2 * v * dim;
                int q = (v / L) * dim * L + v % L;
                for (int i = 0; i < dim; i++, p += 2, q += L) {
                    blocked[q] = (short) ((bytes[p] & 0xff) | (bytes[p + 1] << 8));
                }
            }
            work = ThreadLocal.withInitial(Work::new);
        }

        @Override
        public void logits(float[] h, float[] logits, int from, int to) {
            int b0 = (from + L - 1) / L;
            int b1 = Math.max(b0, Math.min(blocks, to / L));
            int v = from;
            for (; v < Math.min(to, b0 * L); v++) {
                logits[v] = dot(h, v);
            }
            int b = b0;
            for (; b + 4 <= b1; b += 4) {
                dot4(h, b, b + 1, b + 2, b + 3, logits, b * L, (b + 1) * L, (b + 2) * L, (b + 3) * L);
            }
            for (; b < b1; b++) {
                dot4(h, b, b, b, b, logits, b * L, b * L, b * L, b * L);
            }
            for (v = Math.max(v, b1 * L); v < to; v++) {
                logits[v] = dot(h, v);
            }
        }

        @Override
        public void logitsAt(float[] h, float[] logits, int[] ids, int count) {
            Work w = work.get();
            int call = ++w.call;
            if (call == 0) { // wrapped: forget every stamp
                java.util.Arrays.fill(w.stamp, 0);
                call = w.call = 1;
            }
            int n = 0;
            for (int k = 0; k < count; k++) {
                int b = ids[k] / L;
                if (b < blocks && w.stamp[b] != call) {
                    w.stamp[b] = call;
                    w.slot[b] = n;
                    w.list[n++] = b;
                }
            }
            float[] r = w.results;
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                dot4(h, w.list[j], w.list[j + 1], w.list[j + 2], w.list[j + 3], r, j * L, (j + 1) * L,
                        (j + 2) * L, (j + 3) * L);
            }
            for (; j < n; j++) {
                int b = w.list[j];
                dot4(h, b, b, b, b, r, j * L, j * L, j * L, j * L);
            }
            for (int k = 0; k < count; k++) {
                int id = ids[k];
                int b = id / L;
                logits[id] = b < blocks ? r[w.slot[b] * L + id % L] : dot(h, id);
            }
        }

        /**
         * The L logits of each of blocks ba..bd into out at oa..od: one lane per row, the sum over
         * i in order (four blocks at once: independent sums the processor overlaps).
         */
        private void dot4(float[] h, int ba, int bb, int bc, int bd, float[] out, int oa, int ob, int oc, int od) {
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            int stride = dim * L;
            int pa = ba * stride;
            int pb = bb * stride;
            int pc = bc * stride;
            int pd = bd * stride;
            for (int i = 0; i < dim; i++) {
                FloatVector x = FloatVector.broadcast(F, h[i]);
                int k = i * L;
                s0 = s0.add(x.mul(bf16(pa + k)));
                s1 = s1.add(x.mul(bf16(pb + k)));
                s2 = s2.add(x.mul(bf16(pc + k)));
                s3 = s3.add(x.mul(bf16(pd + k)));
            }
            s0.intoArray(out, oa);
            s1.intoArray(out, ob);
            s2.intoArray(out, oc);
            s3.intoArray(out, od);
        }

        /** L BF16 values of the blocked copy at q as floats (a BF16 value is the high half of a float). */
        private FloatVector bf16(int q) {
            return ((IntVector) ShortVector.fromArray(S, blocked, q).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }

        /** h · E[v] summed over i in order, from the file's bytes (the portable loop). */
        private float dot(float[] h, int v) {
            float sum = 0f;
            int p = offset + 2 * v * dim;
            for (int i = 0; i < dim; i++, p += 2) {
                sum += h[i] * Float.intBitsToFloat((bytes[p + 1] << 24) | ((bytes[p] & 0xff) << 16));
            }
            return sum;
        }
    }
}
