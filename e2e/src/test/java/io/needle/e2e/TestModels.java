package io.needle.e2e;

import io.needle.engine.NeedleEngine;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TensorType;
import io.needle.testing.Shared;

/**
 * The models the tests serve to the page, each with the JVM engine loaded from the same bytes (the
 * reference answers). Both use the real vocabulary ({@code ../shared/fixtures/tokenizer/vocab.txt},
 * 8192 pieces), so queries are tokenized as with the published model. Built once per JVM.
 */
final class TestModels {
    /** Weights, vocabulary and the JVM engine loaded from them. */
    static final class Model {
        final byte[] weights;
        final String vocab;
        final NeedleEngine engine;

        Model(byte[] weights, String vocab) {
            this.weights = weights;
            this.vocab = vocab;
            this.engine = NeedleEngine.load(weights, vocab);
        }
    }

    private static Model small;
    private static Model full;
    private static Model noMetadata;

    private TestModels() {
    }

    /**
     * A small model (d_model 64, 2+2 layers, swiglu) with a contrastive head, about 1.2 MB: quick
     * runs and a retrieval panel. Seed 27 answers every preset's first query with a non-empty call
     * list (checked by the tests, which need varied outputs to compare, not these exact ones).
     */
    static synchronized Model small() {
        if (small == null) {
            small = new Model(new ModelWriter().seed(27).vocabSize(8192).dModel(64).heads(4, 2).layers(2, 2)
                    .ffn(128, "swiglu").contrastive(64).build(), Shared.vocab());
        }
        return small;
    }

    /**
     * The real model's shape (d_model 512, 12+8 layers, INT4), random weights, no contrastive head,
     * export.py's metadata; about 22.6 MB.
     */
    static synchronized Model full() {
        if (full == null) {
            full = new Model(ModelWriter.fullSize().seed(7).build(), Shared.vocab());
        }
        return full;
    }

    /**
     * A file as the first needle-rs export wrote it: no {@code __metadata__} (the engine infers the
     * configuration from the tensors), BF16 norms, gates of shape []; an FFN of 75 (down_proj rows
     * padded to 96), a contrastive head of hidden width 24, one plain F32 linear among the INT4 ones.
     */
    static synchronized Model noMetadata() {
        if (noMetadata == null) {
            noMetadata = new Model(new ModelWriter().seed(31).vocabSize(8192).dModel(64).heads(8, 2).layers(2, 1)
                    .ffn(75, "drelu").contrastive(24, 32).metadata(ModelWriter.Metadata.NONE)
                    .normDtype(TensorType.BF16).scalarGates(true).linearDtype("decoder.0.cross_attn.wo", TensorType.F32)
                    .build(), Shared.vocab());
        }
        return noMetadata;
    }
}
