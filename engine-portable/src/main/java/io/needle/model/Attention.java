package io.needle.model;

/**
 * One attention block (docs/spec/MODEL.md section 2): q/k/v/o projections, per-head ZCRMSNorm of q and k,
 * optional RoPE, grouped-query attention (query head h uses KV head h / (H/KV)).
 *
 * <p>Keys and values live in a {@link KeyValues} store laid out for the two inner loops: keys
 * transposed (one row per KV head and dimension, positions along the row), so the scores of all
 * positions grow together with one multiply-add per key; values one row per position and KV head,
 * so the weighted sum runs along a row. Each score is still {@code Σ_i q[i]·k[i]} in order i.
 */
public final class Attention {
    final Linear q;
    final Linear k;
    final Linear v;
    final Linear o;
    final ZcRmsNorm qNorm;
    final ZcRmsNorm kNorm;
    final int heads;
    final int kvHeads;
    final int headDim;
    private AttentionKernel kernel; // a host's faster core (Kernels), or null: the loops of attend

    public Attention(Linear q, Linear k, Linear v, Linear o, ZcRmsNorm qNorm, ZcRmsNorm kNorm,
            int heads, int kvHeads, int headDim) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.o = o;
        this.qNorm = qNorm;
        this.kNorm = kNorm;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
    }

    public int heads() {
        return heads;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    /**
     * Routes the core of {@link #attend} to a host's faster kernel (which must compute the same
     * floats), or back to the portable loops with null. Set once, at load, by NeedleModel.installKernels.
     */
    void kernel(AttentionKernel kernel) {
        this.kernel = kernel;
    }

    /** The host kernel in use, or null for the portable loops. */
    public AttentionKernel kernel() {
        return kernel;
    }

    /** Width of one K or V row: KV * hd. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Width of one q row: H * hd. */
    public int qDim() {
        return heads * headDim;
    }

    /**
     * Keys and values of up to {@code capacity} positions of one sequence, each in one flat array
     * (in the Wasm build, V8 copies every small array that survives its young generation, and a
     * store of one array per position and head made thousands of them).
     */
    public static final class KeyValues {
        /** K transposed: keysT[(kvh * hd + i) * stride + j] = K[j][kvh][i]. */
        final float[] keysT;
        /**
         * The length of a key row of keysT: capacity in whole 16-float vectors, so that a host's
         * vector kernel may compute a last partial vector of scores in one piece (the extra lanes
         * are never read).
         */
        final int stride;
        /** values[(j * KV + kvh) * hd + i] = V[j][kvh][i]. */
        final float[] values;
        final int capacity;

        KeyValues(int kvHeads, int headDim, int capacity) {
            this.capacity = capacity;
            this.stride = (capacity + 15) / 16 * 16;
            keysT = new float[kvHeads * headDim * stride];
            values = new float[capacity * kvHeads * headDim];
        }
    }

    /** An empty store for {@code capacity} positions. */
    public KeyValues newKeyValues(int capacity) {
        return new KeyValues(kvHeads, headDim, capacity);
    }

    /** {@code K = kNorm(x @ Wk)} into scratch K_ROWS and {@code V = x @ Wv} into V_ROWS, [rows, KV*hd] each. */
    private void project(float[] x, int rows, Scratch scratch) {
        int kd = kvDim();
        float[] kRows = scratch.floats(Scratch.K_ROWS, rows * kd);
        k.forward(x, kRows, rows, scratch);
        v.forward(x, scratch.floats(Scratch.V_ROWS, rows * kd), rows, scratch);
        kNorm.apply(kRows, kRows, rows * kvHeads);
    }

    /**
     * K and V for {@code rows} rows of x: {@code K = kNorm(x @ Wk)} (then RoPE at positions
     * pos0.. when rope is given), {@code V = x @ Wv}; stored at positions pos0.. of kv.
     */
    void keysValues(float[] x, int rows, Rope rope, int pos0, KeyValues kv, Scratch scratch) {
        project(x, rows, scratch);
        float[] kRows = scratch.floats(Scratch.K_ROWS, 0);
        if (rope != null) {
            rope.apply(kRows, rows, kvHeads, pos0);
        }
        for (int t = 0; t < rows; t++) {
            store(kRows, scratch.floats(Scratch.V_ROWS, 0), t, pos0 + t, kv);
        }
    }

    /**
     * As {@link #keysValues}, for rows of different sequences (a batch step): row t at position
     * {@code positions[t]}, stored in {@code kvs[t]}.
     */
    void keysValuesAt(float[] x, int rows, Rope rope, int[] positions, KeyValues[] kvs, Scratch scratch) {
        project(x, rows, scratch);
        float[] kRows = scratch.floats(Scratch.K_ROWS, 0);
        if (rope != null) {
            rope.applyAt(kRows, rows, kvHeads, positions);
        }
        for (int t = 0; t < rows; t++) {
            store(kRows, scratch.floats(Scratch.V_ROWS, 0), t, positions[t], kvs[t]);
        }
    }

    /** Stores row t of K and V rows at position p of kv. */
    private void store(float[] kRows, float[] vRows, int t, int p, KeyValues kv) {
        int kd = kvDim();
        for (int h = 0; h < kvHeads; h++) {
            int ro = t * kd + h * headDim;
            for (int i = 0; i < headDim; i++) {
                kv.keysT[(h * headDim + i) * kv.stride + p] = kRows[ro + i];
            }
            System.arraycopy(vRows, ro, kv.values, (p * kvHeads + h) * headDim, headDim);
        }
    }

    /** {@code q = qNorm(x @ Wq)} (then RoPE at positions pos0.. when rope is given) into qOut [rows, H*hd]. */
    void queries(float[] x, int rows, Rope rope, int pos0, float[] qOut, Scratch scratch) {
        q.forward(x, qOut, rows, scratch);
        qNorm.apply(qOut, qOut, rows * heads);
        if (rope != null) {
            rope.apply(qOut, rows, heads, pos0);
        }
    }

    /** As {@link #queries}, for rows of different sequences: row t at position {@code positions[t]}. */
    void queriesAt(float[] x, int rows, Rope rope, int[] positions, float[] qOut, Scratch scratch) {
        q.forward(x, qOut, rows, scratch);
        qNorm.apply(qOut, qOut, rows * heads);
        if (rope != null) {
            rope.applyAt(qOut, rows, heads, positions);
        }
    }

    /**
     * Causal self-attention of one whole sequence (the decoder without a cache; the reference
     * the cached steps are checked against): row t attends to rows 0..t.
     */
    public void causal(float[] xn, int rows, Rope rope, KeyValues kv, float[] out, Scratch scratch) {
        keysValues(xn, rows, rope, 0, kv, scratch);
        float[] qs = scratch.floats(Scratch.QUERIES, rows * qDim());
        queries(xn, rows, rope, 0, qs, scratch);
        attend(qs, rows, 0, kv, rows, null, true, out, scratch);
    }

    /**
     * One decoder step of {@code rows} sequences (a batch of one or more): row k is the next
     * position {@code positions[k]} of its own sequence, whose self-attention cache is
     * {@code caches[k]}. Its K/V are stored there, then it attends to positions 0..positions[k].
     */
    public void selfStep(float[] xn, int rows, Rope rope, int[] positions, KeyValues[] caches, float[] out,
            Scratch scratch) {
        keysValuesAt(xn, rows, rope, positions, caches, scratch);
        float[] qs = scratch.floats(Scratch.QUERIES, rows * qDim());
        queriesAt(xn, rows, rope, positions, qs, scratch);
        float[] ctx = scratch.floats(Scratch.CONTEXT, rows * qDim());
        for (int k = 0; k < rows; k++) {
            coreRow(qs, k, positions[k], caches[k], positions[k] + 1, null, ctx, scratch);
        }
        o.forward(ctx, out, rows, scratch);
    }

    /**
     * One decoder step's cross-attention for {@code rows} sequences: row k attends (no RoPE) to the
     * encoder output of its own request, whose K/V ({@code memories[k]}, computed once) cover
     * {@code lengths[k]} positions with {@code valid[k]} marking the non-pad ones.
     */
    public void crossStep(float[] xn, int rows, KeyValues[] memories, int[] lengths, boolean[][] valid, float[] out,
            Scratch scratch) {
        float[] qs = scratch.floats(Scratch.QUERIES, rows * qDim());
        queries(xn, rows, null, 0, qs, scratch);
        float[] ctx = scratch.floats(Scratch.CONTEXT, rows * qDim());
        for (int k = 0; k < rows; k++) {
            coreRow(qs, k, 0, memories[k], lengths[k], valid[k], ctx, scratch);
        }
        o.forward(ctx, out, rows, scratch);
    }

    /**
     * Context row k (position pos) from query row k over keyCount keys of kv: through the host's
     * kernel when there is one (as a one-row call, with the row copied in and out), else the portable loops.
     */
    private void coreRow(float[] qs, int k, int pos, KeyValues kv, int keyCount, boolean[] keyValid, float[] ctx,
            Scratch scratch) {
        int qd = qDim();
        if (kernel != null) {
            float[] q1 = scratch.floats(Scratch.Q_ROW, qd);
            float[] c1 = scratch.floats(Scratch.CONTEXT_ROW, qd);
            System.arraycopy(qs, k * qd, q1, 0, qd);
            if (kernel.attend(q1, 1, pos, kv.keysT, kv.stride, kv.values, keyCount, keyValid, false, c1)) {
                System.arraycopy(c1, 0, ctx, k * qd, qd);
                return;
            }
        }
        core(qs, k, k + 1, pos - k, kv.keysT, kv.stride, kv.values, keyCount, keyValid, false, ctx,
                scratch.attentionWork());
    }

    /**
     * softmax(q·k / sqrt(hd)) · v per head, then the output projection, into out [rows, d_model].
     *
     * @param qs queries [rows, H*hd], row t at position pos0 + t
     * @param kv keys and values; positions 0..keyCount-1 are used
     * @param keyValid per key position, false = masked (padding); null = all valid
     * @param causal when true, row t sees only keys at positions <= pos0 + t
     */
    void attend(float[] qs, int rows, int pos0, KeyValues kv, int keyCount, boolean[] keyValid,
            boolean causal, float[] out, Scratch scratch) {
        float[] ctx = scratch.floats(Scratch.CONTEXT, rows * qDim());
        if (kernel == null || !kernel.attend(qs, rows, pos0, kv.keysT, kv.stride, kv.values, keyCount, keyValid, causal, ctx)) {
            core(qs, 0, rows, pos0, kv.keysT, kv.stride, kv.values, keyCount, keyValid, causal, ctx,
                    scratch.attentionWork());
        }
        o.forward(ctx, out, rows, scratch);
    }

    /** Query rows the portable core takes at once: each key and value row copied once for them. */
    static final int CORE_ROWS = 8;

    /**
     * The portable core's work space ({@link #core}): per query row of a block its scores and its
     * context, one copied key or value row, and the block's 1/Σ. Grows on first use, then reused;
     * one thread at a time.
     */
    public static final class CoreWork {
        final float[][] scores = new float[CORE_ROWS][0];
        final float[][] acc = new float[CORE_ROWS][0];
        final float[] inv = new float[CORE_ROWS];
        float[] row = new float[0];

        CoreWork fit(int keyCount, int headDim) {
            for (int b = 0; b < CORE_ROWS; b++) {
                if (scores[b].length < keyCount) {
                    scores[b] = new float[keyCount];
                }
                if (acc[b].length < headDim) {
                    acc[b] = new float[headDim];
                }
            }
            if (row.length < Math.max(keyCount, headDim)) {
                row = new float[Math.max(keyCount, headDim)];
            }
            return this;
        }
    }

    /**
     * The portable core of {@link #attend} (no projections) for query rows [t0, t1): fills those
     * rows of ctx [rows, H*hd] and no other (so rows may be shared out between threads); each
     * row's floats are those of computing it alone. Arguments as {@link AttentionKernel#attend}.
     *
     * <p>Per head, the rows go {@value #CORE_ROWS} at a time, and each key row (and value row) is
     * copied once into a work row for them: the inner loops then read and write their arrays at
     * the same index, which is what the JVM's compiler (C2, Java 17) needs to vectorize them
     * ({@code scores[j] += q·keysT[off + j]} stays scalar: it cannot rule out that the two arrays
     * overlap at a distance). A lone row (a decode step's) reads them in place. The same products
     * and sums, in the same order, as row by row.
     */
    public void core(float[] qs, int t0, int t1, int pos0, float[] keysT, int stride, float[] values, int keyCount,
            boolean[] keyValid, boolean causal, float[] ctx, CoreWork work) {
        work.fit(keyCount, headDim);
        int qd = qDim();
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] row = work.row;
        for (int tb = t0; tb < t1; tb += CORE_ROWS) {
            int n = Math.min(CORE_ROWS, t1 - tb);
            for (int h = 0; h < heads; h++) {
                int kvh = h / group;
                // scores[b][j] = Σ_i q[i]·k[j][i], in order i
                for (int b = 0; b < n; b++) {
                    java.util.Arrays.fill(work.scores[b], 0, keyCount, 0f);
                }
                for (int i = 0; i < headDim; i++) {
                    int k = (kvh * headDim + i) * stride;
                    if (n == 1) { // one row (a decode step): read in place, a copy would not pay for itself
                        float qi = qs[tb * qd + h * headDim + i];
                        float[] sc = work.scores[0];
                        for (int j = 0; j < keyCount; j++) {
                            sc[j] += qi * keysT[k + j];
                        }
                        continue;
                    }
                    System.arraycopy(keysT, k, row, 0, keyCount);
                    for (int b = 0; b < n; b++) {
                        float qi = qs[(tb + b) * qd + h * headDim + i];
                        float[] sc = work.scores[b];
                        for (int j = 0; j < keyCount; j++) {
                            sc[j] += qi * row[j];
                        }
                    }
                }
                for (int b = 0; b < n; b++) {
                    work.inv[b] = softmax(work.scores[b], keyCount, keyValid, causal, pos0 + tb + b, scale);
                    java.util.Arrays.fill(work.acc[b], 0, headDim, 0f);
                }
                // ctx[i] = Σ_j p[j]·v[j][i], in order j, keys of weight 0 skipped
                for (int j = 0; j < keyCount; j++) {
                    int v = (j * kvHeads + kvh) * headDim;
                    if (n == 1) { // as above
                        float p = work.scores[0][j] * work.inv[0];
                        if (p != 0f) {
                            float[] a = work.acc[0];
                            for (int i = 0; i < headDim; i++) {
                                a[i] += p * values[v + i];
                            }
                        }
                        continue;
                    }
                    boolean copied = false;
                    for (int b = 0; b < n; b++) {
                        float p = work.scores[b][j] * work.inv[b];
                        if (p == 0f) {
                            continue;
                        }
                        if (!copied) {
                            System.arraycopy(values, v, row, 0, headDim);
                            copied = true;
                        }
                        float[] a = work.acc[b];
                        for (int i = 0; i < headDim; i++) {
                            a[i] += p * row[i];
                        }
                    }
                }
                for (int b = 0; b < n; b++) {
                    System.arraycopy(work.acc[b], 0, ctx, (tb + b) * qd + h * headDim, headDim);
                }
            }
        }
    }

    /**
     * The scaled, masked softmax of one query row's scores at position {@code pos}, in place:
     * {@code exp(s - max)} with the engine's {@link Exp}; returns {@code 1 / Σ} (the sum in
     * double, in order).
     */
    private static float softmax(float[] scores, int keyCount, boolean[] keyValid, boolean causal, int pos, float scale) {
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < keyCount; j++) {
            boolean visible = (keyValid == null || keyValid[j]) && (!causal || j <= pos);
            float s = visible ? scores[j] * scale : -Float.MAX_VALUE;
            scores[j] = s;
            if (s > max) {
                max = s;
            }
        }
        double sum = 0;
        for (int j = 0; j < keyCount; j++) {
            float e = (float) Exp.exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        return (float) (1.0 / sum);
    }
}
