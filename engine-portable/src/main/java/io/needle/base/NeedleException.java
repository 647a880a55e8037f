package io.needle.base;

/**
 * The one error type the engine throws for problems a user can cause (a bad weight file, a missing
 * tensor, a malformed vocabulary, tools text that is not JSON, ...). {@link #kind()} is
 * machine-readable; {@link #getMessage()} is one clear line naming the problem.
 */
public class NeedleException extends RuntimeException {

    /** What went wrong, for programs. */
    public enum Kind {
        /** The weight file is not a valid SafeTensors container or has wrong tensors. */
        WEIGHTS,
        /** The model configuration (metadata) is missing or inconsistent. */
        CONFIG,
        /** The vocabulary file is malformed or does not fit the model. */
        VOCAB,
        /** A JSON text (tools, a request) could not be parsed. */
        JSON,
        /** Any other bad argument: token ids out of range, bad options. */
        INPUT
    }

    private final Kind kind;

    public NeedleException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
