package io.needle.jvm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The hashes of a file computed while its bytes are written: always the sha256, and the git blob
 * sha1 ({@code sha1("blob " + length + "\0" + content)}) when the hub announced one and the length
 * is known before the first byte. A resumed download feeds the bytes already on disk first
 * ({@link #feed(Path, long)}); nothing is read into memory as a whole.
 */
final class ContentHash {
    private static final int BUFFER = 1 << 16;

    private final MessageDigest sha256 = digest("SHA-256");
    /** Null unless asked for with the length known. */
    private final MessageDigest gitSha1;
    private final long gitLength;
    private long bytes;

    private ContentHash(boolean gitBlobSha1, long length) {
        if (gitBlobSha1 && length >= 0) {
            gitSha1 = digest("SHA-1");
            gitSha1.update(("blob " + length + "\0").getBytes(StandardCharsets.US_ASCII));
        } else {
            gitSha1 = null;
        }
        gitLength = length;
    }

    /**
     * A hash of a file of {@code length} bytes (-1 when unknown); with {@code gitBlobSha1} its git
     * blob sha1 too (computed from the file at the end when the length is unknown).
     */
    static ContentHash start(boolean gitBlobSha1, long length) {
        return new ContentHash(gitBlobSha1, length);
    }

    void update(byte[] b, int off, int len) {
        sha256.update(b, off, len);
        if (gitSha1 != null) {
            gitSha1.update(b, off, len);
        }
        bytes += len;
    }

    /** Feeds the first {@code count} bytes of {@code file} (the part a download resumes after). */
    void feed(Path file, long count) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[BUFFER];
            long left = count;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new IOException(file + " is shorter than " + count + " bytes");
                }
                update(buf, 0, n);
                left -= n;
            }
        }
    }

    /** The bytes hashed so far. */
    long bytes() {
        return bytes;
    }

    /** The sha256 of everything fed, lower-case hex (once: it ends the hash). */
    String sha256() {
        return hex(sha256.digest());
    }

    /**
     * The git blob sha1 of everything fed, or of {@code file} (read once more, in blocks) when the
     * length was not known at the start or differs from the bytes fed.
     */
    String gitBlobSha1(Path file) throws IOException {
        if (gitSha1 != null && gitLength == bytes) {
            return hex(gitSha1.digest());
        }
        return gitBlobSha1Of(file);
    }

    /** The sha256 of a file, read in blocks. */
    static String sha256Of(Path file) throws IOException {
        ContentHash h = new ContentHash(false, -1);
        h.feed(file, Files.size(file));
        return h.sha256();
    }

    /** The sha256 of {@code data}. */
    static String sha256Of(byte[] data) {
        return hex(digest("SHA-256").digest(data));
    }

    /** The git blob sha1 of a file (what {@code git hash-object} prints), read in blocks. */
    static String gitBlobSha1Of(Path file) throws IOException {
        long size = Files.size(file);
        ContentHash h = new ContentHash(true, size);
        h.feed(file, size);
        return hex(h.gitSha1.digest());
    }

    static String hex(byte[] digest) {
        StringBuilder sb = new StringBuilder(digest.length * 2);
        for (byte b : digest) {
            sb.append(Character.forDigit((b >> 4) & 15, 16)).append(Character.forDigit(b & 15, 16));
        }
        return sb.toString();
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is missing from this JVM", e); // every JVM has both
        }
    }
}
