package io.needle.model;

/**
 * A linear layer {@code y = x @ W} with W of logical shape [in, out] (docs/spec/MODEL.md section 2).
 * Rows of x and y are token positions, stored row-major in flat arrays.
 */
public interface Linear {
    int in();

    int out();

    /**
     * y[t][:] = x[t][:] @ W for t in [0, rows): x is [rows, in] at offset 0, y is [rows, out]
     * at offset 0 (overwritten). {@code scratch} provides the work buffers (nothing is allocated
     * once they have grown).
     */
    void forward(float[] x, float[] y, int rows, Scratch scratch);

    /** {@link #forward(float[], float[], int, Scratch)} with fresh work buffers. */
    default void forward(float[] x, float[] y, int rows) {
        forward(x, y, rows, new Scratch());
    }
}
