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
     * @param keysT keysT[kvh * headDim + i][j] = K[j][kvh][i], positions 0..keyCount-1 used
     * @param values values[j * kvHeads + kvh][i] = V[j][kvh][i]
     * @param keyValid per key position, false = masked (padding); null = all valid
     * @param causal when true, row t sees only keys at positions {@code <= pos0 + t}
     */
    boolean attend(float[] qs, int rows, int pos0, float[][] keysT, float[][] values, int keyCount,
            boolean[] keyValid, boolean causal, float[] ctx);
}
