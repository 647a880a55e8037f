package io.needle.model;

/**
 * The core of one {@link Attention} block (scores, softmax, weighted values; not the projections)
 * by a host's faster kernel (see {@link Kernels}): exactly the floats of Attention's own loops.
 */
public interface AttentionKernel {
    /**
     * Fills ctx [rows, heads * headDim] as {@link Attention#attend} does, or returns false to let
     * the portable loops do it (for shapes or row counts the kernel leaves alone).
     *
     * @param qs queries [rows, heads * headDim], row t at position pos0 + t
     * @param keysT keysT[(kvh * headDim + i) * stride + j] = K[j][kvh][i], positions 0..keyCount-1 used
     * @param stride the length of a key row of keysT, at least keyCount (the engine's stores: a
     *     multiple of 16, so that a vector kernel may compute a last partial vector of scores in one piece)
     * @param values values[(j * kvHeads + kvh) * headDim + i] = V[j][kvh][i]
     * @param keyValid per key position, false = masked (padding); null = all valid
     * @param causal when true, row t sees only keys at positions {@code <= pos0 + t}
     */
    boolean attend(float[] qs, int rows, int pos0, float[] keysT, int stride, float[] values, int keyCount,
            boolean[] keyValid, boolean causal, float[] ctx);
}
