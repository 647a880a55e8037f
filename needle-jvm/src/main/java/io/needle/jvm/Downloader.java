package io.needle.jvm;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.MalformedURLException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Downloads one file over HTTP(S) into place, safely:
 *
 * <ul>
 *   <li>the bytes go to {@code TARGET.part}; only a complete, checked file is renamed to
 *       {@code TARGET} (atomically where the file system can), so {@code TARGET} is never half a
 *       file;</li>
 *   <li>the size is checked against what the server announced ({@code Content-Length},
 *       {@code Content-Range}, or Hugging Face's {@code X-Linked-Size}), then the caller's
 *       {@link Check} runs (for weights: the SafeTensors container parses and holds a model in
 *       the layout the engine reads);</li>
 *   <li>the sha256 is computed while the bytes arrive and compared, before the check, with a
 *       pinned sha256 when the caller gives one, else with the hash the hub announces: Hugging
 *       Face's {@code X-Linked-Etag} (a large file's sha256, on its redirect to the CDN), or the
 *       {@code ETag} of an answer that carries {@code X-Repo-Commit} (a small file's git blob
 *       sha1); only answers from the host asked (the hub) count, never those of the CDN it
 *       redirects to. A mismatch deletes the download ({@link DownloadException.Kind#HASH_MISMATCH});
 *       without a pin or a hash the file is installed as {@link Verification.Status#NOT_VERIFIED}.
 *       The installed file's sha256 goes to {@code TARGET.sha256} (the {@code sha256sum} format);</li>
 *   <li>when the connection breaks, the next attempt resumes with {@code Range} (guarded by
 *       {@code If-Range} with the ETag or Last-Modified of the first response, kept in
 *       {@code TARGET.part.etag}), also in a later run; a server that ignores the range sends the
 *       whole file and the download starts over; a resumed file that fails the check is deleted
 *       and downloaded once more from the start;</li>
 *   <li>server errors 5xx and 429 are retried; other error statuses and an unreachable host fail
 *       at once;</li>
 *   <li>redirects are followed by hand (up to 10, never from https to http) so the range headers
 *       go with every hop; connect and read time-outs mean a dead connection never hangs.</li>
 * </ul>
 */
final class Downloader {
    /** Largest file accepted: the engine reads a file into one byte array. */
    static final long MAX_BYTES = Integer.MAX_VALUE - 64;
    private static final int MAX_REDIRECTS = 10;
    private static final String USER_AGENT = "needle-java (+https://huggingface.co/Abdalrahman/needle-rs-safetensors)";
    /** The suffix of the file beside an installed file that records its sha256. */
    static final String SHA256_SUFFIX = ".sha256";

    /** Checks a downloaded file before it is moved into place. */
    @FunctionalInterface
    interface Check {
        /** Throws a {@link DownloadException} (kind CORRUPT, or MODEL for weights) when {@code file} is not acceptable. */
        void check(Path file) throws DownloadException;
    }

    int connectTimeoutMs = 15_000;
    int readTimeoutMs = 30_000;
    /** Attempts per download (the first one included). */
    int attempts = 4;
    /** Pause before the second attempt; it grows linearly with the attempt number. */
    long retryDelayMs = 1_000;

    /** A failed attempt that may succeed when tried again. */
    private static final class Retry extends Exception {
        private static final long serialVersionUID = 1L;
        final DownloadException.Kind kind;

        Retry(DownloadException.Kind kind, String message) {
            super(message, null, false, false);
            this.kind = kind;
        }
    }

    /** One attempt's outcome: the body is in the part file; its hash and what the hub announced. */
    private static final class Fetched {
        boolean resumed;
        ContentHash hash;
        ExpectedHash announced;
        /** Why the hub's answers gave no hash, when {@link #announced} is null. */
        String noHash;
    }

    /** The connection that answers with the body, and what the answers on the way said. */
    private static final class Opened {
        HttpURLConnection connection;
        long linkedSize = -1;
        ExpectedHash announced;
        String noHash;
    }

    /** As {@link #download(String, Path, DownloadListener, Check, ExpectedHash)} without a pinned hash. */
    Verification download(String url, Path target, DownloadListener listener, Check check) throws DownloadException {
        return download(url, target, listener, check, null);
    }

    /**
     * Downloads {@code url} to {@code target} (see the class comment), telling {@code listener}
     * how it goes; the file must have the sha256 {@code pin} when it is not null, else the hash
     * the hub announces, if any. Returns how it was verified.
     */
    Verification download(String url, Path target, DownloadListener listener, Check check, ExpectedHash pin)
            throws DownloadException {
        String name = target.getFileName().toString();
        Path part = sibling(target, ".part");
        Path validatorFile = sibling(target, ".part.etag");
        boolean cleanRetryDone = false;
        String lastProblem = "no attempt was made";
        DownloadException.Kind lastKind = DownloadException.Kind.INCOMPLETE;
        int attempt = 0;
        while (attempt < attempts) {
            attempt++;
            if (attempt > 1) {
                listener.retrying(name, lastProblem);
                pause(retryDelayMs * (attempt - 1));
            }
            long have = size(part);
            String validator = have > 0 ? readValidator(validatorFile) : null;
            if (have > 0 && validator == null) {
                // without a validator the bytes on disk may belong to another version of the file
                delete(part);
                have = 0;
            }
            Fetched fetched;
            try {
                fetched = fetch(url, name, part, validatorFile, have, validator, listener, pin == null);
            } catch (Retry r) {
                lastProblem = r.getMessage();
                lastKind = r.kind;
                continue;
            }
            boolean resumed = fetched.resumed;
            Verification verification;
            try {
                verification = verify(name, url, part, fetched, pin);
                check.check(part);
            } catch (DownloadException e) {
                delete(part);
                delete(validatorFile);
                if (resumed && !cleanRetryDone) {
                    cleanRetryDone = true;
                    lastProblem = e.getMessage() + " (after resuming; downloading it again from the start)";
                    lastKind = e.kind();
                    attempt--; // the clean retry is extra
                    continue;
                }
                throw e;
            }
            Path sidecar = sibling(target, SHA256_SUFFIX);
            delete(sidecar); // never a record of the file being replaced
            moveIntoPlace(part, target);
            delete(validatorFile);
            writeSha256(sidecar, verification.sha256(), name);
            listener.verified(verification);
            listener.finished(name, size(target));
            return verification;
        }
        throw new DownloadException(lastKind, "could not download " + name + " from " + url + ": " + lastProblem
                + " (" + attempts + " attempt" + (attempts == 1 ? "" : "s") + ")");
    }

    /**
     * Compares the downloaded file's hash with {@code pin}, else with the hash the hub announced;
     * a mismatch is a {@link DownloadException.Kind#HASH_MISMATCH} naming both and the source.
     */
    private static Verification verify(String name, String url, Path part, Fetched f, ExpectedHash pin)
            throws DownloadException {
        String sha256 = f.hash.sha256();
        ExpectedHash announced = f.announced;
        if (pin != null) {
            boolean hubAgrees = announced != null && announced.algorithm == ExpectedHash.Algorithm.SHA256
                    && announced.hex.equals(sha256);
            if (!pin.hex.equals(sha256)) {
                throw mismatch(name, url, pin, sha256, null, hubAgrees
                        ? "; " + announced.source + " announces the sha256 that arrived: is the pin for another version?"
                        : "");
            }
            String note = announced != null && announced.algorithm == ExpectedHash.Algorithm.SHA256 && !hubAgrees
                    ? announced.source + " announces another sha256, " + announced.hex : null;
            return new Verification(name, Verification.Status.PINNED, sha256, pin.algorithm.label, pin.hex, pin.source,
                    note);
        }
        if (announced == null) {
            return new Verification(name, Verification.Status.NOT_VERIFIED, sha256, null, null, null, f.noHash);
        }
        String actual;
        if (announced.algorithm == ExpectedHash.Algorithm.SHA256) {
            actual = sha256;
        } else {
            try {
                actual = f.hash.gitBlobSha1(part);
            } catch (IOException e) {
                throw localError("cannot read " + part, e);
            }
        }
        if (!announced.hex.equals(actual)) {
            throw mismatch(name, url, announced, actual, sha256, "");
        }
        return new Verification(name, Verification.Status.HUB, sha256, announced.algorithm.label, announced.hex,
                announced.source, null);
    }

    private static DownloadException mismatch(String name, String url, ExpectedHash expected, String actual,
            String sha256, String more) {
        boolean other = expected.algorithm != ExpectedHash.Algorithm.SHA256;
        return new DownloadException(DownloadException.Kind.HASH_MISMATCH, name + " downloaded from " + url
                + " does not have the expected " + expected.algorithm.label + ": expected " + expected.hex + " ("
                + expected.source + "), got " + actual + (other && sha256 != null ? " (sha256 " + sha256 + ")" : "")
                + "; the download was deleted, not installed" + more);
    }

    /**
     * One attempt: request {@code url} (from byte {@code have} when resuming) and append the body
     * to {@code part}, hashing it (with the git blob sha1 too when {@code mayWantGitSha1} and the
     * hub announced one).
     */
    private Fetched fetch(String url, String name, Path part, Path validatorFile, long have, String validator,
            DownloadListener listener, boolean mayWantGitSha1) throws DownloadException, Retry {
        Opened o = open(url, name, have, validator);
        HttpURLConnection c = o.connection;
        try {
            int status = responseCode(c);
            if (status == 416) {
                delete(part);
                delete(validatorFile);
                throw new Retry(DownloadException.Kind.INCOMPLETE,
                        "the server could not resume at byte " + have + " (416); starting again");
            }
            if (status == 429 || status >= 500) {
                throw new Retry(DownloadException.Kind.HTTP, "the server answered " + statusText(c, status));
            }
            if (status != 200 && status != 206) {
                throw new DownloadException(DownloadException.Kind.HTTP, "could not download " + name + ": "
                        + c.getURL().getHost() + " answered " + statusText(c, status) + " for " + url);
            }
            long from;
            long total;
            if (status == 206) {
                long[] range = parseContentRange(c.getHeaderField("Content-Range"));
                if (range == null || range[0] != have) {
                    delete(part);
                    delete(validatorFile);
                    throw new Retry(DownloadException.Kind.INCOMPLETE, "the server resumed at the wrong place ("
                            + c.getHeaderField("Content-Range") + ", wanted byte " + have + "); starting again");
                }
                from = have;
                total = range[2];
            } else {
                from = 0;
                long length = c.getContentLengthLong();
                total = length >= 0 ? length : -1;
            }
            if (total < 0) {
                total = o.linkedSize;
            } else if (o.linkedSize >= 0 && o.linkedSize != total) {
                throw new Retry(DownloadException.Kind.INCOMPLETE, "the server announced " + o.linkedSize
                        + " bytes but sent a body of " + total);
            }
            if (total > MAX_BYTES) {
                throw new DownloadException(DownloadException.Kind.CORRUPT, "could not download " + name
                        + ": the server says it has " + total + " bytes, more than the " + MAX_BYTES + " bytes allowed");
            }
            if (from == 0) {
                writeValidator(validatorFile, validatorOf(c));
            }
            listener.started(name, url, from, total);
            ContentHash hash = ContentHash.start(mayWantGitSha1 && o.announced != null
                    && o.announced.algorithm == ExpectedHash.Algorithm.GIT_BLOB_SHA1, total);
            long done = copyBody(c, name, part, from, total, listener, hash);
            if (total >= 0 && done < total) {
                throw new Retry(DownloadException.Kind.INCOMPLETE,
                        "the download was cut short: got " + done + " of " + total + " bytes");
            }
            Fetched f = new Fetched();
            f.resumed = from > 0;
            f.hash = hash;
            f.announced = o.announced;
            f.noHash = o.noHash;
            return f;
        } finally {
            c.disconnect();
        }
    }

    /**
     * Writes the response body to {@code part} (appending from byte {@code from}), feeding every
     * byte of the file to {@code hash} (those already on disk first); returns the bytes now on disk.
     */
    private long copyBody(HttpURLConnection c, String name, Path part, long from, long total,
            DownloadListener listener, ContentHash hash) throws DownloadException, Retry {
        if (from > 0) {
            try {
                hash.feed(part, from);
            } catch (IOException e) {
                throw localError("cannot read " + part, e);
            }
        }
        long done = from;
        boolean discard = false;
        StandardOpenOption mode = from > 0 ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING;
        try (OutputStream o = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode)) {
            InputStream in;
            try {
                in = c.getInputStream();
            } catch (IOException e) {
                throw new Retry(DownloadException.Kind.INCOMPLETE, "the response could not be read (" + describe(e) + ")");
            }
            try {
                byte[] buf = new byte[1 << 16];
                while (true) {
                    int n;
                    try {
                        n = in.read(buf);
                    } catch (IOException e) {
                        throw new Retry(DownloadException.Kind.INCOMPLETE, "the connection broke after " + done
                                + (total >= 0 ? " of " + total : "") + " bytes (" + describe(e) + ")");
                    }
                    if (n < 0) {
                        break;
                    }
                    if ((total >= 0 && done + n > total) || done + n > MAX_BYTES) {
                        discard = true;
                        throw new Retry(DownloadException.Kind.INCOMPLETE, "the server sent more bytes than the "
                                + (total >= 0 ? total + " it announced" : MAX_BYTES + " allowed") + "; starting again");
                    }
                    try {
                        o.write(buf, 0, n);
                    } catch (IOException e) {
                        throw localError("cannot write " + part, e);
                    }
                    hash.update(buf, 0, n);
                    done += n;
                    listener.progress(name, done, total);
                }
            } finally {
                closeQuietly(in);
            }
        } catch (DownloadException e) {
            throw e;
        } catch (IOException e) {
            throw localError("cannot write " + part, e);
        } finally {
            if (discard) {
                delete(part);
            }
        }
        return done;
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // the body was read to its end or the size check catches what is missing
        }
    }

    /**
     * Opens the connection, following redirects by hand so the range headers go with every hop and
     * the hub's own answers can be read: the hash it announces is taken from the answers of the
     * host asked, up to the first redirect elsewhere (the CDN's answers never count).
     */
    private Opened open(String url, String name, long from, String validator) throws DownloadException, Retry {
        URL first = toUrl(url);
        URL current = first;
        Opened o = new Opened();
        boolean onHub = true;
        boolean hashSeen = false;
        for (int hop = 0; ; hop++) {
            HttpURLConnection c;
            try {
                c = (HttpURLConnection) current.openConnection();
            } catch (IOException | ClassCastException e) {
                throw new DownloadException(DownloadException.Kind.UNREACHABLE, "could not reach " + current.getHost()
                        + " to download " + name + " (" + describeThrowable(e) + ")", e);
            }
            c.setInstanceFollowRedirects(false);
            c.setConnectTimeout(connectTimeoutMs);
            c.setReadTimeout(readTimeoutMs);
            c.setUseCaches(false);
            c.setRequestProperty("User-Agent", USER_AGENT);
            c.setRequestProperty("Accept-Encoding", "identity");
            if (from > 0) {
                c.setRequestProperty("Range", "bytes=" + from + "-");
                if (validator != null) {
                    c.setRequestProperty("If-Range", validator);
                }
            }
            try {
                c.connect();
            } catch (IOException e) {
                c.disconnect();
                throw new DownloadException(DownloadException.Kind.UNREACHABLE, "could not reach " + current.getHost()
                        + " to download " + name + " (" + describe(e) + ")", e);
            }
            String linked = c.getHeaderField("X-Linked-Size");
            if (linked != null) {
                try {
                    o.linkedSize = Long.parseLong(linked.trim());
                } catch (NumberFormatException e) {
                    // not Hugging Face's header after all: ignore it
                }
            }
            onHub = onHub && sameOrigin(first, current);
            if (onHub && !hashSeen) {
                hashSeen = readAnnouncedHash(c, current, o);
            }
            int status = responseCode(c);
            if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
                if (!hashSeen) {
                    o.noHash = first.getAuthority() + " sent no hash for it";
                }
                o.connection = c;
                return o;
            }
            String location = c.getHeaderField("Location");
            c.disconnect();
            if (location == null || location.isEmpty()) {
                throw new DownloadException(DownloadException.Kind.HTTP, "could not download " + name + ": "
                        + current.getHost() + " answered " + status + " (a redirect) without a Location");
            }
            if (hop + 1 > MAX_REDIRECTS) {
                throw new DownloadException(DownloadException.Kind.HTTP, "could not download " + name
                        + ": more than " + MAX_REDIRECTS + " redirects from " + url);
            }
            URL next;
            try {
                next = current.toURI().resolve(location.trim().replace(" ", "%20")).toURL();
            } catch (URISyntaxException | MalformedURLException | IllegalArgumentException e) {
                throw new DownloadException(DownloadException.Kind.HTTP, "could not download " + name
                        + ": bad redirect to '" + location + "' from " + current);
            }
            if (current.getProtocol().equalsIgnoreCase("https") && !next.getProtocol().equalsIgnoreCase("https")) {
                throw new DownloadException(DownloadException.Kind.HTTP, "could not download " + name
                        + ": refusing a redirect from https to " + next.getProtocol() + " (" + next.getHost() + ")");
            }
            current = next;
        }
    }

    /**
     * Reads the hash an answer of the hub announces into {@code o}: {@code X-Linked-Etag}, else
     * the {@code ETag} of an answer with {@code X-Repo-Commit} (Hugging Face's mark; a mirror's
     * plain ETag is no hash). Returns whether the answer had such a header (usable or not).
     */
    private static boolean readAnnouncedHash(HttpURLConnection c, URL at, Opened o) {
        String where = at.getAuthority();
        String linked = c.getHeaderField("X-Linked-Etag");
        String header;
        String value;
        if (linked != null && !linked.trim().isEmpty()) {
            header = "X-Linked-Etag";
            value = linked;
        } else {
            String etag = c.getHeaderField("ETag");
            if (c.getHeaderField("X-Repo-Commit") == null || etag == null || etag.trim().isEmpty()) {
                return false;
            }
            header = "ETag";
            value = etag;
        }
        String source = "the " + header + " header of " + where;
        o.announced = ExpectedHash.fromEtag(value, source);
        if (o.announced == null) {
            o.noHash = source + " is no sha256 or git blob sha1 ('" + value.trim() + "')";
        }
        return true;
    }

    /** Same scheme, host and port. */
    private static boolean sameOrigin(URL a, URL b) {
        int pa = a.getPort() < 0 ? a.getDefaultPort() : a.getPort();
        int pb = b.getPort() < 0 ? b.getDefaultPort() : b.getPort();
        return a.getProtocol().equalsIgnoreCase(b.getProtocol()) && a.getHost().equalsIgnoreCase(b.getHost()) && pa == pb;
    }

    /** The response status; failures to read it (a reset, a read time-out) are worth another attempt. */
    private static int responseCode(HttpURLConnection c) throws Retry {
        try {
            int status = c.getResponseCode();
            if (status < 0) {
                throw new Retry(DownloadException.Kind.HTTP, "the server's answer is not HTTP");
            }
            return status;
        } catch (IOException e) {
            throw new Retry(DownloadException.Kind.INCOMPLETE, "no answer from " + c.getURL().getHost()
                    + " (" + describe(e) + ")");
        }
    }

    private static String statusText(HttpURLConnection c, int status) {
        String message = null;
        try {
            message = c.getResponseMessage();
        } catch (IOException e) {
            // the status alone will do
        }
        return status + (message == null || message.isEmpty() ? "" : " " + message);
    }

    /** {@code bytes START-END/TOTAL} → {start, end, total} (total -1 for {@code *}); null when malformed. */
    static long[] parseContentRange(String header) {
        if (header == null) {
            return null;
        }
        String h = header.trim();
        if (!h.startsWith("bytes ")) {
            return null;
        }
        h = h.substring(6).trim();
        int dash = h.indexOf('-');
        int slash = h.indexOf('/');
        if (dash <= 0 || slash < dash) {
            return null;
        }
        try {
            long start = Long.parseLong(h.substring(0, dash).trim());
            long end = Long.parseLong(h.substring(dash + 1, slash).trim());
            String t = h.substring(slash + 1).trim();
            long total = t.equals("*") ? -1 : Long.parseLong(t);
            if (start < 0 || end < start || (total >= 0 && end >= total)) {
                return null;
            }
            return new long[] {start, end, total};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The strong ETag, else Last-Modified, else null: what {@code If-Range} needs to resume safely. */
    private static String validatorOf(HttpURLConnection c) {
        String etag = c.getHeaderField("ETag");
        if (etag != null && !etag.isEmpty() && !etag.startsWith("W/")) {
            return etag.trim();
        }
        String modified = c.getHeaderField("Last-Modified");
        return modified == null || modified.isEmpty() ? null : modified.trim();
    }

    private static String readValidator(Path file) {
        try {
            String v = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
            return v.isEmpty() || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0 ? null : v;
        } catch (IOException e) {
            return null;
        }
    }

    private static void writeValidator(Path file, String validator) throws DownloadException {
        try {
            if (validator == null) {
                Files.deleteIfExists(file);
            } else {
                Files.write(file, (validator + "\n").getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw localError("cannot write " + file, e);
        }
    }

    /** Writes {@code sha256} for {@code name} to {@code file} in the {@code sha256sum} format. */
    static void writeSha256(Path file, String sha256, String name) throws DownloadException {
        try {
            Files.write(file, (sha256 + "  " + name + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw localError("cannot write " + file, e);
        }
    }

    /** The sha256 recorded in {@code file} (the first word of its first line), or null when there is none. */
    static String readSha256(Path file) {
        try {
            if (!Files.isRegularFile(file) || Files.size(file) > 4096) {
                return null;
            }
            String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
            int end = 0;
            while (end < text.length() && !Character.isWhitespace(text.charAt(end))) {
                end++;
            }
            return ExpectedHash.sha256Hex(text.substring(0, end));
        } catch (IOException e) {
            return null;
        }
    }

    private static void moveIntoPlace(Path part, Path target) throws DownloadException {
        try {
            try {
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw localError("cannot move " + part + " to " + target, e);
        }
    }

    private static URL toUrl(String url) throws DownloadException {
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme();
            if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                    || uri.getHost() == null) {
                throw new DownloadException(DownloadException.Kind.HTTP, "'" + url + "' is not an http(s) URL");
            }
            return uri.toURL();
        } catch (URISyntaxException | MalformedURLException | IllegalArgumentException e) {
            throw new DownloadException(DownloadException.Kind.HTTP, "'" + url + "' is not a valid URL");
        }
    }

    private void pause(long ms) throws DownloadException {
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DownloadException(DownloadException.Kind.LOCAL_IO, "the download was interrupted");
        }
    }

    private static Path sibling(Path target, String suffix) {
        return target.resolveSibling(target.getFileName().toString() + suffix);
    }

    /** The size of {@code file}, 0 when it does not exist. */
    static long size(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // a leftover is overwritten or resumed-over-checked later
        }
    }

    private static DownloadException localError(String what, IOException e) {
        return new DownloadException(DownloadException.Kind.LOCAL_IO, what + ": " + describe(e), e);
    }

    /** A short reason for a network or file error, without the exception's class name where it is clear. */
    static String describe(IOException e) {
        String m = e.getMessage();
        if (e instanceof UnknownHostException) {
            return "unknown host " + (m == null ? "" : m) + ": no network or no DNS";
        }
        if (e instanceof ConnectException) {
            return m == null ? "connection refused" : m.toLowerCase();
        }
        if (e instanceof NoRouteToHostException) {
            return "no route to host";
        }
        if (e instanceof SocketTimeoutException) {
            return m == null ? "timed out" : m.toLowerCase();
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory: " + m;
        }
        return describeThrowable(e);
    }

    private static String describeThrowable(Throwable e) {
        String m = e.getMessage();
        String type = e.getClass().getSimpleName();
        return m == null || m.isEmpty() ? type : type + ": " + m;
    }
}
