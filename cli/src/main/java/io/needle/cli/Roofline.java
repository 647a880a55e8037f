package io.needle.cli;

import io.needle.model.Config;
import io.needle.model.WeightLoader;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The physical limit of {@code needle bench}: this machine's measured float multiply-add rate and
 * memory bandwidth (one thread and all cores), the work of a workload counted from the model's
 * config, and the time below which no engine can do that work here:
 * {@code max(flops / flop rate, bytes / bandwidth)}. A multiply-add counts as 2 flops.
 *
 * <p>The rates are what plain Java reaches, measured in the same process: "SIMD" is a loop the
 * JIT compiles to vector instructions (the best the portable kernels can hope for on the JVM),
 * "scalar" is independent scalar multiply-adds (what scalar code such as TeaVM's WebAssembly can
 * reach). Bandwidth is a streaming read of an array of the model's size (cache-resident when the
 * caches are large) and of an array much larger than the last-level cache (main memory).
 */
final class Roofline {
    private Roofline() {
    }

    /** Measured rates of this machine. */
    static final class Machine {
        final int cores;
        final double simdGflops;
        final double simdGflopsAll;
        final double scalarGflops;
        final double modelSizeGBps;
        final double modelSizeGBpsAll;
        final double memoryGBps;
        final double memoryGBpsAll;
        final long bigArrayBytes;

        Machine(int cores, double simdGflops, double simdGflopsAll, double scalarGflops, double modelSizeGBps,
                double modelSizeGBpsAll, double memoryGBps, double memoryGBpsAll, long bigArrayBytes) {
            this.cores = cores;
            this.simdGflops = simdGflops;
            this.simdGflopsAll = simdGflopsAll;
            this.scalarGflops = scalarGflops;
            this.modelSizeGBps = modelSizeGBps;
            this.modelSizeGBpsAll = modelSizeGBpsAll;
            this.memoryGBps = memoryGBps;
            this.memoryGBpsAll = memoryGBpsAll;
            this.bigArrayBytes = bigArrayBytes;
        }

        String describe() {
            return String.format("machine: multiply-add %.1f GFLOP/s SIMD one thread, %.1f all %d cores, %.1f scalar;"
                    + " read bandwidth %.1f GB/s one thread at model size (%.1f all cores), %.1f GB/s from"
                    + " memory (%d MB array; %.1f all cores)%n", simdGflops, simdGflopsAll, cores, scalarGflops,
                    modelSizeGBps, modelSizeGBpsAll, memoryGBps, bigArrayBytes >> 20, memoryGBpsAll);
        }

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cores", cores);
            m.put("simd_gflops_1t", BenchCommand.round(simdGflops));
            m.put("simd_gflops_all", BenchCommand.round(simdGflopsAll));
            m.put("scalar_gflops_1t", BenchCommand.round(scalarGflops));
            m.put("model_size_read_gbps_1t", BenchCommand.round(modelSizeGBps));
            m.put("model_size_read_gbps_all", BenchCommand.round(modelSizeGBpsAll));
            m.put("memory_read_gbps_1t", BenchCommand.round(memoryGBps));
            m.put("memory_read_gbps_all", BenchCommand.round(memoryGBpsAll));
            return m;
        }
    }

    /** The arithmetic and memory traffic of one workload, split into encoder and decoder. */
    static final class Work {
        final double encodeFlops;
        final double encodeBytes;
        final double decodeFlops;
        final double decodeBytes;

        Work(double encodeFlops, double encodeBytes, double decodeFlops, double decodeBytes) {
            this.encodeFlops = encodeFlops;
            this.encodeBytes = encodeBytes;
            this.decodeFlops = decodeFlops;
            this.decodeBytes = decodeBytes;
        }
    }

    /**
     * Counts the work of encoding {@code tokens} tokens and decoding {@code steps} steps: the
     * linears as stored in the needle-rs layout ({@link #linearBytes}: INT4, half a byte per weight
     * of the rows padded to a multiple of the group size {@code min(32, in)}, plus a float scale per
     * group and output column), the FFN when the model has one, the 16-bit embedding for the full
     * output projection each step, and the K/V reads of attention.
     */
    static Work work(Config c, int tokens, int steps) {
        int d = c.dModel;
        int hd = c.headDim();
        int qd = c.numHeads * hd;
        int kvd = c.numKvHeads * hd;
        int ff = c.noFeedforward ? 0 : c.ffnDim;
        double t = tokens;
        double attnMacs = (double) d * qd + 2.0 * d * kvd + (double) qd * d; // q, k, v, o projections per token
        double attnBytes = linearBytes(d, qd) + 2 * linearBytes(d, kvd) + linearBytes(qd, d);
        double crossKvMacs = 2.0 * d * kvd;
        double crossQoMacs = (double) d * qd + (double) qd * d;
        double crossQoBytes = linearBytes(d, qd) + linearBytes(qd, d);
        double ffnMacs = 3.0 * d * ff; // gate, up, down
        double ffnBytes = ff == 0 ? 0 : 2 * linearBytes(d, ff) + linearBytes(ff, d);

        double encMacs = c.numEncoderLayers * (t * (attnMacs + ffnMacs) + 2.0 * c.numHeads * hd * t * t)
                + c.numDecoderLayers * t * crossKvMacs;
        double encBytes = c.numEncoderLayers * (attnBytes + ffnBytes) + c.numDecoderLayers * 2 * linearBytes(d, kvd)
                + t * d * 2; // the embedding rows of the input tokens
        double decMacs = 0;
        double decBytes = 0;
        for (int s = 0; s < steps; s++) {
            double keys = s + 1;
            decMacs += c.numDecoderLayers * (attnMacs + crossQoMacs + ffnMacs + 2.0 * c.numHeads * hd * (keys + t))
                    + (double) c.vocabSize * d;
            decBytes += c.numDecoderLayers * (attnBytes + crossQoBytes + ffnBytes + 2.0 * kvd * 4 * (keys + t))
                    + (double) c.vocabSize * d * 2;
        }
        return new Work(2 * encMacs, encBytes, 2 * decMacs, decBytes);
    }

    /**
     * Bytes of an INT4 linear [in, out] in the needle-rs layout (docs/spec/WEIGHTS.md): the packed
     * rows {@code in_pad/2 * out} (in padded to a multiple of {@code g = min(32, in)}) plus the F32
     * scales {@code in_pad/g * out * 4}.
     */
    static double linearBytes(int in, int out) {
        int inPad = WeightLoader.paddedIn(in);
        return (double) ((inPad + 1) / 2) * out + (double) (inPad / WeightLoader.groupSize(in)) * out * 4;
    }

    /** The text lines of one workload's roofline. */
    static String report(String name, Work w, Machine m, double encodeMs, double decodeMs) {
        double encBound = boundMs(w.encodeFlops, w.encodeBytes, m.simdGflops, m.modelSizeGBps);
        double decBound = boundMs(w.decodeFlops, w.decodeBytes, m.simdGflops, m.modelSizeGBps);
        double encScalar = boundMs(w.encodeFlops, w.encodeBytes, m.scalarGflops, m.modelSizeGBps);
        double decScalar = boundMs(w.decodeFlops, w.decodeBytes, m.scalarGflops, m.modelSizeGBps);
        double encAll = boundMs(w.encodeFlops, w.encodeBytes, m.simdGflopsAll, m.modelSizeGBpsAll);
        double decAll = boundMs(w.decodeFlops, w.decodeBytes, m.simdGflopsAll, m.modelSizeGBpsAll);
        return String.format("roofline %-9s encode %.2f GFLOP %.1f MB -> bound %.1f ms one thread SIMD (%.1f scalar,"
                + " %.1f all cores); measured %.1f ms = %.0f%% of the one-thread SIMD roofline (%.0f%% of scalar)%n"
                + "                   decode %.2f GFLOP %.1f MB -> bound %.1f ms one thread SIMD (%.1f scalar,"
                + " %.1f all cores); measured %.1f ms = %.0f%% of the one-thread SIMD roofline (%.0f%% of scalar)%n",
                name, w.encodeFlops / 1e9, w.encodeBytes / 1e6, encBound, encScalar, encAll, encodeMs,
                100 * encBound / encodeMs, 100 * encScalar / encodeMs,
                w.decodeFlops / 1e9, w.decodeBytes / 1e6, decBound, decScalar, decAll, decodeMs,
                100 * decBound / decodeMs, 100 * decScalar / decodeMs);
    }

    /**
     * The warm engine's figures against the bounds: with one thread against the one-thread bound,
     * with more against the all-core bound too (the encode counts the same work: the prompt, the
     * encoder and the decoder's cross-attention K/V).
     */
    static String warmReport(Work w, Machine m, double encodeMs, double decodeMs, int threads) {
        double encBound = boundMs(w.encodeFlops, w.encodeBytes, m.simdGflops, m.modelSizeGBps);
        double decBound = boundMs(w.decodeFlops, w.decodeBytes, m.simdGflops, m.modelSizeGBps);
        double encAll = boundMs(w.encodeFlops, w.encodeBytes, m.simdGflopsAll, m.modelSizeGBpsAll);
        double decAll = boundMs(w.decodeFlops, w.decodeBytes, m.simdGflopsAll, m.modelSizeGBpsAll);
        return threads == 1
                ? String.format("                   warm engine: encode %.1f ms = %.2fx the one-thread bound, decode %.1f ms"
                        + " = %.2fx%n", encodeMs, encodeMs / encBound, decodeMs, decodeMs / decBound)
                : String.format("                   warm engine on %d threads: encode %.1f ms = %.2fx the all-core bound"
                        + " (%.2fx the one-thread one), decode %.1f ms = %.2fx (%.2fx)%n", threads, encodeMs,
                        encodeMs / encAll, encodeMs / encBound, decodeMs, decodeMs / decAll, decodeMs / decBound);
    }

    static Map<String, Object> toJson(String name, Work w, Machine m, double encodeMs, double decodeMs) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("name", name);
        j.put("encode_gflop", BenchCommand.round(w.encodeFlops / 1e9 * 1000) / 1000);
        j.put("encode_mb", BenchCommand.round(w.encodeBytes / 1e6));
        j.put("decode_gflop", BenchCommand.round(w.decodeFlops / 1e9 * 1000) / 1000);
        j.put("decode_mb", BenchCommand.round(w.decodeBytes / 1e6));
        j.put("encode_bound_ms_simd_1t", BenchCommand.round(boundMs(w.encodeFlops, w.encodeBytes, m.simdGflops, m.modelSizeGBps)));
        j.put("decode_bound_ms_simd_1t", BenchCommand.round(boundMs(w.decodeFlops, w.decodeBytes, m.simdGflops, m.modelSizeGBps)));
        j.put("encode_bound_ms_scalar_1t", BenchCommand.round(boundMs(w.encodeFlops, w.encodeBytes, m.scalarGflops, m.modelSizeGBps)));
        j.put("decode_bound_ms_scalar_1t", BenchCommand.round(boundMs(w.decodeFlops, w.decodeBytes, m.scalarGflops, m.modelSizeGBps)));
        j.put("encode_bound_ms_all", BenchCommand.round(boundMs(w.encodeFlops, w.encodeBytes, m.simdGflopsAll, m.modelSizeGBpsAll)));
        j.put("decode_bound_ms_all", BenchCommand.round(boundMs(w.decodeFlops, w.decodeBytes, m.simdGflopsAll, m.modelSizeGBpsAll)));
        return j;
    }

    static double boundMs(double flops, double bytes, double gflops, double gbps) {
        return Math.max(flops / (gflops * 1e6), bytes / (gbps * 1e6));
    }

    // ------------------------------------------------------------------ microbenchmarks

    /** Measures the machine (a few seconds; {@code quick}: smaller, shorter). */
    static Machine measure(boolean quick) {
        int cores = Runtime.getRuntime().availableProcessors();
        double simd = best(Roofline::simdGflops, quick ? 3 : 5);
        double scalar = best(Roofline::scalarGflops, quick ? 3 : 5);
        double simdAll = parallel(cores, Roofline::simdGflops);
        int modelInts = 24 << 18; // 24 MB
        double modelBw = best(() -> readGBps(new int[modelInts], 20), quick ? 3 : 5);
        double modelBwAll = parallel(cores, () -> readGBps(new int[modelInts], 20));
        long big = quick ? 256L << 20 : 1024L << 20; // beyond this machine's last-level cache when it is not huge
        int bigInts = (int) (big / 4);
        double memBw = best(() -> readGBps(new int[bigInts], 3), 2);
        double memBwAll = parallel(cores, () -> readGBps(new int[bigInts / cores], 3));
        return new Machine(cores, simd, simdAll, scalar, modelBw, modelBwAll, memBw, memBwAll, big);
    }

    private interface Rate {
        double measure();
    }

    private static double best(Rate r, int tries) {
        double best = 0;
        for (int i = 0; i < tries; i++) {
            best = Math.max(best, r.measure());
        }
        return best;
    }

    /** The summed rate of one measuring thread per core, all started together. */
    private static double parallel(int threads, Rate r) {
        double[] rates = new double[threads];
        Thread[] ts = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            final int k = i;
            ts[i] = new Thread(() -> rates[k] = best(r, 3));
            ts[i].start();
        }
        double sum = 0;
        for (int i = 0; i < threads; i++) {
            try {
                ts[i].join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sum += rates[i];
        }
        return sum;
    }

    /**
     * GFLOP/s of a loop the JIT vectorizes: eight multiply-adds on each element of an array that
     * stays in the L1 cache.
     */
    static double simdGflops() {
        float[] a = new float[2048];
        for (int i = 0; i < a.length; i++) {
            a[i] = i * 1e-3f;
        }
        float m = 0.999f;
        float c = 1e-4f;
        for (int i = 0; i < 2000; i++) { // warm-up (JIT)
            madd8(a, m, c);
        }
        int reps = 20000;
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            madd8(a, m, c);
        }
        long ns = System.nanoTime() - t0;
        sink += a[7];
        return 16.0 * a.length * reps / ns;
    }

    private static void madd8(float[] a, float m, float c) {
        for (int i = 0; i < a.length; i++) {
            float v = a[i];
            v = v * m + c;
            v = v * m + c;
            v = v * m + c;
            v = v * m + c;
            v = v * m + c;
            v = v * m + c;
            v = v * m + c;
            v = v * m + c;
            a[i] = v;
        }
    }

    /** GFLOP/s of eight independent scalar multiply-add chains (no vector instructions). */
    static double scalarGflops() {
        float m = 0.999f;
        float c = 1e-4f;
        float a0 = 1;
        float a1 = 2;
        float a2 = 3;
        float a3 = 4;
        float a4 = 5;
        float a5 = 6;
        float a6 = 7;
        float a7 = 8;
        int n = 20_000_000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            a0 = a0 * m + c;
            a1 = a1 * m + c;
            a2 = a2 * m + c;
            a3 = a3 * m + c;
            a4 = a4 * m + c;
            a5 = a5 * m + c;
            a6 = a6 * m + c;
            a7 = a7 * m + c;
        }
        long ns = System.nanoTime() - t0;
        sink += a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
        return 16.0 * n / ns;
    }

    /** GB/s of summing an int array {@code passes} times (the JIT vectorizes the sum). */
    static double readGBps(int[] a, int passes) {
        for (int i = 0; i < a.length; i += 1024) {
            a[i] = i; // touch every page
        }
        sumInts(a); // warm-up
        long t0 = System.nanoTime();
        long s = 0;
        for (int p = 0; p < passes; p++) {
            s += sumInts(a);
        }
        long ns = System.nanoTime() - t0;
        sink += s;
        return 4.0 * a.length * passes / ns;
    }

    private static int sumInts(int[] a) {
        int s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i];
        }
        return s;
    }

    /** Keeps the JIT from removing the measured loops. */
    static volatile double sink;
}
