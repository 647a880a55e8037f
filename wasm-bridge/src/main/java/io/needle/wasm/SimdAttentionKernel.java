package io.needle.wasm;

import io.needle.model.Attention;
import io.needle.model.AttentionKernel;

/**
 * The core of one attention block computed by needle-simd.wasm: the queries, keys, values and
 * mask are copied into the linear memory per call, the context rows out. Several query rows (the
 * encoder) always; one row (a decoder step) when it attends to {@link #ONE_ROW_MIN_KEYS} keys or
 * more (the cross-attention over the encoder's output: a decode step 13% faster with a 192-token
 * prompt), else the portable loops, whose work is then small next to the copying. See
 * {@link SimdKernels}.
 */
final class SimdAttentionKernel implements AttentionKernel {
    private final SimdKernels kernels;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;
    /**
     * A single query row (a decoder step) comes here when it attends to at least this many keys
     * (the cross-attention over the encoder's output): copying its keys and values in costs less
     * than the portable loops' scalar arithmetic over them; fewer keys stay with the portable loops.
     */
    static final int ONE_ROW_MIN_KEYS = 16;

    SimdAttentionKernel(SimdKernels kernels, Attention a) {
        this.kernels = kernels;
        this.heads = a.heads();
        this.kvHeads = a.kvHeads();
        this.headDim = a.headDim();
        this.scale = (float) (1.0 / Math.sqrt(headDim)); // as Attention.attend computes it
    }

    @Override
    public boolean attend(float[] qs, int rows, int pos0, float[] keysT, int kStride, float[] values, int keyCount,
            boolean[] keyValid, boolean causal, float[] ctx) {
        if (keyCount <= 0 || (rows < 2 && keyCount < ONE_ROW_MIN_KEYS)) {
            return false;
        }
        int qd = heads * headDim;
        int kvDim = kvHeads * headDim;
        int stride = (keyCount + 3) & ~3;
        int qAt = 0;
        int kAt = qAt + 4 * rows * qd;
        int vAt = kAt + 4 * kvDim * stride;
        int validAt = vAt + 4 * keyCount * kvDim;
        int scoresAt = validAt + ((keyCount + 15) & ~15);
        LinearMemory in = kernels.in(scoresAt + 4 * stride);
        LinearMemory out = kernels.out(4 * rows * qd);
        in.putFloats(qAt, qs, rows * qd);
        for (int r = 0; r < kvDim; r++) {
            in.putFloats(kAt + 4 * r * stride, keysT, r * kStride, keyCount);
        }
        in.putFloats(vAt, values, 0, keyCount * kvDim); // [keys][kvHeads][headDim], as the store holds them
        for (int j = 0; j < keyCount; j++) {
            in.putByte(validAt + j, keyValid == null || keyValid[j] ? (byte) 1 : (byte) 0);
        }
        SimdModule.attend(in.address + qAt, in.address + kAt, in.address + vAt, in.address + validAt,
                out.address, in.address + scoresAt, rows, keyCount, stride, heads, kvHeads, headDim, scale,
                pos0, causal ? 1 : 0);
        out.getFloats(0, ctx, 0, rows * qd);
        return true;
    }
}
