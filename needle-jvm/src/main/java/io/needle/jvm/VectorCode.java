package io.needle.jvm;

import io.needle.model.Attention;
import io.needle.model.AttentionKernel;
import io.needle.model.Embedding;
import io.needle.model.Exp;
import io.needle.model.Int4Kernel;
import io.needle.model.Int4Linear;
import io.needle.model.LogitsKernel;
import java.util.Random;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
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
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
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

    // ------------------------------------------------------------------ cold start

    /*
     * Until the JIT's optimizing compiler has compiled a Vector API method, it runs as plain Java
     * that allocates every vector: tens of times slower than the portable loops, with hundreds of
     * MB of garbage (a fresh process's first request took 4x longer and 5x the memory). So each
     * kernel runs the portable code (the same floats, so switching changes no token) until a
     * warm-up thread has run its vector code on a small problem of its own and timed it faster
     * than the portable code on the same problem. That thread starts once the INT4 linears have
     * done WARM_UP_AFTER_MACS multiply-adds in the portable code (three or four short requests,
     * or the first layers of one long prompt: a process that answers one short request and exits
     * never pays for it, one that encodes a thousand tokens switches within its request), or at
     * VectorKernels.warmUp().
     */
    static final long WARM_UP_AFTER_MACS = 2_000_000_000L;
    private static long coldMacs;
    static volatile boolean rowHot;
    static volatile boolean rowsHot;
    static volatile boolean logitsHot;
    static volatile boolean attentionHot;
    private static Thread warmer;
    /** Longest the warm-up tries before it leaves the portable kernels in place for good. */
    private static final long WARM_UP_LIMIT_NANOS = 30_000_000_000L;

    private static final ThreadLocal<io.needle.model.Scratch> SCRATCH = ThreadLocal.withInitial(io.needle.model.Scratch::new);

    /** Starts the warm-up thread once per process (a daemon; a few hundred ms of one core). */
    static synchronized void startWarmUp() {
        if (warmer == null) {
            warmer = new Thread(VectorCode::warmUp, "needle-vector-warm-up");
            warmer.setDaemon(true);
            warmer.setPriority(Thread.MIN_PRIORITY);
            warmer.start();
        }
    }

    /** Waits until the warm-up has finished (every kernel switched, or the time limit reached). */
    static void awaitWarmUp() throws InterruptedException {
        startWarmUp();
        warmer.join();
    }

    /** Every kernel on the vector code from now on, warm or not (tests). */
    static void forceHot() {
        rowHot = rowsHot = logitsHot = attentionHot = true;
    }

    static boolean hot() {
        return rowHot && rowsHot && logitsHot && attentionHot;
    }

    /** A kernel's vector and portable runs on the warm-up's own problem. */
    private interface Trial {
        void vector();

        void portable();
    }

    private static void warmUp() {
        long deadline = System.nanoTime() + WARM_UP_LIMIT_NANOS;
        Random rnd = new Random(1);
        int in = 512;
        int out = 256;
        byte[] p = new byte[in / 2 * out];
        rnd.nextBytes(p);
        float[] scales = new float[in / 32 * out];
        java.util.Arrays.fill(scales, 0.01f);
        Int4Linear lin = new Int4Linear(in, out, 32, p, 0, scales);
        io.needle.model.Scratch scratch = new io.needle.model.Scratch();
        float[] x = new float[16 * in];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] y = new float[16 * out];
        if (warm(deadline, new Trial() {
            public void vector() {
                row(p, 0, scales, in, out, 32, x, y);
            }

            public void portable() {
                lin.forward(x, y, 1, scratch);
            }
        })) {
            rowHot = true;
        }
        if (warm(deadline, new Trial() {
            public void vector() {
                rows(p, 0, scales, in, out, 32, x, y, 16);
            }

            public void portable() {
                lin.forward(x, y, 16, scratch);
            }
        })) {
            rowsHot = true;
        }
        int vocab = 64 * L;
        int dim = 128;
        byte[] e = new byte[2 * vocab * dim];
        rnd.nextBytes(e);
        for (int i = 1; i < e.length; i += 2) {
            e[i] &= (byte) 0xbf; // no NaN or infinite values
        }
        Logits logits = new Logits(Embedding.ofHalf(vocab, dim, Embedding.Format.BF16, e, 0));
        Embedding table = Embedding.ofHalf(vocab, dim, Embedding.Format.BF16, e, 0);
        float[] h = java.util.Arrays.copyOf(x, dim);
        float[] l = new float[vocab];
        short[] blocked = logits.blocked();
        if (warm(deadline, new Trial() {
            public void vector() {
                for (int b = 0; b + 4 <= vocab / L; b += 4) {
                    logits.dot4(blocked, h, b, b + 1, b + 2, b + 3, l, b * L, (b + 1) * L, (b + 2) * L, (b + 3) * L);
                }
            }

            public void portable() {
                table.logits(h, l);
            }
        })) {
            logitsHot = true;
        }
        int heads = 4;
        int hd = 4 * L;
        int keys = 48;
        int kStride = (keys + 15) / 16 * 16;
        float[] keysT = new float[2 * hd * kStride];
        float[] values = new float[keys * 2 * hd];
        for (int r = 0; r < 2 * hd; r++) {
            for (int j = 0; j < keys; j++) {
                keysT[r * kStride + j] = (float) rnd.nextGaussian() * 0.1f;
            }
        }
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        int queries = 5; // a block of four rows and a single one
        float[] qs = new float[queries * heads * hd];
        for (int i = 0; i < qs.length; i++) {
            qs[i] = (float) rnd.nextGaussian();
        }
        float[] ctx = new float[qs.length];
        AttendWork work = new AttendWork().fit(keys);
        Attention.CoreWork coreWork = new Attention.CoreWork();
        Attention a = new Attention(null, null, null, null, null, null, heads, 2, hd);
        if (warm(deadline, new Trial() {
            public void vector() {
                attend(heads, 2, hd, qs, queries, 0, keysT, kStride, values, keys, null, false, ctx, work);
            }

            public void portable() {
                a.core(qs, 0, queries, 0, keysT, kStride, values, keys, null, false, ctx, coreWork);
            }
        })) {
            attentionHot = true;
        }
    }

    /**
     * Runs the trial's vector code until, three checks in a row, one call of it takes less time
     * than one call of the portable code; false when the deadline comes first.
     */
    private static boolean warm(long deadline, Trial trial) {
        int faster = 0;
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < 50; i++) {
                trial.vector();
                trial.portable();
            }
            long t0 = System.nanoTime();
            trial.vector();
            long t1 = System.nanoTime();
            trial.portable();
            long t2 = System.nanoTime();
            faster = t1 - t0 < t2 - t1 ? faster + 1 : 0;
            if (faster == 3) {
                return true;
            }
        }
        return false;
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
        // the portable kernels on the same bytes (no copy), while the vector code is cold
        Int4Linear portable = new Int4Linear(in, out, gs, p, po, scales);
        return (x, y, rows) -> {
            if (rows == 1 ? !rowHot : !rowsHot) {
                coldMacs += (long) rows * in * out; // racy sum: only roughly WARM_UP_AFTER_MACS
                if (coldMacs >= WARM_UP_AFTER_MACS) {
                    startWarmUp(); // once per process
                }
                portable.forward(x, y, rows, SCRATCH.get());
            } else if (rows == 1) {
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
     * weight rows is unpacked once into float rows, then applied to tiles of 4 input rows × 4
     * vectors of columns held in registers (the rest one row and one vector at a time); per output value the same sums as Int4Linear's
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
            for (; c + 4 * L <= vout; c += 4 * L) {
                int t = 0;
                for (; t + 4 <= rows; t += 4) {
                    tile4x4(w, n, out, c, x, in, r0, t, y, scales, so);
                }
                for (; t < rows; t++) {
                    for (int q = 0; q < 4; q++) {
                        tile1(w, n, out, c + q * L, x, in, r0, t, y, scales, so);
                    }
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

    /**
     * Input rows t..t+3, columns c..c+4L of one unpacked group w (n rows): y += (Σ u·lo + v·hi) ·
     * scale, 16 accumulators (26 of AVX-512's 32 vector registers; 6-12% faster on 128×512×512
     * than tiles of 4 rows × 2 vectors, which load twice as often per multiply-add).
     */
    private static void tile4x4(float[] w, int n, int out, int c, float[] x, int in, int r0, int t, float[] y,
            float[] scales, int so) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int x0 = t * in + r0;
        int x1 = x0 + in;
        int x2 = x1 + in;
        int x3 = x2 + in;
        for (int k = 0; k < n; k += 2) {
            int lo = k * out + c;
            int hi = lo + out;
            FloatVector lo0 = FloatVector.fromArray(F, w, lo);
            FloatVector lo1 = FloatVector.fromArray(F, w, lo + L);
            FloatVector lo2 = FloatVector.fromArray(F, w, lo + 2 * L);
            FloatVector lo3 = FloatVector.fromArray(F, w, lo + 3 * L);
            FloatVector hi0 = FloatVector.fromArray(F, w, hi);
            FloatVector hi1 = FloatVector.fromArray(F, w, hi + L);
            FloatVector hi2 = FloatVector.fromArray(F, w, hi + 2 * L);
            FloatVector hi3 = FloatVector.fromArray(F, w, hi + 3 * L);
            FloatVector u = FloatVector.broadcast(F, x[x0 + k]);
            FloatVector v = FloatVector.broadcast(F, x[x0 + k + 1]);
            a00 = a00.add(lo0.mul(u).add(hi0.mul(v)));
            a01 = a01.add(lo1.mul(u).add(hi1.mul(v)));
            a02 = a02.add(lo2.mul(u).add(hi2.mul(v)));
            a03 = a03.add(lo3.mul(u).add(hi3.mul(v)));
            u = FloatVector.broadcast(F, x[x1 + k]);
            v = FloatVector.broadcast(F, x[x1 + k + 1]);
            a10 = a10.add(lo0.mul(u).add(hi0.mul(v)));
            a11 = a11.add(lo1.mul(u).add(hi1.mul(v)));
            a12 = a12.add(lo2.mul(u).add(hi2.mul(v)));
            a13 = a13.add(lo3.mul(u).add(hi3.mul(v)));
            u = FloatVector.broadcast(F, x[x2 + k]);
            v = FloatVector.broadcast(F, x[x2 + k + 1]);
            a20 = a20.add(lo0.mul(u).add(hi0.mul(v)));
            a21 = a21.add(lo1.mul(u).add(hi1.mul(v)));
            a22 = a22.add(lo2.mul(u).add(hi2.mul(v)));
            a23 = a23.add(lo3.mul(u).add(hi3.mul(v)));
            u = FloatVector.broadcast(F, x[x3 + k]);
            v = FloatVector.broadcast(F, x[x3 + k + 1]);
            a30 = a30.add(lo0.mul(u).add(hi0.mul(v)));
            a31 = a31.add(lo1.mul(u).add(hi1.mul(v)));
            a32 = a32.add(lo2.mul(u).add(hi2.mul(v)));
            a33 = a33.add(lo3.mul(u).add(hi3.mul(v)));
        }
        FloatVector s0 = FloatVector.fromArray(F, scales, so + c);
        FloatVector s1 = FloatVector.fromArray(F, scales, so + c + L);
        FloatVector s2 = FloatVector.fromArray(F, scales, so + c + 2 * L);
        FloatVector s3 = FloatVector.fromArray(F, scales, so + c + 3 * L);
        int y0 = t * out + c;
        FloatVector.fromArray(F, y, y0).add(a00.mul(s0)).intoArray(y, y0);
        FloatVector.fromArray(F, y, y0 + L).add(a01.mul(s1)).intoArray(y, y0 + L);
        FloatVector.fromArray(F, y, y0 + 2 * L).add(a02.mul(s2)).intoArray(y, y0 + 2 * L);
        FloatVector.fromArray(F, y, y0 + 3 * L).add(a03.mul(s3)).intoArray(y, y0 + 3 * L);
        y0 += out;
        FloatVector.fromArray(F, y, y0).add(a10.mul(s0)).intoArray(y, y0);
        FloatVector.fromArray(F, y, y0 + L).add(a11.mul(s1)).intoArray(y, y0 + L);
        FloatVector.fromArray(F, y, y0 + 2 * L).add(a12.mul(s2)).intoArray(y, y0 + 2 * L);
        FloatVector.fromArray(F, y, y0 + 3 * L).add(a13.mul(s3)).intoArray(y, y0 + 3 * L);
        y0 += out;
        FloatVector.fromArray(F, y, y0).add(a20.mul(s0)).intoArray(y, y0);
        FloatVector.fromArray(F, y, y0 + L).add(a21.mul(s1)).intoArray(y, y0 + L);
        FloatVector.fromArray(F, y, y0 + 2 * L).add(a22.mul(s2)).intoArray(y, y0 + 2 * L);
        FloatVector.fromArray(F, y, y0 + 3 * L).add(a23.mul(s3)).intoArray(y, y0 + 3 * L);
        y0 += out;
        FloatVector.fromArray(F, y, y0).add(a30.mul(s0)).intoArray(y, y0);
        FloatVector.fromArray(F, y, y0 + L).add(a31.mul(s1)).intoArray(y, y0 + L);
        FloatVector.fromArray(F, y, y0 + 2 * L).add(a32.mul(s2)).intoArray(y, y0 + 2 * L);
        FloatVector.fromArray(F, y, y0 + 3 * L).add(a33.mul(s3)).intoArray(y, y0 + 3 * L);
    }

    /** Input row t, columns c..c+L: as {@link #tile4x4} for one row and one vector. */
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

    // ------------------------------------------------------------------ attention

    /** Per thread: the attention's work arrays, taken once per call (not per row and head). */
    private static final class AttendWork {
        float[] scores = new float[0]; // four query rows' scores, each `stride` long
        double[] exps = new double[0]; // their exp arguments and results, keyCount each
        final float[] inv = new float[4]; // 1 / Σ of each row

        AttendWork fit(int keyCount) {
            if (scores.length < scoresLength(keyCount)) {
                scores = new float[scoresLength(keyCount)];
            }
            if (exps.length < 4 * keyCount) {
                exps = new double[4 * keyCount];
            }
            return this;
        }
    }

    private static final ThreadLocal<AttendWork> ATTEND = ThreadLocal.withInitial(AttendWork::new);

    /** The attention core of {@code a}, or null when a head is not a whole number of vectors. */
    static AttentionKernel attention(Attention a) {
        int heads = a.heads();
        int kvHeads = a.kvHeads();
        int hd = a.headDim();
        if (hd % L != 0 || heads % kvHeads != 0) {
            return null;
        }
        return (qs, rows, pos0, keysT, kStride, values, keyCount, keyValid, causal, ctx) -> {
            if (!attentionHot) {
                return false; // the portable loops while the vector code is cold
            }
            attend(heads, kvHeads, hd, qs, rows, pos0, keysT, kStride, values, keyCount, keyValid, causal, ctx,
                    ATTEND.get().fit(keyCount));
            return true;
        };
    }

    /**
     * Attention.core's arithmetic: per query row and head, each score {@code Σ_i q[i]·k[j][i]} in
     * order i (one lane per key), the softmax with the engine's exp ({@link Exp}, in lanes) and double
     * sum, then each context value {@code Σ_j p[j]·v[j][i]} in order j (one lane per dimension).
     * (The exps in double lanes, {@link #exps}: 3.0-3.2 ns per exp against 5.7-7.0 for the scalar
     * loop, the same bits.)
     * Query rows go four at a time ({@link #attend4}: each key or value vector loaded once for
     * four rows), the rest one at a time ({@link #attend1}). Key counts that are not a whole
     * number of vectors are computed in whole vectors where the key rows have room (the stores
     * are allocated in whole vectors; the extra lanes are never read back), else in scalar.
     */
    static void attend(int heads, int kvHeads, int hd, float[] qs, int rows, int pos0, float[] keysT, int kStride,
            float[] values, int keyCount, boolean[] keyValid, boolean causal, float[] ctx, AttendWork work) {
        int group = heads / kvHeads;
        int vecKeys = Math.min((keyCount + L - 1) / L * L, kStride) / L * L; // keys in whole vectors
        int stride = Math.max(vecKeys, keyCount);
        int t = 0;
        for (; t + 4 <= rows; t += 4) {
            for (int h = 0; h < heads; h++) {
                attend4(heads, hd, qs, t, h, pos0, keysT, kStride, values, kvHeads, (h / group), keyCount, vecKeys, stride,
                        keyValid, causal, ctx, work);
            }
        }
        for (; t < rows; t++) {
            for (int h = 0; h < heads; h++) {
                attend1(heads, hd, qs, t, h, pos0, keysT, kStride, values, kvHeads, (h / group), keyCount, vecKeys,
                        keyValid, causal, ctx, work);
            }
        }
    }

    /** The room {@link #attend} needs in its scores array for {@code keyCount} keys. */
    static int scoresLength(int keyCount) {
        return 4 * ((keyCount + L - 1) / L * L);
    }

    /** One query row t, head h. */
    private static void attend1(int heads, int hd, float[] qs, int t, int h, int pos0, float[] keysT, int kStride,
            float[] values, int kvHeads, int kvh, int keyCount, int vecKeys, boolean[] keyValid, boolean causal,
            float[] ctx, AttendWork work) {
        float[] scores = work.scores;
        int qo = (t * heads + h) * hd;
        int kb = kvh * hd;
        int j = 0;
        for (; j + 4 * L <= vecKeys; j += 4 * L) {
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            for (int i = 0; i < hd; i++) {
                FloatVector q = FloatVector.broadcast(F, qs[qo + i]);
                int row = (kb + i) * kStride + j;
                s0 = s0.add(q.mul(FloatVector.fromArray(F, keysT, row)));
                s1 = s1.add(q.mul(FloatVector.fromArray(F, keysT, row + L)));
                s2 = s2.add(q.mul(FloatVector.fromArray(F, keysT, row + 2 * L)));
                s3 = s3.add(q.mul(FloatVector.fromArray(F, keysT, row + 3 * L)));
            }
            s0.intoArray(scores, j);
            s1.intoArray(scores, j + L);
            s2.intoArray(scores, j + 2 * L);
            s3.intoArray(scores, j + 3 * L);
        }
        for (; j + L <= vecKeys; j += L) {
            FloatVector s0 = FloatVector.zero(F);
            for (int i = 0; i < hd; i++) {
                s0 = s0.add(FloatVector.broadcast(F, qs[qo + i]).mul(FloatVector.fromArray(F, keysT, (kb + i) * kStride + j)));
            }
            s0.intoArray(scores, j);
        }
        scalarScores(qs, qo, hd, keysT, kStride, kb, j, keyCount, scores, 0);
        float inv = softmax(scores, 0, keyCount, keyValid, causal, pos0 + t, hd, work.exps);
        for (int i = 0; i < hd; i += L) {
            FloatVector a0 = FloatVector.zero(F);
            for (j = 0; j < keyCount; j++) {
                float pj = scores[j] * inv;
                if (pj != 0f) {
                    a0 = a0.add(FloatVector.broadcast(F, pj).mul(FloatVector.fromArray(F, values, (j * kvHeads + kvh) * hd + i)));
                }
            }
            a0.intoArray(ctx, qo + i);
        }
    }

    /**
     * Query rows t..t+3, head h: the scores in tiles of 4 rows × 2 vectors of keys, then the
     * context in tiles of 4 rows × 2 vectors of dimensions. A key whose weight is 0 for one row
     * but not for another adds {@code 0·v} there, which leaves the sum as it was (it starts at +0
     * and the values are finite), so the floats are those of skipping it.
     */
    private static void attend4(int heads, int hd, float[] qs, int t, int h, int pos0, float[] keysT, int kStride,
            float[] values, int kvHeads, int kvh, int keyCount, int vecKeys, int stride, boolean[] keyValid,
            boolean causal, float[] ctx, AttendWork work) {
        float[] scores = work.scores;
        int qd = heads * hd;
        int q0 = t * qd + h * hd;
        int q1 = q0 + qd;
        int q2 = q1 + qd;
        int q3 = q2 + qd;
        int kb = kvh * hd;
        int r1 = stride;
        int r2 = 2 * stride;
        int r3 = 3 * stride;
        int j = 0;
        for (; j + 2 * L <= vecKeys; j += 2 * L) {
            FloatVector s00 = FloatVector.zero(F);
            FloatVector s01 = s00;
            FloatVector s10 = s00;
            FloatVector s11 = s00;
            FloatVector s20 = s00;
            FloatVector s21 = s00;
            FloatVector s30 = s00;
            FloatVector s31 = s00;
            for (int i = 0; i < hd; i++) {
                int row = (kb + i) * kStride + j;
                FloatVector k0 = FloatVector.fromArray(F, keysT, row);
                FloatVector k1 = FloatVector.fromArray(F, keysT, row + L);
                float a = qs[q0 + i];
                float b = qs[q1 + i];
                float c = qs[q2 + i];
                float d = qs[q3 + i];
                s00 = s00.add(k0.mul(a));
                s01 = s01.add(k1.mul(a));
                s10 = s10.add(k0.mul(b));
                s11 = s11.add(k1.mul(b));
                s20 = s20.add(k0.mul(c));
                s21 = s21.add(k1.mul(c));
                s30 = s30.add(k0.mul(d));
                s31 = s31.add(k1.mul(d));
            }
            s00.intoArray(scores, j);
            s01.intoArray(scores, j + L);
            s10.intoArray(scores, r1 + j);
            s11.intoArray(scores, r1 + j + L);
            s20.intoArray(scores, r2 + j);
            s21.intoArray(scores, r2 + j + L);
            s30.intoArray(scores, r3 + j);
            s31.intoArray(scores, r3 + j + L);
        }
        for (; j + L <= vecKeys; j += L) {
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            for (int i = 0; i < hd; i++) {
                FloatVector k0 = FloatVector.fromArray(F, keysT, (kb + i) * kStride + j);
                s0 = s0.add(k0.mul(qs[q0 + i]));
                s1 = s1.add(k0.mul(qs[q1 + i]));
                s2 = s2.add(k0.mul(qs[q2 + i]));
                s3 = s3.add(k0.mul(qs[q3 + i]));
            }
            s0.intoArray(scores, j);
            s1.intoArray(scores, r1 + j);
            s2.intoArray(scores, r2 + j);
            s3.intoArray(scores, r3 + j);
        }
        scalarScores(qs, q0, hd, keysT, kStride, kb, j, keyCount, scores, 0);
        scalarScores(qs, q1, hd, keysT, kStride, kb, j, keyCount, scores, r1);
        scalarScores(qs, q2, hd, keysT, kStride, kb, j, keyCount, scores, r2);
        scalarScores(qs, q3, hd, keysT, kStride, kb, j, keyCount, scores, r3);
        softmax4(scores, stride, keyCount, keyValid, causal, pos0 + t, hd, work.exps, work.inv);
        float inv0 = work.inv[0];
        float inv1 = work.inv[1];
        float inv2 = work.inv[2];
        float inv3 = work.inv[3];
        int i = 0;
        for (; i + 2 * L <= hd; i += 2 * L) {
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00;
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            FloatVector a20 = a00;
            FloatVector a21 = a00;
            FloatVector a30 = a00;
            FloatVector a31 = a00;
            for (j = 0; j < keyCount; j++) {
                float p0 = scores[j] * inv0;
                float p1 = scores[r1 + j] * inv1;
                float p2 = scores[r2 + j] * inv2;
                float p3 = scores[r3 + j] * inv3;
                if (p0 == 0f && p1 == 0f && p2 == 0f && p3 == 0f) {
                    continue;
                }
                int row = (j * kvHeads + kvh) * hd + i;
                FloatVector v0 = FloatVector.fromArray(F, values, row);
                FloatVector v1 = FloatVector.fromArray(F, values, row + L);
                a00 = a00.add(v0.mul(p0));
                a01 = a01.add(v1.mul(p0));
                a10 = a10.add(v0.mul(p1));
                a11 = a11.add(v1.mul(p1));
                a20 = a20.add(v0.mul(p2));
                a21 = a21.add(v1.mul(p2));
                a30 = a30.add(v0.mul(p3));
                a31 = a31.add(v1.mul(p3));
            }
            a00.intoArray(ctx, q0 + i);
            a01.intoArray(ctx, q0 + i + L);
            a10.intoArray(ctx, q1 + i);
            a11.intoArray(ctx, q1 + i + L);
            a20.intoArray(ctx, q2 + i);
            a21.intoArray(ctx, q2 + i + L);
            a30.intoArray(ctx, q3 + i);
            a31.intoArray(ctx, q3 + i + L);
        }
        for (; i < hd; i += L) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (j = 0; j < keyCount; j++) {
                FloatVector v0 = FloatVector.fromArray(F, values, (j * kvHeads + kvh) * hd + i);
                a0 = a0.add(v0.mul(scores[j] * inv0));
                a1 = a1.add(v0.mul(scores[r1 + j] * inv1));
                a2 = a2.add(v0.mul(scores[r2 + j] * inv2));
                a3 = a3.add(v0.mul(scores[r3 + j] * inv3));
            }
            a0.intoArray(ctx, q0 + i);
            a1.intoArray(ctx, q1 + i);
            a2.intoArray(ctx, q2 + i);
            a3.intoArray(ctx, q3 + i);
        }
    }

    /** Scores of keys j0..keyCount-1 for the query at qs[qo..] one by one, into scores[off + j]. */
    private static void scalarScores(float[] qs, int qo, int hd, float[] keysT, int kStride, int kb, int j0,
            int keyCount, float[] scores, int off) {
        for (int j = j0; j < keyCount; j++) {
            float sj = 0f;
            for (int i = 0; i < hd; i++) {
                sj += qs[qo + i] * keysT[(kb + i) * kStride + j];
            }
            scores[off + j] = sj;
        }
    }

    /**
     * Attention.core's softmax over scores[off..off+keyCount) for a query at position
     * {@code pos}: scaled, masked, {@code exp(s - max)} in place; returns {@code 1 / Σ} (the sum
     * in double, in order).
     */
    private static float softmax(float[] scores, int off, int keyCount, boolean[] keyValid, boolean causal, int pos,
            int hd, double[] x) {
        float scale = (float) (1.0 / Math.sqrt(hd));
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < keyCount; j++) {
            boolean visible = (keyValid == null || keyValid[j]) && (!causal || j <= pos);
            float sc = visible ? scores[off + j] * scale : -Float.MAX_VALUE;
            scores[off + j] = sc;
            if (sc > max) {
                max = sc;
            }
        }
        for (int j = 0; j < keyCount; j++) {
            x[j] = scores[off + j] - max; // the float difference, as Exp.exp(float) receives it
        }
        exps(x, keyCount);
        double sum = 0;
        for (int j = 0; j < keyCount; j++) {
            float e = (float) x[j];
            scores[off + j] = e;
            sum += e;
        }
        return (float) (1.0 / sum);
    }

    /**
     * {@link #softmax} for four query rows at once (at positions pos..pos+3, their scores
     * {@code stride} apart), each row's floats exactly as alone: the loops go over the four
     * rows together so that their maxima and their in-order double sums are four independent
     * chains instead of one after another, and one {@link #exps} call takes all four rows.
     * {@code inv[r]} receives row r's {@code 1 / Σ}.
     */
    private static void softmax4(float[] scores, int stride, int keyCount, boolean[] keyValid, boolean causal, int pos,
            int hd, double[] x, float[] inv) {
        float scale = (float) (1.0 / Math.sqrt(hd));
        int o1 = stride;
        int o2 = 2 * stride;
        int o3 = 3 * stride;
        float m0 = -Float.MAX_VALUE;
        float m1 = m0;
        float m2 = m0;
        float m3 = m0;
        for (int j = 0; j < keyCount; j++) {
            boolean valid = keyValid == null || keyValid[j];
            float s0 = valid && (!causal || j <= pos) ? scores[j] * scale : -Float.MAX_VALUE;
            float s1 = valid && (!causal || j <= pos + 1) ? scores[o1 + j] * scale : -Float.MAX_VALUE;
            float s2 = valid && (!causal || j <= pos + 2) ? scores[o2 + j] * scale : -Float.MAX_VALUE;
            float s3 = valid && (!causal || j <= pos + 3) ? scores[o3 + j] * scale : -Float.MAX_VALUE;
            scores[j] = s0;
            scores[o1 + j] = s1;
            scores[o2 + j] = s2;
            scores[o3 + j] = s3;
            m0 = s0 > m0 ? s0 : m0;
            m1 = s1 > m1 ? s1 : m1;
            m2 = s2 > m2 ? s2 : m2;
            m3 = s3 > m3 ? s3 : m3;
        }
        int x1 = keyCount;
        int x2 = 2 * keyCount;
        int x3 = 3 * keyCount;
        for (int j = 0; j < keyCount; j++) {
            x[j] = scores[j] - m0; // the float difference, as Exp.exp(float) receives it
            x[x1 + j] = scores[o1 + j] - m1;
            x[x2 + j] = scores[o2 + j] - m2;
            x[x3 + j] = scores[o3 + j] - m3;
        }
        exps(x, 4 * keyCount);
        double sum0 = 0;
        double sum1 = 0;
        double sum2 = 0;
        double sum3 = 0;
        for (int j = 0; j < keyCount; j++) {
            float e0 = (float) x[j];
            float e1 = (float) x[x1 + j];
            float e2 = (float) x[x2 + j];
            float e3 = (float) x[x3 + j];
            scores[j] = e0;
            scores[o1 + j] = e1;
            scores[o2 + j] = e2;
            scores[o3 + j] = e3;
            sum0 += e0;
            sum1 += e1;
            sum2 += e2;
            sum3 += e3;
        }
        inv[0] = (float) (1.0 / sum0);
        inv[1] = (float) (1.0 / sum1);
        inv[2] = (float) (1.0 / sum2);
        inv[3] = (float) (1.0 / sum3);
    }

    /**
     * x[j] = Exp.exp(x[j]) for j &lt; n, in double lanes: Exp's recipe operation by operation (the
     * clamps as lane max/min, which pass NaN through as its compares do; 2^k from the bits of t
     * with lane shifts), so the same doubles bit for bit; the last partial vector in scalar.
     * The float↔double conversions stay scalar around it (lane conversions, and blends, were
     * calls in C2 on Java 17: an earlier version with them was no faster than the scalar loop).
     */
    static void exps(double[] x, int n) {
        int j = 0;
        for (; j + D.length() <= n; j += D.length()) {
            DoubleVector y = DoubleVector.fromArray(D, x, j).max(Exp.LOWEST).min(Exp.HIGHEST);
            DoubleVector t = y.mul(Exp.LOG2E).add(Exp.SHIFT);
            DoubleVector k = t.sub(Exp.SHIFT);
            DoubleVector r = y.sub(k.mul(Exp.LN2_HI)).sub(k.mul(Exp.LN2_LO));
            DoubleVector q = DoubleVector.broadcast(D, Exp.C11);
            q = q.mul(r).add(Exp.C10);
            q = q.mul(r).add(Exp.C9);
            q = q.mul(r).add(Exp.C8);
            q = q.mul(r).add(Exp.C7);
            q = q.mul(r).add(Exp.C6);
            q = q.mul(r).add(Exp.C5);
            q = q.mul(r).add(Exp.C4);
            q = q.mul(r).add(Exp.C3);
            q = q.mul(r).add(Exp.C2);
            DoubleVector p = DoubleVector.broadcast(D, 1.0).add(r.add(r.mul(r).mul(q)));
            LongVector bits = (LongVector) t.viewAsIntegralLanes();
            LongVector n0 = bits.sub(Exp.SHIFT_BITS);
            LongVector n1 = n0.lanewise(VectorOperators.ASHR, 1);
            LongVector n2 = n0.sub(n1);
            DoubleVector f1 = (DoubleVector) n1.add(Exp.BIAS).lanewise(VectorOperators.LSHL, 52).viewAsFloatingLanes();
            DoubleVector f2 = (DoubleVector) n2.add(Exp.BIAS).lanewise(VectorOperators.LSHL, 52).viewAsFloatingLanes();
            p.mul(f1).mul(f2).intoArray(x, j);
        }
        for (; j < n; j++) {
            x[j] = Exp.exp(x[j]);
        }
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
        private final short[] blocked; // [blocks][dim][L], made at load
        private final Embedding portable; // the portable loops on the same bytes, while the vector code is cold
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
            portable = Embedding.ofHalf(vocab, dim, Embedding.Format.BF16, bytes, offset);
            work = ThreadLocal.withInitial(Work::new);
            blocked = block(bytes, offset, blocks, dim);
        }

        /**
         * The blocked copy, made at load (the kernels' prepare): a re-layout of the whole table
         * (8.4 MB, a few ms) is load work, not part of a request's first decode step.
         */
        short[] blocked() {
            return blocked;
        }

        private static short[] block(byte[] bytes, int offset, int blocks, int dim) {
            short[] b = new short[blocks * dim * L];
            for (int v = 0; v < blocks * L; v++) {
                int p = offset + 2 * v * dim;
                int q = (v / L) * dim * L + v % L;
                for (int i = 0; i < dim; i++, p += 2, q += L) {
                    b[q] = (short) ((bytes[p] & 0xff) | (bytes[p + 1] << 8));
                }
            }
            return b;
        }

        @Override
        public void logits(float[] h, float[] logits, int from, int to) {
            if (!logitsHot) {
                portable.logits(h, logits, from, to);
                return;
            }
            short[] blocked = blocked();
            int b0 = (from + L - 1) / L;
            int b1 = Math.max(b0, Math.min(blocks, to / L));
            int v = from;
            for (; v < Math.min(to, b0 * L); v++) {
                logits[v] = dot(h, v);
            }
            int b = b0;
            for (; b + 4 <= b1; b += 4) {
                dot4(blocked, h, b, b + 1, b + 2, b + 3, logits, b * L, (b + 1) * L, (b + 2) * L, (b + 3) * L);
            }
            for (; b < b1; b++) {
                dot4(blocked, h, b, b, b, b, logits, b * L, b * L, b * L, b * L);
            }
            for (v = Math.max(v, b1 * L); v < to; v++) {
                logits[v] = dot(h, v);
            }
        }

        @Override
        public void logitsAt(float[] h, float[] logits, int[] ids, int count) {
            if (!logitsHot) {
                portable.logitsAt(h, logits, ids, count);
                return;
            }
            short[] blocked = blocked();
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
                dot4(blocked, h, w.list[j], w.list[j + 1], w.list[j + 2], w.list[j + 3], r, j * L, (j + 1) * L,
                        (j + 2) * L, (j + 3) * L);
            }
            for (; j < n; j++) {
                int b = w.list[j];
                dot4(blocked, h, b, b, b, b, r, j * L, j * L, j * L, j * L);
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
        private void dot4(short[] blocked, float[] h, int ba, int bb, int bc, int bd, float[] out, int oa, int ob, int oc, int od) {
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
                s0 = s0.add(x.mul(bf16(blocked, pa + k)));
                s1 = s1.add(x.mul(bf16(blocked, pb + k)));
                s2 = s2.add(x.mul(bf16(blocked, pc + k)));
                s3 = s3.add(x.mul(bf16(blocked, pd + k)));
            }
            s0.intoArray(out, oa);
            s1.intoArray(out, ob);
            s2.intoArray(out, oc);
            s3.intoArray(out, od);
        }

        /** L BF16 values of the blocked copy at q as floats (a BF16 value is the high half of a float). */
        private static FloatVector bf16(short[] blocked, int q) {
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
