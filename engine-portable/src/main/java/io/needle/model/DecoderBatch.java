package io.needle.model;

/**
 * One decoder step for several requests at once, or for one (a single request's step is a batch
 * of one, see {@link DecoderState#step}): one new position of each, every layer run once for all
 * rows ({@link DecoderLayer#forward}; the many-rows INT4 kernel unpacks each weight group once
 * per step instead of once per request). Norms, RoPE, attention and the logits are per row, each
 * row with its own position, keys and values. The floats of a row do not depend on the other
 * rows: the INT4 kernels give the same values for one row and for many (Int4KernelTest),
 * everything else is computed row by row.
 */
public final class DecoderBatch {
    private final NeedleModel model;
    private Share[] shares = new Share[0];

    /** A share's own work buffers: the rows of its requests and the kernels' scratch. */
    private static final class Share {
        final Scratch scratch = new Scratch();
        final DecoderLayer.Rows rows = new DecoderLayer.Rows();
        float[] x = new float[0];
        float[] xn = new float[0];
    }

    public DecoderBatch(NeedleModel model) {
        this.model = model;
    }

    /**
     * Feeds tokens[k] to states[k] for k in [0, count) (each at its next position) and computes
     * each state's logits as {@link DecoderState#step(int)} does, or, where ids[k] is not null,
     * as {@link DecoderState#step(int, int[], int)} with ids[k][0..counts[k]). Returns nothing: the
     * logits are in each state's buffer ({@link #logits(DecoderState)}).
     *
     * <p>With a host that runs tasks at the same time ({@link NeedleModel#tasks()}), the requests
     * are cut into shares, each stepping its own requests through every layer and their logits
     * (a request's step needs nothing of the others'), with one meeting point per step.
     */
    public void step(DecoderState[] states, int[] tokens, int[][] ids, int[] counts, int count) {
        for (int k = 0; k < count; k++) {
            if (states[k].model != model) {
                throw new IllegalArgumentException("a decoder state of another model");
            }
            states[k].checkStep(tokens[k]);
        }
        Tasks tasks = model.tasks();
        int n = Math.max(1, Math.min(tasks.parallelism(), count));
        if (shares.length < n) {
            Share[] grown = new Share[n];
            for (int i = 0; i < n; i++) {
                grown[i] = i < shares.length ? shares[i] : new Share();
            }
            shares = grown;
        }
        if (n == 1) {
            step(shares[0], states, tokens, ids, counts, 0, count);
            return;
        }
        tasks.run(n, i -> step(shares[i], states, tokens, ids, counts, (int) ((long) count * i / n),
                (int) ((long) count * (i + 1) / n)));
    }

    /** The step of requests [from, to) with the share's buffers. */
    private void step(Share share, DecoderState[] states, int[] tokens, int[][] ids, int[] counts, int from, int to) {
        int d = model.config.dModel;
        int count = to - from;
        if (share.x.length < count * d) {
            share.x = new float[count * d];
            share.xn = new float[count * d];
        }
        float[] x = share.x;
        float[] xn = share.xn;
        DecoderLayer.Rows rows = share.rows;
        rows.ensure(count);
        for (int k = 0; k < count; k++) {
            DecoderState s = states[from + k];
            rows.positions[k] = s.position;
            rows.encoderLengths[k] = s.encoderLength;
            rows.encoderValid[k] = s.encoderValid;
            model.embedding.lookup(tokens[from + k], model.embedScale, x, k * d);
        }
        for (int l = 0; l < model.decoderLayers.length; l++) {
            for (int k = 0; k < count; k++) {
                rows.self[k] = states[from + k].self[l];
                rows.cross[k] = states[from + k].cross[l];
            }
            model.decoderLayers[l].forward(x, count, rows, model.rope, share.scratch);
        }
        model.decoderFinalNorm.apply(x, xn, count);
        for (int k = 0; k < count; k++) {
            DecoderState s = states[from + k];
            System.arraycopy(xn, k * d, s.xn, 0, d);
            s.position++;
            if (ids == null || ids[from + k] == null) {
                s.logits();
            } else {
                s.logitsAt(ids[from + k], counts[from + k]);
            }
        }
    }

    /** The logits {@link #step} left in {@code state}'s buffer. */
    public static float[] logits(DecoderState state) {
        return state.logits;
    }
}
