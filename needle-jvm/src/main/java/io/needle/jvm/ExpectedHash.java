package io.needle.jvm;

import java.util.Locale;

/**
 * A hash a downloaded file must have, and where that value came from (for the messages): a sha256
 * the user pinned, or what the hub announced. Hugging Face announces a large (LFS) file's sha256
 * in {@code X-Linked-Etag} on its {@code /resolve} answer (the redirect to its CDN), and a small
 * file's git blob sha1 ({@code sha1("blob " + length + "\0" + content)}, 40 hex digits, not a
 * sha256) in the {@code ETag} of its direct answer, which also carries {@code X-Repo-Commit}.
 */
final class ExpectedHash {
    /** The hash functions announced hashes come in. */
    enum Algorithm {
        SHA256("sha256"),
        GIT_BLOB_SHA1("git blob sha1");

        final String label;

        Algorithm(String label) {
            this.label = label;
        }
    }

    final Algorithm algorithm;
    /** Lower-case hex. */
    final String hex;
    /** Where the value came from, e.g. "NEEDLE_WEIGHTS_SHA256" or "the X-Linked-Etag header of huggingface.co". */
    final String source;

    private ExpectedHash(Algorithm algorithm, String hex, String source) {
        this.algorithm = algorithm;
        this.hex = hex;
        this.source = source;
    }

    /**
     * A sha256 given by the user ({@code source} names where: an option, a variable).
     *
     * @throws IllegalArgumentException when {@code sha256} is not 64 hex digits
     */
    static ExpectedHash pinned(String sha256, String source) {
        String hex = sha256Hex(sha256);
        if (hex == null) {
            throw new IllegalArgumentException(source + " must be a sha256: 64 hex digits, got '" + sha256 + "'");
        }
        return new ExpectedHash(Algorithm.SHA256, hex, source);
    }

    /** {@code s} as 64 lower-case hex digits (surrounding spaces dropped), or null when it is not a sha256. */
    static String sha256Hex(String s) {
        if (s == null) {
            return null;
        }
        String t = s.trim().toLowerCase(Locale.ROOT);
        return isHex(t, 64) ? t : null;
    }

    /**
     * The hash an entity tag carries, or null when it carries none: the quotes and a weak
     * {@code W/} prefix are dropped (as huggingface_hub does); 64 hex digits are a sha256, 40 a git
     * blob sha1, anything else ({@code "v1"}, an MD5, a date) no hash.
     */
    static ExpectedHash fromEtag(String etag, String source) {
        String v = normalizeEtag(etag);
        if (isHex(v, 64)) {
            return new ExpectedHash(Algorithm.SHA256, v, source);
        }
        if (isHex(v, 40)) {
            return new ExpectedHash(Algorithm.GIT_BLOB_SHA1, v, source);
        }
        return null;
    }

    /** An entity tag without {@code W/} and quotes, lower case. */
    static String normalizeEtag(String etag) {
        String v = etag == null ? "" : etag.trim();
        if (v.startsWith("W/") || v.startsWith("w/")) {
            v = v.substring(2).trim();
        }
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        return v.toLowerCase(Locale.ROOT);
    }

    private static boolean isHex(String s, int length) {
        if (s.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return algorithm.label + " " + hex + " (" + source + ")";
    }
}
