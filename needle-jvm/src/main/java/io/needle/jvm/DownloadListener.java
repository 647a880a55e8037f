package io.needle.jvm;

/**
 * Hears how a download of a model file goes, for a progress bar or a log. Only
 * {@link #progress} must be implemented; it is called after every block received (often: throttle
 * any drawing). All methods run on the downloading thread.
 *
 * <pre>
 * DownloadListener l = (file, done, total) -&gt; System.err.print("\r" + file + " " + done + "/" + total);
 * </pre>
 */
@FunctionalInterface
public interface DownloadListener {
    /** A listener that ignores everything. */
    DownloadListener NONE = (file, done, total) -> {
    };

    /**
     * A download of {@code file} (e.g. {@code needle.safetensors}) from {@code url} begins, or
     * resumes when {@code from > 0} (the bytes already on disk). {@code total} is the file's full
     * size, or -1 when the server does not say.
     */
    default void started(String file, String url, long from, long total) {
    }

    /** {@code done} bytes of {@code file} are on disk (counting resumed bytes); {@code total} as in {@link #started}. */
    void progress(String file, long done, long total);

    /** An attempt failed for {@code reason} (a cut connection, a server error) and the download tries again. */
    default void retrying(String file, String reason) {
    }

    /**
     * {@code file} passed its hash check and is about to be {@link #finished}: compared with a
     * pinned sha256 or the hub's hash, or not verified because there was nothing to compare with
     * ({@link Verification#status()}).
     */
    default void verified(Verification verification) {
    }

    /** {@code file} is complete, checked and in place, {@code bytes} long. */
    default void finished(String file, long bytes) {
    }
}
