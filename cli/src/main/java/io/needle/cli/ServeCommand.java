package io.needle.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.needle.base.NeedleException;
import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.engine.TokenListener;
import io.needle.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code needle serve [--weights W --vocab V] [--host H] [--port N]}: OpenAI's chat completions API
 * on this machine, so that code written for the {@code openai} SDK gets tool calls from Needle with
 * {@code baseURL: "http://127.0.0.1:8080/v1"}. The JDK's own HTTP server, no framework:
 *
 * <pre>
 * POST /v1/chat/completions   (stream or not; OpenAiChat maps requests and answers)
 * GET  /v1/models, GET /v1/models/needle
 * </pre>
 *
 * The model loads before the server listens; then one line with the base URL goes to stdout and
 * the server runs until the process is stopped. Requests are answered by a few threads; the engine
 * computes one request at a time (the others wait for it). With the environment variable
 * {@code NEEDLE_API_KEY} set, every endpoint wants {@code Authorization: Bearer NEEDLE_API_KEY}.
 * One line per request goes to stderr.
 */
final class ServeCommand {
    private static final List<String> VALUE_OPTIONS = List.of("weights", "vocab", "hub-url", "weights-sha256",
            "vocab-sha256", "host", "port");
    private static final List<String> FLAGS = List.of(ModelFiles.PORTABLE);
    static final String DEFAULT_HOST = "127.0.0.1";
    static final int DEFAULT_PORT = 8080;
    /** Larger request bodies are refused (413). */
    static final int MAX_BODY_BYTES = 4 << 20;
    /** The environment variable holding the API key the server wants (none when unset or empty). */
    static final String API_KEY_VARIABLE = "NEEDLE_API_KEY";

    private ServeCommand() {
    }

    static int run(String[] argv, int from, Inputs inputs, PrintStream out, PrintStream err) {
        Args a = Args.parse("serve", argv, from, VALUE_OPTIONS, FLAGS);
        a.expectPositionals(0, "no positional arguments");
        String host = a.value("host") == null ? DEFAULT_HOST : a.value("host");
        if (host.isEmpty()) {
            throw CliException.usage("option --host needs a host name or address, e.g. 127.0.0.1");
        }
        int port = port(a.value("port"));
        NeedleEngine engine = ModelFiles.resolve(a, inputs, err).load(a.flag(ModelFiles.PORTABLE));
        Server server = Server.start(engine, host, port, inputs.env().get(API_KEY_VARIABLE), err);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "needle-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (server.apiKey == null && !server.loopback()) {
            err.print("needle serve: warning: listening on " + host + " without " + API_KEY_VARIABLE
                    + ": anyone who can reach this port can run the model; set " + API_KEY_VARIABLE + " to require a key\n");
        }
        out.print("needle serve: " + server.baseUrl() + " (OpenAI-compatible: POST /v1/chat/completions, GET /v1/models;"
                + " model \"" + OpenAiChat.MODEL_ID + "\"" + (server.apiKey == null ? "" : "; API key required")
                + "; Ctrl-C stops)\n");
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) { // (tests stop it so)
            Runtime.getRuntime().removeShutdownHook(hook);
            server.close();
        }
        return Main.EXIT_OK;
    }

    private static int port(String value) {
        if (value == null) {
            return DEFAULT_PORT;
        }
        try {
            int p = Integer.parseInt(value.trim());
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw CliException.usage("option --port must be a port number from 0 to 65535 (0: any free port), got '"
                + value + "'");
    }

    /** The running server (tests start it on port 0 and close it). */
    static final class Server implements AutoCloseable {
        private final HttpServer http;
        private final ExecutorService threads;
        private final NeedleEngine engine;
        private final ReentrantLock engineLock = new ReentrantLock(true);
        final String apiKey;
        private final PrintStream log;
        private final String host;

        private Server(HttpServer http, ExecutorService threads, NeedleEngine engine, String apiKey, PrintStream log,
                String host) {
            this.http = http;
            this.host = host;
            this.threads = threads;
            this.engine = engine;
            this.apiKey = apiKey == null || apiKey.isEmpty() ? null : apiKey;
            this.log = log;
        }

        /** Listens on host:port (0: a free port) with {@code engine}; {@code apiKey} null or empty: none. */
        static Server start(NeedleEngine engine, String host, int port, String apiKey, PrintStream log) {
            InetSocketAddress address = new InetSocketAddress(host, port);
            if (address.isUnresolved()) {
                throw CliException.error("cannot listen on " + host + ": unknown host");
            }
            HttpServer http;
            try {
                http = HttpServer.create(address, 64);
            } catch (BindException e) {
                throw CliException.error("cannot listen on " + host + ":" + port + ": " + reason(e)
                        + (port == 0 ? "" : " (choose another --port)"));
            } catch (IOException e) {
                throw CliException.error("cannot listen on " + host + ":" + port + ": " + reason(e));
            }
            ExecutorService threads = Executors.newFixedThreadPool(4, r -> {
                Thread t = new Thread(r, "needle-serve");
                t.setDaemon(true);
                return t;
            });
            Server server = new Server(http, threads, engine, apiKey, log, host);
            http.createContext("/", server::handle);
            http.setExecutor(threads);
            http.start();
            return server;
        }

        private static String reason(IOException e) {
            String m = e.getMessage();
            return m == null ? e.getClass().getSimpleName() : m.toLowerCase(java.util.Locale.ROOT);
        }

        int port() {
            return http.getAddress().getPort();
        }

        /** True when only this machine can connect (a loopback address). */
        boolean loopback() {
            return http.getAddress().getAddress().isLoopbackAddress();
        }

        /** The base URL of the API, for the SDK's baseURL: {@code http://HOST:PORT/v1} (HOST as given). */
        String baseUrl() {
            String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
            return "http://" + h + ":" + port() + "/v1";
        }

        @Override
        public void close() {
            http.stop(0);
            threads.shutdownNow();
        }

        // ------------------------------------------------------------------ requests

        private void handle(HttpExchange ex) {
            long t0 = System.nanoTime();
            int status = 200;
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getRawPath();
            try {
                status = route(ex, method, path);
            } catch (OpenAiError e) {
                status = e.status;
                sendError(ex, e);
            } catch (ClientGone e) {
                status = 499; // (logged only) the client went away while its answer streamed
            } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
                OpenAiError internal = new OpenAiError(500, "internal_error", null,
                        Main.oneLine(Main.describeUnexpected(e)));
                status = internal.status;
                sendError(ex, internal);
            } finally {
                ex.close();
                log.print("needle serve: " + method + " " + path + " " + status + " ("
                        + Math.round((System.nanoTime() - t0) / 1e6) + " ms)\n");
                log.flush();
            }
        }

        /** Answers one request; returns its status. */
        private int route(HttpExchange ex, String method, String path) {
            if (path.equals("/v1/chat/completions")) {
                allow(method, "POST", path);
                authorize(ex);
                return chat(ex);
            }
            if (path.equals("/v1/models")) {
                allow(method, "GET", path);
                authorize(ex);
                return sendJson(ex, 200, OpenAiChat.models());
            }
            if (path.startsWith("/v1/models/")) {
                allow(method, "GET", path);
                authorize(ex);
                String id = java.net.URLDecoder.decode(path.substring("/v1/models/".length()), StandardCharsets.UTF_8);
                if (!id.equals(OpenAiChat.MODEL_ID)) {
                    throw OpenAiChat.modelNotFound(id);
                }
                return sendJson(ex, 200, OpenAiChat.model());
            }
            throw new OpenAiError(404, "unknown_url", null, "there is no " + method + " " + path
                    + ": the endpoints are POST /v1/chat/completions, GET /v1/models and GET /v1/models/{model}");
        }

        private static void allow(String method, String allowed, String path) {
            if (!method.equals(allowed)) {
                throw new OpenAiError(405, "method_not_allowed", null, path + " takes " + allowed + ", not " + method);
            }
        }

        private void authorize(HttpExchange ex) {
            if (apiKey == null) {
                return;
            }
            String given = ex.getRequestHeaders().getFirst("Authorization");
            byte[] a = (given == null ? "" : given).getBytes(StandardCharsets.UTF_8);
            byte[] b = ("Bearer " + apiKey).getBytes(StandardCharsets.UTF_8);
            if (!MessageDigest.isEqual(a, b)) {
                throw new OpenAiError(401, "invalid_api_key", null, "a valid API key is needed: the header"
                        + " \"Authorization: Bearer <" + API_KEY_VARIABLE + ">\" (the key this server was started with)");
            }
        }

        private int chat(HttpExchange ex) {
            OpenAiChat.Request request = OpenAiChat.parse(body(ex), RunOptions.DEFAULT_MAX_NEW_TOKENS);
            String id = OpenAiChat.newId("chatcmpl-");
            long created = System.currentTimeMillis() / 1000;
            RunOptions options = new RunOptions().maxNewTokens(request.maxNewTokens).requireCall(request.requireCall);
            engineLock.lock();
            try {
                if (!request.stream) {
                    RunResult r = run(request, options);
                    OpenAiChat.Output output = new OpenAiChat.Output();
                    output.push(r.text, null);
                    OpenAiChat.Answer answer = new OpenAiChat.Answer(output, r.complete, request.parallelToolCalls);
                    return sendJson(ex, 200, OpenAiChat.completion(id, created, answer,
                            OpenAiChat.usage(r.timings.prefillTokens, r.tokens.length)));
                }
                return stream(ex, request, options, id, created);
            } finally {
                engineLock.unlock();
            }
        }

        /**
         * A streamed answer: the response starts with the first token (an error before it is still an
         * HTTP error), each piece of the output goes out as it is produced; an engine error after
         * that ends the stream with an error event. A client that goes away stops the run.
         */
        private int stream(HttpExchange ex, OpenAiChat.Request request, RunOptions options, String id, long created) {
            SseWriter sse = new SseWriter(ex);
            OpenAiChat.Chunks chunks = new OpenAiChat.Chunks(id, created, request, sse::event);
            boolean[] begun = {false};
            options.listener(new TokenListener() {
                @Override
                public void onToken(int tokenId, String piece) {
                    if (!begun[0]) {
                        begun[0] = true;
                        chunks.begin();
                    }
                    chunks.piece(piece);
                }

                @Override
                public void onFinish(String tail) {
                    chunks.piece(tail);
                }
            });
            RunResult r;
            try {
                r = run(request, options);
            } catch (OpenAiError e) {
                if (!sse.started) {
                    throw e;
                }
                sse.event(e.toJson());
                sse.done();
                return 200;
            }
            if (!begun[0]) {
                chunks.begin(); // no token at all (a budget of 0)
            }
            chunks.end(r.complete, r.timings.prefillTokens, r.tokens.length);
            sse.done();
            return 200;
        }

        /** Runs the engine; its errors become OpenAI errors (400 for the request's faults, 500 otherwise). */
        private RunResult run(OpenAiChat.Request request, RunOptions options) {
            try {
                return engine.run(request.query, request.tools, options);
            } catch (NeedleException e) {
                if (e.kind() == NeedleException.Kind.INPUT || e.kind() == NeedleException.Kind.JSON) {
                    throw OpenAiError.invalid("invalid_value", null, Main.oneLine(e.getMessage()));
                }
                throw new OpenAiError(500, "engine_error", null, "the engine failed: " + Main.oneLine(e.getMessage()));
            }
        }

        /** The request body as JSON: 413 past {@link #MAX_BODY_BYTES}, 400 when empty, not UTF-8 or not JSON. */
        private static Object body(HttpExchange ex) {
            byte[] bytes;
            try (InputStream in = ex.getRequestBody()) {
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                byte[] chunk = new byte[1 << 16];
                for (int n; (n = in.read(chunk)) > 0;) {
                    buf.write(chunk, 0, n);
                    if (buf.size() > MAX_BODY_BYTES) {
                        throw new OpenAiError(413, "payload_too_large", null,
                                "the request body is larger than " + MAX_BODY_BYTES + " bytes");
                    }
                }
                bytes = buf.toByteArray();
            } catch (IOException e) {
                throw new ClientGone(e);
            }
            if (bytes.length == 0) {
                throw OpenAiError.invalid("invalid_json", null, "the request body is empty; send a JSON object");
            }
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw OpenAiError.invalid("invalid_json", null, "the request body is not UTF-8 text");
            }
            try {
                return Json.parse(text);
            } catch (NeedleException e) {
                String why = Main.oneLine(e.getMessage());
                if (why.startsWith("invalid JSON: ")) {
                    why = why.substring("invalid JSON: ".length());
                }
                throw OpenAiError.invalid("invalid_json", null, "the request body is not valid JSON: " + why);
            }
        }

        private static int sendJson(HttpExchange ex, int status, Map<String, Object> value) {
            byte[] body = Json.write(value).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            try {
                ex.sendResponseHeaders(status, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            } catch (IOException e) {
                throw new ClientGone(e);
            }
            return status;
        }

        private static void sendError(HttpExchange ex, OpenAiError e) {
            if (e.status == 401) {
                ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            }
            if (e.status == 405) {
                ex.getResponseHeaders().set("Allow", ex.getRequestURI().getRawPath().equals("/v1/chat/completions")
                        ? "POST" : "GET");
            }
            try {
                sendJson(ex, e.status, e.toJson());
            } catch (ClientGone | IllegalStateException ignored) {
                // the client is gone, or the headers were sent already: nothing more to say
            }
        }
    }

    /** Server-sent events: the headers with the first event, each event flushed at once. */
    private static final class SseWriter {
        private final HttpExchange ex;
        private OutputStream out;
        boolean started;

        SseWriter(HttpExchange ex) {
            this.ex = ex;
        }

        void event(Map<String, Object> value) {
            write("data: " + Json.write(value) + "\n\n");
        }

        void done() {
            write("data: [DONE]\n\n");
        }

        private void write(String text) {
            try {
                if (!started) {
                    started = true;
                    ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
                    ex.getResponseHeaders().set("Cache-Control", "no-cache");
                    ex.sendResponseHeaders(200, 0); // chunked
                    out = ex.getResponseBody();
                }
                out.write(text.getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                throw new ClientGone(e);
            }
        }
    }

    /** The client went away (reading its request or writing the answer); the run stops. */
    private static final class ClientGone extends UncheckedIOException {
        ClientGone(IOException cause) {
            super(cause);
        }
    }
}
