package io.needle.wasm;

import io.needle.model.LogitsKernel;

/** The output projection over the BF16 embedding computed by needle-simd.wasm (see {@link SimdKernels}). */
final class SimdLogitsKernel implements LogitsKernel {
    private final SimdKernels kernels;
    private final LinearMemory memory; // holds the embedding in blocks of 16 rows from byte tableAt
    private final int table; // its address
    private final int vocab;
    private final int dim;

    SimdLogitsKernel(SimdKernels kernels, LinearMemory memory, int tableAt, int vocab, int dim) {
        this.kernels = kernels;
        this.memory = memory;
        this.table = memory.address + tableAt;
        this.vocab = vocab;
        this.dim = dim;
    }

    @Override
    public void logits(float[] h, float[] logits, int from, int to) {
        if (from >= to) {
            return;
        }
        int b0 = from >> 4;
        int b1 = (to + 15) >> 4;
        LinearMemory hm = kernels.in(4 * dim);
        LinearMemory lm = kernels.out(4 * 16 * b1);
        hm.putFloats(0, h, dim);
        SimdModule.logits(hm.address, lm.address, table, b0, b1, dim);
        lm.getFloats(4 * from, logits, from, to - from);
    }

    /**
     * out[off + i] = E[token][i] * scale, read from the blocked table (row v: block v/16, value i
     * at slot i*16 + v%16), as Embedding.lookup computes it from the file's bytes.
     */
    @Override
    public boolean lookup(int token, float scale, float[] out, int off) {
        if (token < 0 || token >= vocab) {
            throw new IllegalArgumentException("token id " + token + " outside the vocabulary");
        }
        int p = table - memory.address + (token >> 4) * 32 * dim + 2 * (token & 15);
        for (int i = 0; i < dim; i++, p += 32) {
            out[off + i] = Float.intBitsToFloat(memory.getShort(p) << 16) * scale;
        }
        return true;
    }

    @Override
    public void logitsAt(float[] h, float[] logits, int[] ids, int count) {
        if (count <= 0) {
            return;
        }
        for (int k = 0; k < count; k++) {
            if (ids[k] < 0 || ids[k] >= vocab) {
                throw new IllegalArgumentException("token id " + ids[k] + " outside the vocabulary");
            }
        }
        LinearMemory im = kernels.in(4 * dim + 4 * count);
        LinearMemory lm = kernels.out(4 * count);
        im.putFloats(0, h, dim);
        im.putInts(4 * dim, ids, count);
        SimdModule.logitsAt(im.address, lm.address, table, im.address + 4 * dim, count, dim);
        for (int k = 0; k < count; k++) {
            logits[ids[k]] = lm.getFloat(4 * k);
        }
    }
}
