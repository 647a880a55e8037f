package io.needle.e2e;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The static host of the tests: serves the built demo folder at {@code /} and in-memory files
 * (generated models) at the paths they are {@linkplain #put put} under, on 127.0.0.1 and a free
 * port. Every response says {@code Cache-Control: no-store}, so the browser's HTTP cache never
 * answers: a file the page reads a second time without a request here came from the Cache API
 * (or the service worker). Counts the requests per path ({@link #hits}).
 */
final class DemoServer implements AutoCloseable {
    private static final int CHUNK = 64 * 1024;

    private final HttpServer server;
    private final ExecutorService executor;
    private final Path root;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Map<String, Boolean> slow = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final List<String> log = new ArrayList<>();

    private DemoServer(Path root) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        executor = Executors.newFixedThreadPool(8);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** Starts a server for the demo folder {@code root}. */
    static DemoServer start(Path root) throws IOException {
        if (!Files.isRegularFile(root.resolve("index.html"))) {
            throw new IllegalStateException(root + "/index.html is missing: the demo is built by this module's "
                    + "process-test-resources phase (node web-demo/build.mjs)");
        }
        return new DemoServer(root);
    }

    /** Serves {@code data} at {@code path} (e.g. "/models/small.safetensors"). */
    DemoServer put(String path, byte[] data) {
        files.put(path, data);
        return this;
    }

    /** As {@link #put(String, byte[])}, sent in 64 KB pieces with a short pause between (progress shows). */
    DemoServer putSlow(String path, byte[] data) {
        slow.put(path, true);
        return put(path, data);
    }

    /** The absolute URL of a path. */
    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** How many requests asked for {@code path} (query strings ignored). */
    int hits(String path) {
        AtomicInteger n = hits.get(path);
        return n == null ? 0 : n.get();
    }

    /** Every request so far, as "METHOD path". */
    synchronized List<String> log() {
        return new ArrayList<>(log);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = URI.create(exchange.getRequestURI().toString()).getPath();
            synchronized (this) {
                log.add(method + " " + path);
            }
            hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                send(exchange, 405, "text/plain", "method not allowed\n".getBytes(), false);
                return;
            }
            byte[] body = files.get(path);
            String type = "application/octet-stream";
            if (body == null) {
                Path file = root.resolve(path.substring(1)).normalize();
                if (file.startsWith(root) && Files.isDirectory(file)) {
                    file = file.resolve("index.html");
                }
                if (!file.startsWith(root) || !Files.isRegularFile(file)) {
                    send(exchange, 404, "text/plain", ("not found: " + path + "\n").getBytes(), false);
                    return;
                }
                body = Files.readAllBytes(file);
                type = contentType(file.getFileName().toString());
            } else if (path.endsWith(".txt")) {
                type = "text/plain; charset=utf-8";
            }
            if (method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Content-Type", type);
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            send(exchange, 200, type, body, slow.containsKey(path));
        } catch (IOException e) {
            // the browser went away (a page closed mid-download): nothing to answer
        }
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body, boolean slowly)
            throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, body.length);
        OutputStream out = exchange.getResponseBody();
        for (int off = 0; off < body.length; off += CHUNK) {
            out.write(body, off, Math.min(CHUNK, body.length - off));
            if (slowly) {
                out.flush();
                try {
                    Thread.sleep(3);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
        }
    }

    private static String contentType(String name) {
        if (name.endsWith(".html")) {
            return "text/html; charset=utf-8";
        }
        if (name.endsWith(".js") || name.endsWith(".mjs")) {
            return "text/javascript; charset=utf-8";
        }
        if (name.endsWith(".css")) {
            return "text/css; charset=utf-8";
        }
        if (name.endsWith(".json")) {
            return "application/json";
        }
        if (name.endsWith(".wasm")) {
            return "application/wasm";
        }
        if (name.endsWith(".txt") || name.endsWith(".md") || name.endsWith(".ts")) {
            return "text/plain; charset=utf-8";
        }
        return "application/octet-stream";
    }
}
