package io.needle.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.BatchItem;
import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.json.Json;
import io.needle.model.Attention;
import io.needle.model.Embedding;
import io.needle.model.Int4Kernel;
import io.needle.model.Int4Linear;
import io.needle.model.LogitsKernel;
import io.needle.model.NeedleModel;
import io.needle.model.Scratch;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import io.needle.testing.Shared;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Vector API kernels give the portable kernels' floats bit for bit: each INT4 kernel (one
 * row and many, awkward widths and groups, signed zeros), the logits (full, ranges, subsets,
 * partial blocks), a whole small model's encoder and logits (the attention kernel on every
 * path: bidirectional with padding, causal, cached steps); and the same tokens on the
 * full-size model over real queries and tool lists (constrained and not, and batched). The
 * surefire configuration adds jdk.incubator.vector, so these tests require it.
 */
class VectorKernelsTest {
    @BeforeAll
    static void theVectorApiIsThere() {
        assertTrue(VectorKernels.available(), "jdk.incubator.vector must be added to the tests' JVM (surefire argLine)");
        VectorCode.forceHot(); // the vector code from the first call, not the portable code of a cold start
    }

    @Test
    void theExpsInLanesAreExpBitForBit() {
        // the softmax's arguments (s - max <= 0, masked scores -3.4e38), the clamps' edges, every
        // special value, and random doubles over the whole range; odd lengths for the scalar tail
        double[] special = {0.0, -0.0, -1e-300, -Double.MIN_VALUE, -745.13, -745.2, -746, -746.5, -1e308,
            -Float.MAX_VALUE, Double.NEGATIVE_INFINITY, Double.NaN, 709.7, 709.8, 710, 711, 1e308,
            Double.POSITIVE_INFINITY, 1, -1, 0.5 * Math.log(2), -0.5 * Math.log(2)};
        java.util.Random rnd = new java.util.Random(11);
        for (int round = 0; round < 3000; round++) {
            int n = 1 + rnd.nextInt(70);
            double[] x = new double[n];
            for (int j = 0; j < n; j++) {
                int kind = rnd.nextInt(4);
                x[j] = kind == 0 ? special[rnd.nextInt(special.length)]
                        : kind == 1 ? (double) (-(float) Math.abs(rnd.nextGaussian() * 20)) // a softmax argument
                        : kind == 2 ? (rnd.nextDouble() - 0.5) * 1500
                        : Double.longBitsToDouble(rnd.nextLong()); // any bits, NaNs included
            }
            double[] lanes = x.clone();
            VectorCode.exps(lanes, n);
            for (int j = 0; j < n; j++) {
                assertEquals(Double.doubleToRawLongBits(io.needle.model.Exp.exp(x[j])),
                        Double.doubleToRawLongBits(lanes[j]), "exp(" + x[j] + ")");
            }
        }
    }

    @Test
    void theWarmUpEnds() throws InterruptedException {
        VectorKernels.create();
        VectorKernels.warmUp(); // returns once every kernel switched or the time limit passed
        assertTrue(VectorKernels.warm(), "forced or warmed up");
    }

    @Test
    void theAttentionKernelComputesThePortableFloats() {
        Random rnd = new Random(11);
        int l = VectorCode.L;
        // heads, kv heads, head dim: grouped queries (8/4), one kv head per query head, a head of one vector
        int[][] shapes = {{8, 4, 4 * l}, {2, 2, 2 * l}, {3, 1, l}};
        for (int[] sh : shapes) {
            int heads = sh[0];
            int kvHeads = sh[1];
            int hd = sh[2];
            io.needle.model.Attention a = new io.needle.model.Attention(null, null, null, null, null, null, heads,
                    kvHeads, hd);
            io.needle.model.AttentionKernel kernel = VectorKernels.create().attention(a);
            assertNotNull(kernel);
            for (int keys : new int[] {1, 5, l, l + 1, 2 * l + 3, 3 * l, 61, 128}) {
                // key rows exactly keys long (the scalar tail) and in whole vectors (the padded tail)
                for (int room : new int[] {keys, (keys + l - 1) / l * l}) {
                    float[] keysT = new float[kvHeads * hd * room]; // key rows of `room` floats
                    float[] values = new float[keys * kvHeads * hd];
                    for (int j = 0; j < keysT.length; j++) {
                        keysT[j] = j % room < keys ? (float) rnd.nextGaussian() : 1e30f; // the padding lanes are never read back
                    }
                    for (int i = 0; i < values.length; i++) {
                        values[i] = (float) rnd.nextGaussian();
                    }
                    boolean[] someMasked = new boolean[keys];
                    for (int j = 0; j < keys; j++) {
                        someMasked[j] = j % 3 != 1 || j == 0;
                    }
                    for (int rows : new int[] {1, 3, 4, 5, 8, 9}) {
                        float[] qs = new float[rows * heads * hd];
                        for (int i = 0; i < qs.length; i++) {
                            qs[i] = (float) (rnd.nextGaussian() * (i % 7 == 0 ? 6 : 1)); // some weights round to 0
                        }
                        for (boolean[] valid : new boolean[][] {null, someMasked}) {
                            for (boolean causal : new boolean[] {false, true}) {
                                int pos0 = causal ? Math.max(0, keys - rows) : 0;
                                float[] expected = new float[qs.length];
                                a.core(qs, 0, rows, pos0, keysT, room, values, keys, valid, causal, expected,
                                        new Attention.CoreWork());
                                float[] actual = new float[qs.length];
                                assertTrue(kernel.attend(qs, rows, pos0, keysT, room, values, keys, valid, causal, actual));
                                String where = heads + "/" + kvHeads + "x" + hd + " keys " + keys + " room " + room
                                        + " rows " + rows + (valid == null ? "" : " masked") + (causal ? " causal" : "");
                                PortableReference.assertBits(expected, actual, where);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void int4KernelsComputeThePortableFloats() {
        Random rnd = new Random(5);
        // in, out, group: whole groups; a last partial group; out not a multiple of 4 vectors, nor of one
        // vector (columns one at a time); one group; on AVX-512 (16 lanes) 110 columns take the
        // many-rows kernel's 4 × 4 tiles, its single vectors and its scalar columns
        int[][] shapes = {{512, 512, 32}, {80, 48, 32}, {64, 16, 64}, {96, 80, 32}, {30, 32, 30}, {512, 256, 128},
                {64, 72, 32}, {80, 40, 32}, {16, 7, 32}, {64, 110, 32}};
        for (int[] s : shapes) {
            int in = s[0];
            int out = s[1];
            int gs = s[2];
            int groups = (in + gs - 1) / gs;
            int padded = groups * gs;
            byte[] packed = new byte[7 + padded / 2 * out];
            rnd.nextBytes(packed);
            float[] scales = new float[groups * out];
            for (int i = 0; i < scales.length; i++) {
                scales[i] = (float) (rnd.nextGaussian() * 0.02);
            }
            Int4Linear portable = new Int4Linear(in, out, gs, packed, 7, scales);
            Int4Kernel vector = VectorKernels.create().int4(portable);
            assertNotNull(vector, "shape " + in + "x" + out + "/" + gs);
            for (int rows : new int[] {1, 2, 3, 4, 5, 8, 13}) {
                float[] x = new float[rows * in];
                for (int i = 0; i < x.length; i++) {
                    x[i] = i % 11 == 0 ? -0f : i % 13 == 0 ? 0f : (float) rnd.nextGaussian();
                }
                float[] expected = new float[rows * out];
                portable.forward(x, expected, rows, new Scratch());
                float[] actual = new float[rows * out];
                java.util.Arrays.fill(actual, Float.NaN);
                vector.forward(x, actual, rows);
                PortableReference.assertBits(expected, actual, in + "x" + out + "/" + gs + ", " + rows + " rows");
            }
        }
        // shapes left to the portable code
        assertNull(VectorKernels.create().int4(new Int4Linear(31, 32, 32, new byte[16 * 32], 0, new float[32])));
    }

    @Test
    void logitsComputeThePortableFloats() {
        Random rnd = new Random(9);
        for (int[] s : new int[][] {{1000 + 7, 64}, {2048, 32}, {5, 16}}) {
            int vocab = s[0];
            int dim = s[1];
            byte[] bytes = new byte[3 + 2 * vocab * dim];
            for (int i = 3; i < bytes.length; i += 2) { // BF16 of gaussian values
                int bits = Float.floatToIntBits((float) (rnd.nextGaussian() * 0.05)) >>> 16;
                bytes[i] = (byte) bits;
                bytes[i + 1] = (byte) (bits >>> 8);
            }
            Embedding portable = Embedding.ofHalf(vocab, dim, Embedding.Format.BF16, bytes, 3);
            LogitsKernel vector = VectorKernels.create().logits(portable);
            assertNotNull(vector);
            float[] h = new float[dim];
            for (int i = 0; i < dim; i++) {
                h[i] = i == 3 ? -0f : (float) rnd.nextGaussian();
            }
            float[] expected = new float[vocab];
            portable.logits(h, expected);
            float[] actual = new float[vocab];
            vector.logits(h, actual, 0, vocab);
            PortableReference.assertBits(expected, actual, "full logits, vocab " + vocab);
            for (int k = 0; k < 20; k++) { // ranges, as ParallelKernels shares them out
                int from = rnd.nextInt(vocab);
                int to = from + rnd.nextInt(vocab - from + 1);
                float[] part = new float[vocab];
                java.util.Arrays.fill(part, Float.NaN);
                vector.logits(h, part, from, to);
                for (int v = 0; v < vocab; v++) {
                    if (v >= from && v < to) {
                        assertEquals(Float.floatToIntBits(expected[v]), Float.floatToIntBits(part[v]), "logit " + v);
                    } else {
                        assertTrue(Float.isNaN(part[v]), "logit " + v + " outside [" + from + ", " + to + ") left alone");
                    }
                }
            }
            for (int k = 0; k < 30; k++) { // subsets: few, many, repeated ids, the rows past the last whole block
                int count = 1 + rnd.nextInt(k < 15 ? 12 : vocab);
                int[] ids = new int[count + 3];
                for (int i = 0; i < count; i++) {
                    ids[i] = i % 5 == 4 ? vocab - 1 - rnd.nextInt(Math.min(vocab, 20)) : rnd.nextInt(vocab);
                }
                float[] sub = new float[vocab];
                java.util.Arrays.fill(sub, Float.NaN);
                vector.logitsAt(h, sub, ids, count);
                boolean[] asked = new boolean[vocab];
                for (int i = 0; i < count; i++) {
                    asked[ids[i]] = true;
                }
                for (int v = 0; v < vocab; v++) {
                    if (asked[v]) {
                        assertEquals(Float.floatToIntBits(expected[v]), Float.floatToIntBits(sub[v]), "logit " + v);
                    } else {
                        assertTrue(Float.isNaN(sub[v]), "logit " + v + " not asked for, left alone");
                    }
                }
            }
        }
        byte[] f16 = new byte[2 * 64 * 16];
        assertNull(VectorKernels.create().logits(Embedding.ofHalf(64, 16, Embedding.Format.F16, f16, 0)));
    }

    @Test
    void aWholeModelGivesThePortableFloatsAndTokens() {
        // FFN width 72: down_proj's 72 input rows padded to 96 (a last partial group); heads of 16
        PortableReference reference = new PortableReference(new ModelWriter().seed(41).vocabSize(2100).dModel(64)
                .heads(4, 2).layers(2, 2).ffn(72, "geglu").build(), TestVocab.make(2100, 41));
        for (int threads : new int[] {1, 2}) {
            try (ParallelKernels kernels = new ParallelKernels(threads, VectorKernels.create())) {
                reference.assertSameWith(kernels);
            }
        }
    }

    /**
     * The full-size random model with the real vocabulary: real queries and tool lists of
     * shared/fixtures/realistic (every 20th of 560), constrained and plain argmax, each through
     * the portable kernels, the Vector kernels alone and split over 2 threads, and a batch of 8:
     * the same tokens every time.
     */
    @Test
    void fullSizeModelSameTokensOnRealisticRequests() {
        byte[] file = ModelWriter.fullSize().seed(1).build();
        String vocab = Shared.vocab();
        Map<?, ?> root = (Map<?, ?>) Json.parse(Shared.text("realistic/e2e_vectors.json"));
        List<?> examples = (List<?>) root.get("examples");
        List<BatchItem> items = new ArrayList<>();
        for (int i = 0; i < examples.size(); i += 20) {
            Map<?, ?> e = (Map<?, ?>) examples.get(i);
            items.add(new BatchItem(e.get("query").toString(), e.get("tools").toString()));
        }
        assertTrue(items.size() >= 24, "requests: " + items.size());
        NeedleEngine portable = NeedleEngine.load(file, vocab);
        NeedleEngine vector = NeedleEngine.load(file, vocab, VectorKernels.create());
        try (ParallelKernels two = new ParallelKernels(2, VectorKernels.create())) {
            NeedleEngine vector2 = NeedleEngine.load(file, vocab, two);
            RunOptions constrained = new RunOptions().maxNewTokens(48);
            RunOptions plain = new RunOptions().maxNewTokens(24).constrain(false);
            for (int i = 0; i < items.size(); i++) {
                BatchItem it = items.get(i);
                RunOptions o = i % 3 == 2 ? plain : constrained;
                String what = "request " + i + " (" + (o == plain ? "plain" : "constrained") + "): " + it.query;
                int[] expected = portable.run(it.query, it.tools, o).tokens;
                assertArrayEquals(expected, vector.run(it.query, it.tools, o).tokens, what);
                assertArrayEquals(expected, vector2.run(it.query, it.tools, o).tokens, what + ", 2 threads");
            }
            List<BatchItem> eight = items.subList(0, 8);
            List<RunResult> batched = vector.runBatch(eight, constrained);
            List<RunResult> batched2 = vector2.runBatch(eight, constrained);
            for (int i = 0; i < eight.size(); i++) {
                int[] single = vector.run(eight.get(i).query, eight.get(i).tools, constrained).tokens;
                assertArrayEquals(single, batched.get(i).tokens, "batch item " + i);
                assertArrayEquals(single, batched2.get(i).tokens, "batch item " + i + ", 2 threads");
            }
        }
    }
}
