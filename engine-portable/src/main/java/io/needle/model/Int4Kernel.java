package io.needle.model;

/**
 * The forward pass of one {@link Int4Linear} by a host's faster kernel (see {@link Kernels}):
 * exactly the floats {@link Int4Linear}'s portable kernels compute.
 */
public interface Int4Kernel {
    /** y[t][:] = x[t][:] @ W for t in [0, rows): x is [rows, in], y is [rows, out] (overwritten), both from offset 0. */
    void forward(float[] x, float[] y, int rows);
}
