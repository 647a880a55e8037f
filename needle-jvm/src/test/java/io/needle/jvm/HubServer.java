package io.needle.jvm;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local stand-in for Hugging Face on 127.0.0.1 (never the real network): serves files under
 * {@code /resolve/main/NAME} by redirecting to {@code /cdn/NAME} with {@code X-Linked-Size} (as the
 * hub does), and answers {@code /cdn/NAME} with Range support (206 + Content-Range, If-Range
 * against a strong ETag). Each file can misbehave on purpose: cut its first responses short, fail
 * with a status, ignore ranges, stall.
 */
final class HubServer implements AutoCloseable {

    /** One served file and how it misbehaves. */
    static final class File {
        volatile byte[] bytes;
        volatile String etag = "\"v1\"";
        /** The next this-many responses send only {@link #cutAt} bytes of the body, then drop the connection. */
        final AtomicInteger cutResponses = new AtomicInteger();
        volatile int cutAt;
        /** The next this-many requests get {@link #errorStatus}. */
        final AtomicInteger errorResponses = new AtomicInteger();
        volatile int errorStatus = 500;
        volatile boolean ignoreRange;
        volatile boolean redirect = true;
        /** The next this-many responses stall this long after the headers and a few bytes. */
        final AtomicInteger stallResponses = new AtomicInteger();
        volatile long stallMs;

        File(byte[] bytes) {
            this.bytes = bytes;
        }
    }

    /** A request as the server saw it. */
    static final class Request {
        final String path;
        final String range;
        final String ifRange;

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

    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final HttpServer server;
    private final Map<String, File> files = new ConcurrentHashMap<>();
    final List<Request> requests = Collections.synchronizedList(new ArrayList<>());

    HubServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** Serves {@code bytes} as {@code name}; returns its settings for misbehaviour. */
    File put(String name, byte[] bytes) {
        File f = new File(bytes);
        files.put(name, f);
        return f;
    }

    /** The hub base URL, ending with {@code /}. */
    String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/resolve/main/";
    }

    /** Requests for {@code /cdn/NAME} (the file bodies). */
    List<Request> bodyRequests(String name) {
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
    static String closedPortUrl() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        return "http://127.0.0.1:" + port + "/resolve/main/";
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            String path = ex.getRequestURI().getPath();
            requests.add(new Request(path, ex.getRequestHeaders().getFirst("Range"),
                    ex.getRequestHeaders().getFirst("If-Range")));
            String name = path.substring(path.lastIndexOf('/') + 1);
            File f = files.get(name);
            if (f == null) {
                send(ex, 404, new byte[0]);
                return;
            }
            if (path.startsWith("/resolve/main/") && f.redirect) {
                ex.getResponseHeaders().add("Location", "/cdn/" + name);
                ex.getResponseHeaders().add("X-Linked-Size", Long.toString(f.bytes.length));
                ex.getResponseHeaders().add("ETag", f.etag);
                ex.sendResponseHeaders(302, -1);
                return;
            }
            if (f.errorResponses.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                send(ex, f.errorStatus, "error".getBytes());
                return;
            }
            byte[] body = f.bytes;
            int start = 0;
            String range = ex.getRequestHeaders().getFirst("Range");
            String ifRange = ex.getRequestHeaders().getFirst("If-Range");
            boolean partial = range != null && !f.ignoreRange && (ifRange == null || ifRange.equals(f.etag));
            ex.getResponseHeaders().add("ETag", f.etag);
            ex.getResponseHeaders().add("Accept-Ranges", "bytes");
            if (partial) {
                start = Integer.parseInt(range.substring("bytes=".length(), range.indexOf('-')));
                if (start >= body.length) {
                    ex.getResponseHeaders().add("Content-Range", "bytes */" + body.length);
                    ex.sendResponseHeaders(416, -1);
                    return;
                }
                ex.getResponseHeaders().add("Content-Range", "bytes " + start + "-" + (body.length - 1) + "/" + body.length);
            }
            int length = body.length - start;
            ex.sendResponseHeaders(partial ? 206 : 200, length == 0 ? -1 : length);
            OutputStream os = ex.getResponseBody();
            if (f.cutResponses.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                int n = Math.max(0, Math.min(length, f.cutAt - start));
                os.write(body, start, n);
                os.flush();
                closeAbruptly(ex); // drop the connection mid-body
                return;
            }
            if (f.stallResponses.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                os.write(body, start, Math.min(length, 16));
                os.flush();
                try {
                    Thread.sleep(f.stallMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                closeAbruptly(ex);
                return;
            }
            os.write(body, start, length);
            os.close();
        } catch (IOException | RuntimeException e) {
            ex.close();
        }
    }

    /** Closes the exchange before the announced body is complete: the server drops the connection. */
    private static void closeAbruptly(HttpExchange ex) {
        try {
            ex.getResponseBody().close(); // "insufficient bytes written": the connection is closed
        } catch (IOException e) {
            // expected
        }
        ex.close();
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            ex.getResponseBody().write(body);
        }
        ex.close();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
