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
}
