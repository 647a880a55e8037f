package io.needle.jvm;

import java.io.IOException;

/**
 * A model file could not be downloaded. The message is one line naming the file, the address and
 * what went wrong; {@link #kind()} tells the cases apart.
 */
public final class DownloadException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** The host could not be reached at all (offline, unknown host, connection refused or timed out). */
        UNREACHABLE,
        /** The server answered with an error status (404, 403, 500 …), also after the retries. */
        HTTP,
        /** The connection kept breaking before the whole file arrived, or it is larger than the server said. */
        INCOMPLETE,
        /** The file arrived but is not what it should be (not a SafeTensors file, not a vocabulary). */
        CORRUPT,
        /**
         * The weights arrived whole and are a valid SafeTensors file, but not a Needle model this
         * version loads: another tensor layout (the message names the one read, the needle-rs layout
         * of docs/spec/WEIGHTS.md), a missing or misshapen tensor, metadata that contradicts the tensors.
         */
        MODEL,
        /**
         * The file arrived whole but its hash is not the one expected: a sha256 the user pinned, or
         * the hash the hub announced (Hugging Face's {@code X-Linked-Etag} / {@code ETag}); or a
         * cached file no longer has its pinned sha256. The message names the file, both hashes and
         * where the expected one came from; the downloaded bytes are deleted, never installed.
         */
        HASH_MISMATCH,
        /** Reading or writing the cache directory failed. */
        LOCAL_IO
    }

    /** What went wrong. */
    private final Kind kind;

    /** An error of {@code kind} with a one-line {@code message}. */
    public DownloadException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    /** An error of {@code kind} with a one-line {@code message} and its cause. */
    public DownloadException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    /** What went wrong. */
    public Kind kind() {
        return kind;
    }
}
