package io.needle.reliability;

import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException;
import io.needle.synthetic.ModelWriter;
import io.needle.testing.Shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.function.Executable;

/**
 * A small random model (vocab 8192 so it fits the real fixture vocabulary, d_model 32, one
 * encoder and one decoder layer) loaded once, for the reliability tests; and the shared check that
 * a call fails with a NeedleException of the right kind and one clear line.
 */
final class TinyEngine {
    private static NeedleEngine engine;
    private static String vocab;

    private TinyEngine() {
    }

    /** The model's writer, for tests that alter a tensor or the metadata before loading. */
    static ModelWriter writer() {
        // BF16 norms and gates (the model card's), F32 group scales and contrastive head (export.py's)
        return ModelWriter.tiny().vocabSize(8192).dModel(32).heads(4, 2).layers(1, 1).contrastive(16)
                .normDtype(io.needle.synthetic.TensorType.BF16);
    }

    /** The fixture vocabulary text (8192 pieces). */
    static synchronized String vocab() {
        if (vocab == null) {
            vocab = Shared.vocab();
        }
        return vocab;
    }

    static synchronized NeedleEngine get() {
        if (engine == null) {
            engine = NeedleEngine.load(writer().build(), vocab());
        }
        return engine;
    }

    /** Runs {@code call}, expects a NeedleException of {@code kind} whose one-line message holds every fragment. */
    static NeedleException fails(NeedleException.Kind kind, Executable call, String... fragments) {
        NeedleException e = assertThrows(NeedleException.class, call);
        assertEquals(kind, e.kind(), e.getMessage());
        checkMessage(e);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message \"" + e.getMessage() + "\" should contain \"" + f + "\"");
        }
        return e;
    }

    /** A NeedleException has a kind and one non-empty line of message. */
    static void checkMessage(NeedleException e) {
        assertNotNull(e.kind());
        String m = e.getMessage();
        assertNotNull(m);
        assertFalse(m.isEmpty(), "empty message");
        assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
    }
}
