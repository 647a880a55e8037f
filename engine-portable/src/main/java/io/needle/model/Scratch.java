package io.needle.model;

/**
 * Reusable work buffers of one computation (one request's encoder run or decoder), so the hot
 * loops allocate nothing: arrays grow on first use and are then reused. A Scratch belongs to one
 * thread at a time; the model itself holds no mutable state.
 */
public final class Scratch {
    /** Slots of {@link #floats}: each names one buffer role. */
    static final int K_ROWS = 0;
    static final int V_ROWS = 1;
    static final int CONTEXT = 2;
    static final int ACC0 = 3; // ACC0..ACC0+3: per-row accumulators of the INT4 kernels
    static final int LUT = 7;
    static final int FFN_GATE = 8;
    static final int FFN_UP = 9;
    static final int BRANCH = 10;
    static final int QUERIES = 11;
    static final int ROW = 12;
    static final int Q_ROW = 13;
    static final int CONTEXT_ROW = 14;
    static final int XN = 15;
    private static final int SLOTS = 16;

    private final float[][] floats = new float[SLOTS][];
    private float[][] weightRows = new float[0][];
    private int weightRowWidth;
    private Attention.CoreWork attentionWork;

    /** The buffer of {@code slot}, at least n long (contents unspecified). */
    float[] floats(int slot, int n) {
        float[] a = floats[slot];
        if (a == null || a.length < n) {
            a = new float[n];
            floats[slot] = a;
        }
        return a;
    }

    /** The portable attention core's work space ({@link Attention#core}). */
    Attention.CoreWork attentionWork() {
        if (attentionWork == null) {
            attentionWork = new Attention.CoreWork();
        }
        return attentionWork;
    }

    /** {@code count} separate rows of at least {@code width} floats (dequantized weight rows). */
    float[][] weightRows(int count, int width) {
        if (weightRows.length < count || weightRowWidth < width) {
            int w = Math.max(width, weightRowWidth);
            float[][] rows = new float[Math.max(count, weightRows.length)][];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = new float[w];
            }
            weightRows = rows;
            weightRowWidth = w;
        }
        return weightRows;
    }
}
