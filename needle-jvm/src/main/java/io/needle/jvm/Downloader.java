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

    /**
     * Downloads {@code url} to {@code target} (see the class comment), telling {@code listener}
     * how it goes.
     */
    void download(String url, Path target, DownloadListener listener, Check check) throws DownloadException {
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
            boolean resumed;
            try {
                resumed = fetch(url, name, part, validatorFile, have, validator, listener);
            } catch (Retry r) {
                lastProblem = r.getMessage();
                lastKind = r.kind;
                continue;
            }
            try {
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
            moveIntoPlace(part, target);
            delete(validatorFile);
            listener.finished(name, size(target));
            return;
        }
        throw new DownloadException(lastKind, "could not download " + name + " from " + url + ": " + lastProblem
                + " (" + attempts + " attempt" + (attempts == 1 ? "" : "s") + ")");
    }

    /**
     * One attempt: request {@code url} (from byte {@code have} when resuming) and append the body
     * to {@code part}. Returns whether the bytes were appended to an earlier partial download.
     */
    private boolean fetch(String url, String name, Path part, Path validatorFile, long have, String validator,
            DownloadListener listener) throws DownloadException, Retry {
        long[] linkedSize = {-1};
        HttpURLConnection c = open(url, name, have, validator, linkedSize);
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
                total = linkedSize[0];
            } else if (linkedSize[0] >= 0 && linkedSize[0] != total) {
                throw new Retry(DownloadException.Kind.INCOMPLETE, "the server announced " + linkedSize[0]
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
            long done = copyBody(c, name, part, from, total, listener);
            if (total >= 0 && done < total) {
                throw new Retry(DownloadException.Kind.INCOMPLETE,
                        "the download was cut short: got " + done + " of " + total + " bytes");
            }
            return from > 0;
        } finally {
            c.disconnect();
        }
    }

    /** Writes the response body to {@code part} (appending from byte {@code from}); returns the bytes now on disk. */
    private long copyBody(HttpURLConnection c, String name, Path part, long from, long total,
            DownloadListener listener) throws DownloadException, Retry {
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

    /** Opens the connection, following redirects by hand so the range headers go with every hop. */
    private HttpURLConnection open(String url, String name, long from, String validator, long[] linkedSize)
            throws DownloadException, Retry {
        URL current = toUrl(url);
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
                    linkedSize[0] = Long.parseLong(linked.trim());
                } catch (NumberFormatException e) {
                    // not Hugging Face's header after all: ignore it
                }
            }
            int status = responseCode(c);
            if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
                return c;
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
