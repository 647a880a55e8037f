package io.needle.wasm;

import io.needle.model.Attention;
import io.needle.model.AttentionKernel;
import io.needle.model.Embedding;
import io.needle.model.Int4Kernel;
import io.needle.model.Int4Linear;
import io.needle.model.Kernels;
import io.needle.model.Linear;
import io.needle.model.LogitsKernel;
import io.needle.safetensors.DType;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;

/**
 * The Wasm SIMD kernels for one model, installed when it loads ({@link NeedleWasm#loadSimd}). The
 * weight file is in the linear memory ({@code file}: the npm package copies it there in bulk), where
 * needle-simd.wasm computes on it: the INT4 linears read their packed nibbles in place, the BF16
 * embedding is re-laid there in blocks of 16 rows (the row look-ups of the encoder's and the
 * decoder's input read it there too), the group scales are read in place too (F32 in the needle-rs
 * layout; a file with 16-bit scales has them copied after the file as floats). Usually
 * this is the only copy of the weights: the engine has none in Java ({@link #takesAll}). Per
 * call only the activations are copied in and the results out (and, for the encoder's attention,
 * the keys and values of the call). The floats are the portable
 * kernels' own, bit for bit (see npm-package/simd/needle-simd.wat), so the tokens are the same.
 *
 * <p>An INT4 linear is the file's I4 tensor {@code [in_pad/2, out]} (rows padded with zeros to a
 * multiple of the group size {@code min(32, in)}) and its {@code .scale} {@code [in_pad/g, out]}:
 * the kernels read the first {@code in} rows only (the pairs of the byte rows, a last odd row
 * multiplied by 0 as in {@link Int4Linear}), with a last group shorter than g when in is not a
 * multiple of 32, or one odd group when in is odd and below 32.
 *
 * <p>Layers the module does not handle (an output width that is not a multiple of 16, an F16
 * embedding, a vocabulary that is not a multiple of 16) keep the portable Java kernels, which need
 * the file as a Java array too ({@code fileBytes}: only for such files). The work buffers are
 * shared by all layers (one call at a time: the engine is single-threaded).
 */
final class SimdKernels implements Kernels {
    private final LinearMemory file; // the weight file's bytes from byte 0, then room for the group scales
    private final byte[] fileBytes; // the same bytes as a Java array, or null (the usual case: one copy)
    private int scalesNext; // where the next layer's scales go in file
    private SimdLogitsKernel logits; // made once: the table is re-laid in place
    private LinearMemory in = new LinearMemory(0); // activations in: x, h, ids
    private LinearMemory out = new LinearMemory(0); // results out: y, logits
    private LinearMemory scratch = new LinearMemory(0); // an unpacked weight group

    /**
     * Kernels over the weight file in {@code file} (its {@code fileLength} bytes from byte 0, then
     * {@link #scalesBytes} of room for the group scales: one block, as TeaVM's linear-memory
     * allocator is slow with many small ones); {@code fileBytes}: the engine's Java array of the
     * same file, or null when the engine reads it from {@code file} only.
     */
    SimdKernels(LinearMemory file, int fileLength, byte[] fileBytes) {
        this.file = file;
        this.fileBytes = fileBytes;
        this.scalesNext = align(fileLength);
    }

    /**
     * True when these kernels take every layer of the file that reads its large tensors (every I4
     * matrix, a 16-bit embedding), from the header alone: the engine then needs no Java copy of the
     * file. A malformed file answers true: the loader reports it the same way either way.
     */
    static boolean takesAll(SafeTensors st) {
        for (TensorInfo t : st.tensors()) {
            if (t.dtype() == DType.I4 && t.rank() == 2 && t.dim(1) % 16 != 0) {
                return false;
            }
        }
        TensorInfo e = st.get("embedding");
        if (e == null || e.rank() != 2 || e.dtype() == DType.F32) {
            return true;
        }
        return e.dtype() == DType.BF16 && e.dim(0) % 16 == 0;
    }

    /**
     * The room the group scales take after the file: every {@code .scale} tensor the file does not
     * hold as F32 (those, the needle-rs layout's, are read in place), as floats.
     */
    static int scalesBytes(SafeTensors st) {
        int n = 0;
        for (TensorInfo t : st.tensors()) {
            if (t.name().endsWith(".scale") && t.dtype() != DType.F32) {
                n += align(4 * (int) t.elementCount());
            }
        }
        return n;
    }

    /** The file plus the scales' room (see {@link #scalesBytes}). */
    static int fileBlockBytes(SafeTensors st) {
        return align(st.length()) + scalesBytes(st);
    }

    private static int align(int n) {
        return (n + 15) & ~15;
    }

    /** True when the host instantiated the SIMD module. */
    static boolean available() {
        return SimdModule.available() == 1;
    }

    @Override
    public Int4Kernel int4(Int4Linear linear) {
        int rows = linear.in();
        int cols = linear.out();
        int group = linear.groupSize();
        if (cols % 16 != 0 || rows <= 0) {
            return null;
        }
        int packedBytes = ((rows + 1) / 2) * cols;
        int scaleCount = ((rows + group - 1) / group) * cols;
        boolean inFile = linear.packedBytes() == null || linear.packedBytes() == fileBytes; // this file's layer
        LinearMemory scales = file;
        int scalesAt = inFile ? linear.scalesOffset() : -1; // the file's F32 scales, read in place
        if (scalesAt < 0) { // 16-bit in the file (or another file's layer): the floats, copied
            scalesAt = scalesNext;
            if (scalesAt + 4 * scaleCount <= file.size) {
                scalesNext = align(scalesAt + 4 * scaleCount);
            } else {
                scales = new LinearMemory(4 * scaleCount);
                scalesAt = 0;
            }
            scales.putFloats(scalesAt, linear.scales(), scaleCount);
        }
        if (inFile) {
            return new SimdInt4Kernel(this, file, linear.packedOffset(), scales, scalesAt, rows, cols, group);
        }
        LinearMemory packed = new LinearMemory(packedBytes);
        packed.putBytes(0, linear.packedBytes(), linear.packedOffset(), packedBytes);
        return new SimdInt4Kernel(this, packed, 0, scales, scalesAt, rows, cols, group);
    }

    @Override
    public AttentionKernel attention(Attention attention) {
        return attention.headDim() % 4 == 0 ? new SimdAttentionKernel(this, attention) : null;
    }

    @Override
    public LogitsKernel logits(Embedding embedding) {
        if (embedding.format() != Embedding.Format.BF16) {
            return null;
        }
        if (logits != null) {
            return logits;
        }
        int vocab = embedding.vocab();
        int dim = embedding.dim();
        if ((embedding.bytes() == null || embedding.bytes() == fileBytes) && vocab % 16 == 0) {
            // in place: block b takes the bytes of rows 16b..16b+15
            SimdModule.blockRows(file.address + embedding.offset(), vocab, dim, scratch(32 * dim).address);
            logits = new SimdLogitsKernel(this, file, embedding.offset(), vocab, dim);
            return logits;
        }
        if (embedding.bytes() == null) {
            return null; // not reached: takesAll sends such files the Java array too
        }
        int blocks = (vocab + 15) / 16;
        LinearMemory table = new LinearMemory(blocks * 32 * dim);
        byte[] b = embedding.bytes();
        int base = embedding.offset();
        // E[v][i] goes to block v/16, slot i*16 + v%16 (the padding rows of the last block stay 0)
        for (int v = 0; v < vocab; v++) {
            int p = base + 2 * v * dim;
            int q = (v >> 4) * 32 * dim + 2 * (v & 15);
            for (int i = 0; i < dim; i++, p += 2, q += 32) {
                table.putShort(q, (short) ((b[p] & 0xff) | (b[p + 1] << 8)));
            }
        }
        logits = new SimdLogitsKernel(this, table, 0, vocab, dim);
        return logits;
    }

    /** The activations-in buffer, at least {@code bytes} long. */
    LinearMemory in(int bytes) {
        if (in.size < bytes) {
            in = new LinearMemory(grow(in.size, bytes));
        }
        return in;
    }

    /** The results-out buffer, at least {@code bytes} long. */
    LinearMemory out(int bytes) {
        if (out.size < bytes) {
            out = new LinearMemory(grow(out.size, bytes));
        }
        return out;
    }

    /** The work space for one unpacked weight group, at least {@code bytes} long. */
    LinearMemory scratch(int bytes) {
        if (scratch.size < bytes) {
            scratch = new LinearMemory(grow(scratch.size, bytes));
        }
        return scratch;
    }

    private static int grow(int have, int need) {
        return Math.max(need, have + have / 2);
    }
}
