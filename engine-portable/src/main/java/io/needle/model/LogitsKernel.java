package io.needle.model;

/**
 * The tied output projection of one {@link Embedding} by a host's faster kernel (see {@link
 * Kernels}): exactly the floats {@link Embedding}'s portable loops compute (each logit a sum over
 * the dimensions in order).
 */
public interface LogitsKernel {
    /** logits[v] = h · E[v] for v in [from, to); other entries are left alone. */
    void logits(float[] h, float[] logits, int from, int to);

    /** logits[ids[k]] = h · E[ids[k]] for k in [0, count); other entries are left alone. */
    void logitsAt(float[] h, float[] logits, int[] ids, int count);

    /**
     * out[off + i] = E[token][i] * scale for i in [0, dim) (the encoder's and the decoder's input),
     * exactly as {@link Embedding#lookup} computes it, and true; or false to let the portable loop
     * do it. A kernel whose host holds the weight file outside the Java heap (the embedding has no
     * bytes: {@code safetensors.WeightBytes}) must do it.
     */
    default boolean lookup(int token, float scale, float[] out, int off) {
        return false;
    }
}
