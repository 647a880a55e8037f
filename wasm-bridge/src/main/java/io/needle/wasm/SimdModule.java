package io.needle.wasm;

import org.teavm.interop.Import;

/**
 * The functions of needle-simd.wasm, the npm package's hand-written Wasm SIMD kernels (source:
 * npm-package/simd/needle-simd.wat), as imports of needle.wasm: the package instantiates that
 * module on needle.wasm's own linear memory and passes its exports in as the import module
 * {@code needleSimd} (wasm-to-wasm calls, no JavaScript in between). Arguments are addresses in
 * the linear memory ({@link LinearMemory}) and sizes. Where the host has no Wasm SIMD, {@link
 * #available()} answers 0 and the others are never called.
 */
final class SimdModule {
    private SimdModule() {
    }

    /** 1 when the SIMD kernels were instantiated, 0 when the host lacks them (or they were not supplied). */
    @Import(module = "needleSimd", name = "available")
    static native int available();

    /**
     * y = x @ W for an INT4 linear: x [rows, in] f32 at {@code x}, y [rows, out] f32 at {@code y},
     * packed nibbles at {@code w}, group scales f32 at {@code scales}, {@code group * out} floats of
     * work space at {@code scratch}; out a multiple of 16.
     */
    @Import(module = "needleSimd", name = "int4")
    static native void int4(int x, int y, int w, int scales, int rows, int in, int out, int group, int scratch);

    /** out[16b + j] = h · E[16b + j] for blocks b in [b0, b1) of the blocked BF16 embedding at emb. */
    @Import(module = "needleSimd", name = "logits")
    static native void logits(int h, int out, int emb, int b0, int b1, int dim);

    /**
     * Re-lays the row-major BF16 table [vocab, dim] at {@code p} (vocab a multiple of 16) into
     * blocks of 16 rows, in place; {@code tmp}: 32 * dim bytes of work space.
     */
    @Import(module = "needleSimd", name = "blockRows")
    static native void blockRows(int p, int vocab, int dim, int tmp);

    /**
     * Attention's core for {@code rows} queries: q and ctx [rows][heads*hd], keys transposed
     * [kvHeads*hd][stride], values [keys][kvHeads*hd], valid [keys] bytes, scores: stride floats of
     * work space; causal 0 or 1.
     */
    @Import(module = "needleSimd", name = "attend")
    static native void attend(int q, int keysT, int values, int valid, int ctx, int scores, int rows, int keys,
            int stride, int heads, int kvHeads, int headDim, float scale, int pos0, int causal);

    /** out[k] = h · E[ids[k]] for k in [0, count) (ids: i32 at {@code ids}). */
    @Import(module = "needleSimd", name = "logitsAt")
    static native void logitsAt(int h, int out, int emb, int ids, int count, int dim);
}
