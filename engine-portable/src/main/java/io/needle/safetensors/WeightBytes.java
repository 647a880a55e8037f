package io.needle.safetensors;

/**
 * The bytes of a weight file held outside the Java heap, by a host: the npm package keeps the file
 * only in the Wasm linear memory, where its SIMD kernels compute on it, and never makes a Java
 * array of it. {@link SafeTensors#parse(WeightBytes)} reads the header and the small tensors
 * (norms, gates, group scales) through it, copying each; the large ones (INT4 matrices, the 16-bit
 * embedding) are never copied: a model loaded this way has no Java copy of them, and its host's
 * kernels ({@code io.needle.model.Kernels}) must compute every layer that reads them.
 */
public interface WeightBytes {
    /** The file's length in bytes. */
    int length();

    /** Copies the file's bytes [offset, offset + n) to dst[at, at + n). */
    void copy(int offset, byte[] dst, int at, int n);
}
