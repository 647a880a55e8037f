package io.needle.model;

/**
 * Steps several requests' decoders together (batched decoding): one position of each, with every
 * linear layer run once for all of them (the many-rows INT4 kernel unpacks each weight group once
 * per step instead of once per request). Norms, RoPE, attention and the logits stay per request,
 * each row with its own position, keys and values. The floats are exactly those of {@link
 * DecoderState#step} one request at a time: the INT4 kernels give the same values for one row and
 * for many (Int4KernelTest), everything else is computed row by row by the same code.
 */
public final class DecoderBatch {
    private final NeedleModel model;
    private final Scratch scratch = new Scratch();
    private float[] x = new float[0];
    private float[] xn = new float[0];
    private float[] branch = new float[0];
    private float[] ctx = new float[0];
    private float[] scores = new float[0];
    private float[] acc = new float[0];
    private int[] positions = new int[0];
    private Attention.KeyValues[] kvs = new Attention.KeyValues[0];

    public DecoderBatch(NeedleModel model) {
        this.model = model;
    }

    /**
     * Feeds tokens[k] to states[k] for k in [0, count) (each at its next position) and computes
     * each state's logits as {@link DecoderState#step(int)} does, or, where ids[k] is not null,
     * as {@link DecoderState#step(int, int[], int)} with ids[k][0..counts[k]). Returns nothing: the
     * logits are in each state's buffer ({@link #logits(DecoderState)}).
     */
    public void step(DecoderState[] states, int[] tokens, int[][] ids, int[] counts, int count) {
        int d = model.config.dModel;
        int rows = count;
        for (int k = 0; k < rows; k++) {
            if (states[k].model != model) {
                throw new IllegalArgumentException("a decoder state of another model");
            }
            states[k].checkStep(tokens[k]);
        }
        grow(rows, d);
        for (int k = 0; k < rows; k++) {
            positions[k] = states[k].position;
            model.embedding.lookup(tokens[k], model.embedScale, x, k * d);
        }
        for (int l = 0; l < model.decoderLayers.length; l++) {
            DecoderLayer layer = model.decoderLayers[l];
            layer.selfAttnNorm.apply(x, xn, rows);
            Attention sa = layer.selfAttn;
            for (int k = 0; k < rows; k++) {
                kvs[k] = states[k].self[l];
            }
            sa.keysValuesAt(xn, rows, model.rope, positions, kvs, scratch);
            float[] q = scratch.floats(Scratch.QUERIES, rows * sa.qDim());
            sa.queriesAt(xn, rows, model.rope, positions, q, scratch);
            float[] c = context(rows * sa.qDim(), sa.headDim());
            for (int k = 0; k < rows; k++) {
                Attention.KeyValues kv = states[k].self[l];
                sa.core(q, k, k + 1, positions[k] - k, kv.keysT, kv.values, positions[k] + 1, null, false, c,
                        scores(positions[k] + 1), acc);
            }
            sa.o.forward(c, branch, rows, scratch);
            NeedleModel.addScaled(x, branch, rows * d, layer.selfAttnGate);

            layer.crossAttnNorm.apply(x, xn, rows);
            Attention ca = layer.crossAttn;
            float[] cq = scratch.floats(Scratch.QUERIES, rows * ca.qDim());
            ca.queries(xn, rows, null, 0, cq, scratch);
            c = context(rows * ca.qDim(), ca.headDim());
            for (int k = 0; k < rows; k++) {
                Attention.KeyValues kv = states[k].cross[l];
                NeedleModel.EncoderOutput enc = states[k].enc;
                ca.core(cq, k, k + 1, 0, kv.keysT, kv.values, enc.length, enc.valid, false, c, scores(enc.length),
                        acc);
            }
            ca.o.forward(c, branch, rows, scratch);
            NeedleModel.addScaled(x, branch, rows * d, layer.crossAttnGate);
            if (layer.ffn != null) {
                layer.ffnNorm.apply(x, xn, rows);
                layer.ffn.forward(xn, rows, branch, scratch);
                NeedleModel.addScaled(x, branch, rows * d, layer.ffnGate);
            }
        }
        model.decoderFinalNorm.apply(x, xn, rows);
        for (int k = 0; k < rows; k++) {
            DecoderState s = states[k];
            System.arraycopy(xn, k * d, s.xn, 0, d);
            s.position++;
            if (ids == null || ids[k] == null) {
                s.logits();
            } else {
                s.logitsAt(ids[k], counts[k]);
            }
        }
    }

    /** The logits {@link #step} left in {@code state}'s buffer. */
    public static float[] logits(DecoderState state) {
        return state.logits;
    }

    private void grow(int rows, int d) {
        if (x.length < rows * d) {
            x = new float[rows * d];
            xn = new float[rows * d];
            branch = new float[rows * d];
        }
        if (positions.length < rows) {
            positions = new int[rows];
            kvs = new Attention.KeyValues[rows];
        }
    }

    private float[] context(int n, int headDim) {
        if (ctx.length < n) {
            ctx = new float[n];
        }
        if (acc.length < headDim) {
            acc = new float[headDim];
        }
        return ctx;
    }

    private float[] scores(int n) {
        if (scores.length < n) {
            scores = new float[Math.max(n, 2 * scores.length)];
        }
        return scores;
    }
}
