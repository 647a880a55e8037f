package io.needle.jvm;

/**
 * How a downloaded model file was checked against a hash: the file's sha256 (always computed,
 * while it downloads) and what it was compared with. A file whose hash differs is never
 * installed (a {@link DownloadException} of kind {@link DownloadException.Kind#HASH_MISMATCH});
 * this object describes the files that were. {@link DownloadListener#verified} hears it.
 */
public final class Verification {
    /** What the file was compared with. */
    public enum Status {
        /**
         * A sha256 the user gave ({@link ModelCache#withSha256}, {@code NEEDLE_WEIGHTS_SHA256} /
         * {@code NEEDLE_VOCAB_SHA256}, the command line's {@code --weights-sha256} /
         * {@code --vocab-sha256}); it wins over what the hub announces.
         */
        PINNED,
        /**
         * The hash the hub announced for the file: Hugging Face's {@code X-Linked-Etag} (the
         * sha256 of a large file), or the {@code ETag} of a small file (its git blob sha1).
         */
        HUB,
        /** Nothing to compare with: no pin and no usable hash from the hub ({@link #note()} says why). */
        NOT_VERIFIED
    }

    private final String file;
    private final Status status;
    private final String sha256;
    private final String algorithm;
    private final String expected;
    private final String source;
    private final String note;

    Verification(String file, Status status, String sha256, String algorithm, String expected, String source,
            String note) {
        this.file = file;
        this.status = status;
        this.sha256 = sha256;
        this.algorithm = algorithm;
        this.expected = expected;
        this.source = source;
        this.note = note;
    }

    /** The file's name ({@code needle.safetensors}, {@code vocab.txt}). */
    public String file() {
        return file;
    }

    /** What the file was compared with. */
    public Status status() {
        return status;
    }

    /** The sha256 of the bytes installed, 64 lower-case hex digits (also in the cache's {@code NAME.sha256}). */
    public String sha256() {
        return sha256;
    }

    /** {@code "sha256"} or {@code "git blob sha1"}: the hash compared; null when {@link Status#NOT_VERIFIED}. */
    public String algorithm() {
        return algorithm;
    }

    /** The value compared with (lower-case hex, equal to the file's); null when {@link Status#NOT_VERIFIED}. */
    public String expected() {
        return expected;
    }

    /**
     * Where the expected value came from, e.g. {@code NEEDLE_WEIGHTS_SHA256} or
     * {@code the X-Linked-Etag header of huggingface.co}; null when {@link Status#NOT_VERIFIED}.
     */
    public String source() {
        return source;
    }

    /**
     * More to know, or null: why the file was not verified ({@code huggingface.co sent no hash for
     * it}), or that the hub announced another value than the pin the file matched.
     */
    public String note() {
        return note;
    }

    /** One line for a log, e.g. {@code needle.safetensors: sha256 3f… matches the X-Linked-Etag header of huggingface.co}. */
    public String describe() {
        String s;
        if (status == Status.NOT_VERIFIED) {
            s = file + ": not verified (" + note + "); sha256 " + sha256;
        } else {
            s = file + ": " + algorithm + " " + expected + " matches " + source;
            if (!algorithm.equals("sha256")) {
                s += " (sha256 " + sha256 + ")";
            }
            if (note != null) {
                s += "; " + note;
            }
        }
        return s;
    }

    @Override
    public String toString() {
        return describe();
    }
}
