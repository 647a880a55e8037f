package io.needle.model;

/**
 * A source of faster matrix kernels for one model, chosen by the host: the npm package's Wasm SIMD
 * module, a JVM-only Vector API path. The portable Java kernels ({@link Int4Linear}, {@link
 * Embedding}) are the reference: a kernel given here must compute the very same floats, bit for
 * bit (the same operations in the same order per output value; only the order in which output
 * values are produced may differ), so that every host decodes the same tokens.
 *
 * <p>They are installed once, when the model loads ({@code NeedleEngine.load(weights, vocab,
 * kernels)}): {@link #prepare} first, then one question per layer; a null answer keeps the
 * portable kernel for that layer (a shape the fast path does not handle, for example). The model
 * does not change afterwards, except that when the host holds the weight file (its INT4 layers have
 * no Java bytes) the layers let go of their Java copy of the group scales once the kernels are
 * installed: a kernel keeps what it needs of {@code Int4Linear.scales()} when it is made.
 */
public interface Kernels {
    /** Called once with the loaded model before the per-layer questions (to size buffers, copy weights). */
    default void prepare(NeedleModel model) {
    }

    /** A kernel computing {@code linear}'s forward pass, or null to keep the portable one. */
    Int4Kernel int4(Int4Linear linear);

    /** A kernel computing {@code embedding}'s output projection (logits), or null to keep the portable one. */
    LogitsKernel logits(Embedding embedding);

    /** A kernel computing {@code attention}'s core (scores, softmax, weighted values), or null (the default). */
    default AttentionKernel attention(Attention attention) {
        return null;
    }

    /**
     * How this host runs independent tasks of one computation (see {@link Tasks}), or null (the
     * default) for one after another on the caller's thread.
     */
    default Tasks tasks() {
        return null;
    }
}
