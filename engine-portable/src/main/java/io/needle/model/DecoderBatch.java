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
    private final Scratch scratch = new Scratch();
    private final DecoderLayer.Rows rows = new DecoderLayer.Rows();
    private float[] x = new float[0];
    private float[] xn = new float[0];

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
        for (int k = 0; k < count; k++) {
            if (states[k].model != model) {
                throw new IllegalArgumentException("a decoder state of another model");
            }
            states[k].checkStep(tokens[k]);
        }
        if (x.length < count * d) {
            x = new float[count * d];
            xn = new float[count * d];
        }
        rows.ensure(count);
        for (int k = 0; k < count; k++) {
            DecoderState s = states[k];
            rows.positions[k] = s.position;
            rows.encoderLengths[k] = s.enc.length;
            rows.encoderValid[k] = s.enc.valid;
            model.embedding.lookup(tokens[k], model.embedScale, x, k * d);
        }
        for (int l = 0; l < model.decoderLayers.length; l++) {
            for (int k = 0; k < count; k++) {
                rows.self[k] = states[k].self[l];
                rows.cross[k] = states[k].cross[l];
            }
            model.decoderLayers[l].forward(x, count, rows, model.rope, scratch);
        }
        model.decoderFinalNorm.apply(x, xn, count);
        for (int k = 0; k < count; k++) {
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
}
