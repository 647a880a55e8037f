package io.needle.jvm;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local stand-in for Hugging Face on 127.0.0.1 (never the real network), a minimal HTTP/1.1
 * server on a plain socket (one request per connection, so it can drop a connection mid-body):
 * serves files under
 * {@code /resolve/main/NAME} by redirecting to {@code /cdn/NAME} with {@code X-Linked-Size},
 * {@code X-Linked-Etag} (the sha256 of the file) and {@code X-Repo-Commit}, as the hub does for a
 * large (LFS) file, and answers {@code /cdn/NAME} with Range support (206 + Content-Range,
 * If-Range against a strong ETag). The CDN is on the same port, or on another one (another
 * origin, as the real CDN is) with {@link #HubServer(boolean)}. A file served without the
 * redirect answers as the hub does for a small file when {@link File#gitEtag} is set: its git blob
 * sha1 as the ETag, with {@code X-Repo-Commit}. Each file can misbehave on purpose: cut its first
 * responses short, fail with a status, ignore ranges, stall, serve other bytes than the hub
 * announces ({@link File#tamper}), announce no hash.
 */
public final class HubServer implements AutoCloseable {

    /** One served file and how it misbehaves. */
    public static final class File {
        public volatile byte[] bytes;
        public volatile String etag = "\"v1\"";
        /** The next this-many responses send only {@link #cutAt} bytes of the body, then drop the connection. */
        public final AtomicInteger cutResponses = new AtomicInteger();
        public volatile int cutAt;
        /** The next this-many requests get {@link #errorStatus}. */
        public final AtomicInteger errorResponses = new AtomicInteger();
        public volatile int errorStatus = 500;
        public volatile boolean ignoreRange;
        public volatile boolean redirect = true;
        /**
         * Announce the hash: X-Linked-Etag on the redirect; on a direct answer, X-Repo-Commit (the
         * hub's mark that its ETag is the file's git blob sha1).
         */
        public volatile boolean announceHash = true;
        /** Answer /resolve/main/NAME directly (no redirect) with the git blob sha1 as the ETag. */
        public volatile boolean gitEtag;
        /** The bytes whose hash is announced; null: {@link #bytes}. */
        public volatile byte[] announcedBytes;
        /** Headers the CDN adds to the body's answer (e.g. an X-Linked-Etag of its own), each ending with CRLF. */
        public volatile String cdnHeaders = "";
        /** The next this-many responses stall this long after the headers and a few bytes. */
        public final AtomicInteger stallResponses = new AtomicInteger();
        public volatile long stallMs;

        File(byte[] bytes) {
            this.bytes = bytes;
        }

        /** Serves {@code served} from now on while the hub goes on announcing the hash of the bytes served until now. */
        public void tamper(byte[] served) {
            announcedBytes = bytes;
            bytes = served;
        }

        byte[] announced() {
            byte[] a = announcedBytes;
            return a == null ? bytes : a;
        }
    }

    /** A commit id, as the hub sends in X-Repo-Commit. */
    public static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    /** The sha256 of {@code bytes}, lower-case hex. */
    public static String sha256(byte[] bytes) {
        return hex(digest("SHA-256", bytes));
    }

    /** The git blob sha1 of {@code bytes} (what {@code git hash-object} prints). */
    public static String gitBlobSha1(byte[] bytes) {
        byte[] head = ("blob " + bytes.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[head.length + bytes.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(bytes, 0, all, head.length, bytes.length);
        return hex(digest("SHA-1", all));
    }

    private static byte[] digest(String algorithm, byte[] bytes) {
        try {
            return MessageDigest.getInstance(algorithm).digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] d) {
        StringBuilder sb = new StringBuilder();
        for (byte b : d) {
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }

    /** A request as the server saw it. */
    public static final class Request {
        public final String path;
        public final String range;
        public final String ifRange;

        Request(String path, String range, String ifRange) {
            this.path = path;
            this.range = range;
            this.ifRange = ifRange;
        }

        @Override
        public String toString() {
            return path + (range == null ? "" : " Range: " + range) + (ifRange == null ? "" : " If-Range: " + ifRange);
        }
    }

    private final ServerSocket socket;
    /** The CDN's own port (another origin), or null when the CDN paths are on {@link #socket}. */
    private final ServerSocket cdnSocket;
    private final Thread acceptor;
    private final Map<String, File> files = new ConcurrentHashMap<>();
    public final List<Request> requests = Collections.synchronizedList(new ArrayList<>());

    public HubServer() throws IOException {
        this(false);
    }

    /** A hub whose CDN is on another port of 127.0.0.1 (another origin) when {@code cdnElsewhere}. */
    public HubServer(boolean cdnElsewhere) throws IOException {
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        cdnSocket = cdnElsewhere ? new ServerSocket(0, 50, InetAddress.getLoopbackAddress()) : null;
        acceptor = new Thread(() -> acceptLoop(socket), "hub-server");
        acceptor.setDaemon(true);
        acceptor.start();
        if (cdnSocket != null) {
            Thread cdn = new Thread(() -> acceptLoop(cdnSocket), "hub-cdn");
            cdn.setDaemon(true);
            cdn.start();
        }
    }

    /** Serves {@code bytes} as {@code name}; returns its settings for misbehaviour. */
    public File put(String name, byte[] bytes) {
        File f = new File(bytes);
        files.put(name, f);
        return f;
    }

    /** The hub base URL, ending with {@code /}. */
    public String base() {
        return "http://127.0.0.1:" + socket.getLocalPort() + "/resolve/main/";
    }

    /** Requests for {@code /cdn/NAME} (the file bodies). */
    public List<Request> bodyRequests(String name) {
        List<Request> out = new ArrayList<>();
        synchronized (requests) {
            for (Request r : requests) {
                if (r.path.equals("/cdn/" + name)) {
                    out.add(r);
                }
            }
        }
        return out;
    }

    /** A URL on 127.0.0.1 where nothing listens. */
    public static String closedPortUrl() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        return "http://127.0.0.1:" + port + "/resolve/main/";
    }

    private void acceptLoop(ServerSocket listening) {
        while (!listening.isClosed()) {
            try {
                Socket c = listening.accept();
                Thread t = new Thread(() -> serve(c), "hub-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** One request per connection ("Connection: close"), so dropping the socket cuts a body short. */
    private void serve(Socket c) {
        try (Socket conn = c) {
            conn.setSoTimeout(10_000);
            InputStream in = conn.getInputStream();
            String requestLine = readLine(in);
            if (requestLine == null) {
                return;
            }
            Map<String, String> headers = new HashMap<>();
            for (String line; (line = readLine(in)) != null && !line.isEmpty(); ) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
                }
            }
            String path = requestLine.split(" ")[1];
            requests.add(new Request(path, headers.get("range"), headers.get("if-range")));
            respond(conn.getOutputStream(), path, headers);
        } catch (IOException | RuntimeException e) {
            // the client went away
        }
    }

    private void respond(OutputStream os, String path, Map<String, String> headers) throws IOException {
        String name = path.substring(path.lastIndexOf('/') + 1);
        File f = files.get(name);
        if (f == null) {
            head(os, 404, "Not Found", 0, "");
            return;
        }
        if (path.startsWith("/resolve/main/") && f.redirect) {
            String location = cdnSocket == null ? "/cdn/" + name
                    : "http://127.0.0.1:" + cdnSocket.getLocalPort() + "/cdn/" + name;
            head(os, 302, "Found", 0, "Location: " + location + "\r\nX-Linked-Size: " + f.bytes.length
                    + "\r\nETag: " + f.etag + "\r\n" + (f.announceHash ? "X-Repo-Commit: " + COMMIT
                    + "\r\nX-Linked-Etag: \"" + sha256(f.announced()) + "\"\r\n" : ""));
            return;
        }
        if (f.errorResponses.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            head(os, f.errorStatus, "Server Error", 0, "");
            return;
        }
        byte[] body = f.bytes;
        boolean git = path.startsWith("/resolve/main/") && f.gitEtag;
        String etag = git ? "\"" + gitBlobSha1(f.announced()) + "\"" : f.etag;
        int start = 0;
        String range = headers.get("range");
        String ifRange = headers.get("if-range");
        boolean partial = range != null && !f.ignoreRange && (ifRange == null || ifRange.equals(etag));
        String extra = "ETag: " + etag + "\r\nAccept-Ranges: bytes\r\n"
                + (path.startsWith("/resolve/main/") && f.announceHash ? "X-Repo-Commit: " + COMMIT + "\r\n" : "")
                + (path.startsWith("/cdn/") ? f.cdnHeaders : "");
        if (partial) {
            start = Integer.parseInt(range.substring("bytes=".length(), range.indexOf('-')));
            if (start >= body.length) {
                head(os, 416, "Range Not Satisfiable", 0, extra + "Content-Range: bytes */" + body.length + "\r\n");
                return;
            }
            extra += "Content-Range: bytes " + start + "-" + (body.length - 1) + "/" + body.length + "\r\n";
        }
        int length = body.length - start;
        head(os, partial ? 206 : 200, partial ? "Partial Content" : "OK", length, extra);
        if (f.cutResponses.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            os.write(body, start, Math.max(0, Math.min(length, f.cutAt - start)));
            os.flush();
            return; // the socket closes: the body is cut short
        }
        if (f.stallResponses.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            os.write(body, start, Math.min(length, 16));
            os.flush();
            try {
                Thread.sleep(f.stallMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        os.write(body, start, length);
        os.flush();
    }

    private static void head(OutputStream os, int status, String reason, long length, String extra) throws IOException {
        String h = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Length: " + length + "\r\nConnection: close\r\n"
                + extra + "\r\n";
        os.write(h.getBytes(StandardCharsets.ISO_8859_1));
        os.flush();
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int b; (b = in.read()) != -1; ) {
            if (b == '\n') {
                int n = sb.length();
                return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
            }
            sb.append((char) b);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    @Override
    public void close() {
        try {
            socket.close();
            if (cdnSocket != null) {
                cdnSocket.close();
            }
        } catch (IOException e) {
            // closed already
        }
    }
}
