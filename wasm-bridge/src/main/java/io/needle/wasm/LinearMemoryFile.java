package io.needle.wasm;

import io.needle.safetensors.WeightBytes;

/**
 * The weight file as the engine reads it when only the linear memory holds it (one copy of the
 * weights: {@link NeedleWasm#loadSimd}): the header from a small Java copy the package hands
 * over, everything else from the block the package filled ({@link #filled}). The engine reads
 * the header and the small tensors through it; the SIMD kernels compute on the block in place.
 */
final class LinearMemoryFile implements WeightBytes {
    private final byte[] head; // the file's first bytes (at least its length prefix and header)
    private final int length;
    private LinearMemory block; // the file's bytes from address 0, once filled

    LinearMemoryFile(byte[] head, int length) {
        this.head = head;
        this.length = length;
    }

    /** The block holding the whole file from its byte 0, filled: reads past the head go there. */
    void filled(LinearMemory block) {
        this.block = block;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public void copy(int offset, byte[] dst, int at, int n) {
        if (offset + n <= head.length) {
            System.arraycopy(head, offset, dst, at, n);
        } else if (block != null) {
            block.getBytes(offset, dst, at, n);
        } else {
            // only the header is read before the block is filled; a file whose header claims more
            // than the package handed over is refused by SafeTensors before it reads further
            throw new IllegalStateException("bytes [" + offset + ", " + (offset + n) + ") read before the file was copied in");
        }
    }
}
