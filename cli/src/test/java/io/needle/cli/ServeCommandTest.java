package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.json.Json;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TensorType;
import io.needle.synthetic.TestVocab;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code needle serve}: OpenAI's chat completions API on the JDK's HTTP server, driven by an
 * {@link HttpClient} on a free port of 127.0.0.1. Every answer is compared with the engine run
 * directly on the same model (a seeded random model whose answers vary over the query bank: empty
 * call lists, one and several calls, outputs cut by the budget); the queries of each case are
 * picked by those reference answers, never written down.
 */
class ServeCommandTest {
    /** The catalogue in OpenAI's form (the Worker's test catalogue, as OpenAI SDK users write tools). */
    static final String TOOLS = "["
            + fn("get_weather", "Get the current weather for a city", "{\"type\":\"object\",\"properties\":{"
                    + "\"location\":{\"type\":\"string\",\"enum\":[\"Paris\",\"London\",\"Tokyo\"],\"description\":\"City\"},"
                    + "\"units\":{\"type\":\"string\",\"enum\":[\"celsius\",\"fahrenheit\"]}},\"required\":[\"location\"]}") + ","
            + fn("setAlarm", "Set an alarm", "{\"type\":\"object\",\"properties\":{"
                    + "\"time\":{\"type\":\"string\",\"enum\":[\"07:00\",\"08:30\"]},\"repeat\":{\"type\":\"boolean\"}},"
                    + "\"required\":[\"time\"]}") + ","
            + fn("send_message", "Send a text message", "{\"type\":\"object\",\"properties\":{"
                    + "\"recipient\":{\"type\":\"string\"},\"text\":{\"type\":\"string\"}},\"required\":[\"recipient\"]}") + ","
            + fn("lookup_order", "Look up an order", "{\"type\":\"object\",\"properties\":{"
                    + "\"order_id\":{\"type\":\"integer\"}},\"required\":[\"order_id\"]}") + ","
            + fn("play-music", "Play music", "{\"type\":\"object\",\"properties\":{"
                    + "\"genre\":{\"type\":\"string\",\"enum\":[\"jazz\",\"rock\",\"pop\"]},\"loud\":{\"type\":\"boolean\"}},"
                    + "\"required\":[\"genre\"]}")
            + "]";

    static final String[] QUERIES = {
        "What's the weather in Paris?", "Wake me up at 7", "Text Alice that I'm late", "Where is my order 12345?",
        "Play some jazz", "Is it raining in London and play rock", "Set an alarm for 8:30 every day", "Tell Bob hi",
        "weather tokyo fahrenheit", "Play loud pop music", "hello", "What time is it?", "Book a table", "Turn it up",
        "Order status please", "Send a message to Carol", "Weather forecast for tomorrow", "Alarm at seven", "Play music",
        "Check order 42 and text Dan", "Remind me", "What's the temperature", "Call mom", "Is it sunny?",
        "Stop the music", "How cold is it in Tokyo?", "Message Eve: dinner at 8", "Track package 998",
        "Wake me at 8:30 tomorrow", "Put on some rock", "Do I need an umbrella in London?", "Text my boss I'm sick",
        "Where's order 7?", "Weather in Paris in celsius please", "Play pop quietly", "Set two alarms",
        "Send hi to Frank and play jazz", "Order 555 status and weather in Tokyo", "Good morning", "Thanks!",
        "Alarm 7am daily", "London weather fahrenheit", "Jazz please", "What's up", "Text Grace",
        "Has my order shipped?", "Rock music loud", "Paris forecast", "Wake up call at 08:30", "Any news?",
        "Réveille-moi à 7h ☀️ — 東京の天気は?", "",
    };
    static final int MAX = 96;

    private static String fn(String name, String description, String parameters) {
        return "{\"type\":\"function\",\"function\":{\"name\":\"" + name + "\",\"description\":\"" + description
                + "\",\"parameters\":" + parameters + "}}";
    }

    static Path weights;
    static Path vocab;
    static NeedleEngine reference;
    static ServeCommand.Server server;
    static ServeCommand.Server keyed;
    static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    /** The reference answers of QUERIES over TOOLS. */
    static final List<RunResult> EXPECTED = new ArrayList<>();

    /**
     * The model of the Worker's tests (wasm-bridge NodeFixturesTest "drelu-gqa-contrastive"), its
     * files in a temporary folder and the reference answers of the bank; built once per JVM (also
     * for {@link RequireCallCliTest}).
     */
    static synchronized void model() throws IOException {
        if (reference != null) {
            return;
        }
        byte[] w = new ModelWriter().seed(32).vocabSize(2048).dModel(64).heads(8, 2).layers(1, 1).ffn(64, "drelu")
                .contrastive(40, 64).metadata(ModelWriter.Metadata.NONE).normDtype(TensorType.BF16).scalarGates(true)
                .build();
        String v = TestVocab.make(2048, 2048);
        Path dir = Files.createTempDirectory("needle-serve-test");
        weights = Cli.write(dir, "serve.safetensors", w);
        vocab = Cli.write(dir, "serve.vocab.txt", v);
        for (Path p : new Path[] {weights, vocab, dir}) {
            p.toFile().deleteOnExit(); // (in reverse order: the folder last)
        }
        NeedleEngine engine = NeedleEngine.load(w, v);
        for (String q : QUERIES) {
            EXPECTED.add(engine.run(q, TOOLS, new RunOptions().maxNewTokens(MAX)));
        }
        reference = engine;
    }

    @BeforeAll
    static void start() throws IOException {
        model();
        byte[] w = Files.readAllBytes(weights);
        String v = Files.readString(vocab, StandardCharsets.UTF_8);
        PrintStream log = new PrintStream(LOG, true, StandardCharsets.UTF_8);
        server = ServeCommand.Server.start(ModelFiles.engine(w, v, false), "127.0.0.1", 0, null, log);
        keyed = ServeCommand.Server.start(ModelFiles.engine(w, v, true), "127.0.0.1", 0, "sk-test-123", log);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (keyed != null) {
            keyed.close();
        }
    }

    // ------------------------------------------------------------------ HTTP

    record Answer(int status, HttpResponse<String> response, Object json) {
        Map<?, ?> map() {
            return (Map<?, ?>) json;
        }

        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }
    }

    static Answer send(ServeCommand.Server s, String method, String path, String body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            String type = r.headers().firstValue("Content-Type").orElse("");
            Object json = type.startsWith("application/json") ? Json.parse(r.body()) : null;
            return new Answer(r.statusCode(), r, json);
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static Answer chat(String body) {
        return send(server, "POST", "/v1/chat/completions", body);
    }

    /** A request body: the query as the last user message (after a system message), TOOLS, and {@code extra} members. */
    static String request(String query, String extra) {
        return "{\"model\":\"needle\",\"messages\":[{\"role\":\"system\",\"content\":\"You route requests.\"},"
                + "{\"role\":\"user\",\"content\":" + Json.quote(query) + "}],\"tools\":" + TOOLS
                + ",\"max_tokens\":" + MAX + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    static List<?> toolCalls(Map<?, ?> completion) {
        return (List<?>) message(completion).get("tool_calls");
    }

    static Map<?, ?> message(Map<?, ?> completion) {
        return (Map<?, ?>) choice(completion).get("message");
    }

    static Map<?, ?> choice(Map<?, ?> completion) {
        return (Map<?, ?>) ((List<?>) completion.get("choices")).get(0);
    }

    static int calls(RunResult r) {
        return r.calls == null ? 0 : r.calls.size();
    }

    /**
     * Asserts that a completion answers as the engine did: the calls (names, arguments as JSON
     * values, the exact text of each arguments object within the engine's text) or the content,
     * the finish reason and the usage.
     */
    static void assertAnswers(RunResult expected, Map<?, ?> completion, boolean parallel) {
        assertEquals("chat.completion", completion.get("object"));
        assertEquals("needle", completion.get("model"));
        assertTrue(((String) completion.get("id")).startsWith("chatcmpl-"));
        Map<?, ?> message = message(completion);
        assertEquals("assistant", message.get("role"));
        Map<?, ?> usage = (Map<?, ?>) completion.get("usage");
        assertEquals(expected.timings.prefillTokens, number(usage.get("prompt_tokens")));
        assertEquals(expected.tokens.length, number(usage.get("completion_tokens")));
        assertEquals(expected.timings.prefillTokens + expected.tokens.length, number(usage.get("total_tokens")));
        assertTrue(expected.complete, "the case needs a complete reference answer");
        if (calls(expected) == 0) {
            assertNull(message.get("tool_calls"));
            assertEquals(expected.text, message.get("content"));
            assertEquals("stop", choice(completion).get("finish_reason"));
            return;
        }
        assertNull(message.get("content"));
        assertEquals("tool_calls", choice(completion).get("finish_reason"));
        List<?> got = toolCalls(completion);
        int n = parallel ? calls(expected) : 1;
        assertEquals(n, got.size(), Json.write(completion));
        int from = 0;
        for (int i = 0; i < n; i++) {
            Map<?, ?> call = (Map<?, ?>) got.get(i);
            Map<?, ?> want = (Map<?, ?>) expected.calls.get(i);
            assertTrue(((String) call.get("id")).startsWith("call_"));
            assertEquals("function", call.get("type"));
            Map<?, ?> function = (Map<?, ?>) call.get("function");
            assertEquals(want.get("name"), function.get("name"));
            String arguments = (String) function.get("arguments");
            assertEquals(Json.write(want.get("arguments")), Json.write(Json.parse(arguments)));
            int at = expected.text.indexOf(arguments, from);
            assertTrue(at >= 0, "the arguments as the model wrote them: " + arguments + " in " + expected.text);
            from = at + arguments.length();
        }
    }

    static int number(Object v) {
        return Integer.parseInt(Json.write(v));
    }

    /** The first query of the bank whose reference answer passes {@code test} (failing when none does). */
    static int pick(String what, Function<RunResult, Boolean> test) {
        for (int i = 0; i < QUERIES.length; i++) {
            if (test.apply(EXPECTED.get(i))) {
                return i;
            }
        }
        throw new AssertionError("no query of the bank gives " + what + " on the test model");
    }

    // ------------------------------------------------------------------ answers

    @Test
    void everyQueryAnswersAsTheEngine() {
        int withCalls = 0;
        int without = 0;
        for (int i = 0; i < QUERIES.length; i++) {
            RunResult want = EXPECTED.get(i);
            Answer a = chat(request(QUERIES[i], ""));
            assertEquals(200, a.status, a.response.body());
            if (!want.complete) {
                assertEquals("length", choice(a.map()).get("finish_reason"));
                continue;
            }
            assertAnswers(want, a.map(), true);
            if (calls(want) > 0) {
                withCalls++;
            } else {
                without++;
            }
        }
        System.out.println("[serve] the bank: " + withCalls + " answers with calls, " + without + " without");
        assertTrue(withCalls >= 3 && without >= 2, "the bank's answers vary: " + withCalls + " with calls, " + without
                + " without");
    }

    @Test
    void namedToolChoiceRestrictsToThatToolAndRequiresACall() {
        List<?> tools = (List<?>) Json.parse(TOOLS);
        for (Object tool : tools) {
            String name = (String) ((Map<?, ?>) ((Map<?, ?>) tool).get("function")).get("name");
            int q = pick("no call", r -> r.complete && calls(r) == 0); // a query the model answers with []
            RunResult want = reference.run(QUERIES[q], Json.write(List.of(tool)),
                    new RunOptions().maxNewTokens(MAX).requireCall(true));
            Answer a = chat(request(QUERIES[q], "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
                    + Json.quote(name) + "}}"));
            assertEquals(200, a.status, a.response.body());
            if (want.complete) {
                assertTrue(calls(want) >= 1);
                assertAnswers(want, a.map(), true);
                for (Object c : toolCalls(a.map())) {
                    assertEquals(name, ((Map<?, ?>) ((Map<?, ?>) c).get("function")).get("name"));
                }
            } else {
                assertEquals("length", choice(a.map()).get("finish_reason"));
            }
        }
    }

    @Test
    void requiredGivesACallWhereTheModelAnsweredNone() {
        int q = pick("no call", r -> r.complete && calls(r) == 0);
        RunResult want = reference.run(QUERIES[q], TOOLS, new RunOptions().maxNewTokens(MAX).requireCall(true));
        assertTrue(want.complete && calls(want) >= 1, want.text);
        assertAnswers(want, chat(request(QUERIES[q], "\"tool_choice\":\"required\"")).map(), true);
        // where the model calls anyway, required changes nothing
        int c = pick("a call", r -> r.complete && calls(r) > 0);
        assertAnswers(EXPECTED.get(c), chat(request(QUERIES[c], "\"tool_choice\":\"required\"")).map(), true);
    }

    @Test
    void noneRunsWithoutTools() {
        int c = pick("a call", r -> r.complete && calls(r) > 0);
        RunResult want = reference.run(QUERIES[c], "[]", new RunOptions().maxNewTokens(MAX));
        assertEquals("[]", want.text);
        assertAnswers(want, chat(request(QUERIES[c], "\"tool_choice\":\"none\"")).map(), true);
    }

    @Test
    void withoutParallelToolCallsOnlyTheFirstCall() {
        int q = pick("two calls", r -> r.complete && calls(r) >= 2);
        assertAnswers(EXPECTED.get(q), chat(request(QUERIES[q], "\"parallel_tool_calls\":false")).map(), false);
    }

    @Test
    void aSmallBudgetEndsWithLength() {
        int q = pick("a call", r -> r.complete && calls(r) > 0);
        int budget = EXPECTED.get(q).tokens.length - 2;
        RunResult want = reference.run(QUERIES[q], TOOLS, new RunOptions().maxNewTokens(budget));
        assertFalse(want.complete);
        Map<?, ?> got = chat(request(QUERIES[q], "").replace("\"max_tokens\":" + MAX,
                "\"max_completion_tokens\":" + budget + ",\"max_tokens\":400")).map();
        assertEquals("length", choice(got).get("finish_reason"));
        assertEquals(budget, number(((Map<?, ?>) got.get("usage")).get("completion_tokens")));
        // the calls whose name was written, their arguments as far as they went
        List<?> calls = toolCalls(got);
        assertNotNull(calls, Json.write(got));
        String text = want.text;
        assertTrue(text.contains(((Map<?, ?>) ((Map<?, ?>) calls.get(calls.size() - 1)).get("function")).get("arguments")
                .toString()), text);
        // max_tokens above the model's 511 is capped, not refused
        assertEquals(200, chat(request(QUERIES[q], "").replace("\"max_tokens\":" + MAX, "\"max_tokens\":100000")).status);
    }

    @Test
    void userContentPartsAndOtherRolesAreRead() {
        int q = pick("a call", r -> r.complete && calls(r) > 0);
        String query = QUERIES[q];
        int split = query.indexOf(' ');
        String body = "{\"model\":\"needle\",\"messages\":[{\"role\":\"user\",\"content\":\"an earlier question\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]},{\"role\":\"tool\",\"tool_call_id\":\"x\","
                + "\"content\":\"42\"},{\"role\":\"developer\",\"content\":\"be brief\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":" + Json.quote(query.substring(0, split))
                + "},{\"type\":\"text\",\"text\":" + Json.quote(query.substring(split + 1)) + "}]}],"
                + "\"tools\":" + TOOLS + ",\"max_tokens\":" + MAX + ",\"temperature\":0.2,\"n\":1,\"seed\":7}";
        RunResult want = reference.run(query.substring(0, split) + "\n" + query.substring(split + 1), TOOLS,
                new RunOptions().maxNewTokens(MAX));
        if (want.complete) {
            assertAnswers(want, chat(body).map(), true);
        }
    }

    // ------------------------------------------------------------------ streaming

    /** The data of each server-sent event. */
    static List<String> events(String body) {
        List<String> data = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.isEmpty()) {
                continue;
            }
            assertTrue(block.startsWith("data: "), block);
            data.add(block.substring("data: ".length()));
        }
        return data;
    }

    /** A stream's chunks folded into {calls: [{id, name, arguments}], content, finish_reason, usage}. */
    static Map<String, Object> fold(List<String> data, String id) {
        List<Map<String, Object>> calls = new ArrayList<>();
        StringBuilder content = new StringBuilder();
        String finish = null;
        Object usage = null;
        assertEquals("[DONE]", data.get(data.size() - 1));
        for (String d : data.subList(0, data.size() - 1)) {
            Map<?, ?> chunk = (Map<?, ?>) Json.parse(d);
            assertEquals("chat.completion.chunk", chunk.get("object"));
            assertEquals(id == null ? chunk.get("id") : id, chunk.get("id"));
            id = (String) chunk.get("id");
            if (chunk.get("usage") != null) {
                usage = chunk.get("usage");
                assertEquals(0, ((List<?>) chunk.get("choices")).size());
                continue;
            }
            Map<?, ?> choice = (Map<?, ?>) ((List<?>) chunk.get("choices")).get(0);
            assertNull(finish, "nothing after the finish reason but the usage");
            finish = (String) choice.get("finish_reason");
            Map<?, ?> delta = (Map<?, ?>) choice.get("delta");
            if (delta.get("content") != null) {
                content.append(delta.get("content"));
            }
            if (delta.get("tool_calls") != null) {
                for (Object o : (List<?>) delta.get("tool_calls")) {
                    Map<?, ?> tc = (Map<?, ?>) o;
                    int index = number(tc.get("index"));
                    Map<?, ?> f = (Map<?, ?>) tc.get("function");
                    if (index == calls.size()) {
                        Map<String, Object> c = new LinkedHashMap<>();
                        c.put("id", tc.get("id"));
                        c.put("name", f.get("name"));
                        c.put("arguments", f.get("arguments"));
                        calls.add(c);
                    } else {
                        assertEquals(calls.size() - 1, index, "deltas of the last call only");
                        calls.get(index).put("arguments", calls.get(index).get("arguments") + (String) f.get("arguments"));
                    }
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("calls", calls);
        m.put("content", content.length() == 0 ? null : content.toString());
        m.put("finish_reason", finish);
        m.put("usage", usage);
        return m;
    }

    @Test
    void streamsTheSameAnswer() {
        int seen = 0;
        java.util.Set<Integer> queries = new java.util.TreeSet<>();
        for (int i = 0; i < 16; i++) {
            queries.add(i);
        }
        queries.add(pick("two calls", r -> r.complete && calls(r) >= 2));
        queries.add(pick("no call", r -> r.complete && calls(r) == 0));
        for (int i : queries) {
            for (boolean parallel : new boolean[] {true, false}) {
                String extra = "\"stream\":true,\"stream_options\":{\"include_usage\":true}"
                        + (parallel ? "" : ",\"parallel_tool_calls\":false");
                Answer s = chat(request(QUERIES[i], extra));
                assertEquals(200, s.status);
                assertTrue(s.header("Content-Type").startsWith("text/event-stream"), s.header("Content-Type"));
                Map<String, Object> folded = fold(events(s.response.body()), null);
                Map<?, ?> whole = chat(request(QUERIES[i], parallel ? "" : "\"parallel_tool_calls\":false")).map();
                assertEquals(choice(whole).get("finish_reason"), folded.get("finish_reason"));
                assertEquals(message(whole).get("content"), folded.get("content"));
                assertEquals(Json.write(whole.get("usage")), Json.write(folded.get("usage")));
                List<?> calls = toolCalls(whole);
                List<?> streamed = (List<?>) folded.get("calls");
                assertEquals(calls == null ? 0 : calls.size(), streamed.size());
                for (int k = 0; k < streamed.size(); k++) {
                    Map<?, ?> f = (Map<?, ?>) ((Map<?, ?>) calls.get(k)).get("function");
                    Map<?, ?> st = (Map<?, ?>) streamed.get(k);
                    assertEquals(f.get("name"), st.get("name"));
                    assertEquals(f.get("arguments"), st.get("arguments"));
                    assertTrue(((String) st.get("id")).startsWith("call_"));
                    seen++;
                }
            }
        }
        assertTrue(seen >= 3, "streamed calls: " + seen);
        // without include_usage: no usage chunk, no usage member
        Answer s = chat(request(QUERIES[0], "\"stream\":true"));
        for (String d : events(s.response.body())) {
            assertFalse(d.contains("\"usage\""), d);
        }
    }

    /** The output reader gives the same calls however the text is cut into pieces. */
    @Test
    void outputPiecesGiveTheSameCalls() {
        for (RunResult r : EXPECTED) {
            String text = r.text;
            OpenAiChat.Output whole = new OpenAiChat.Output();
            whole.push(text, null);
            for (int cut = 0; cut <= text.length(); cut += 3) {
                OpenAiChat.Output pieces = new OpenAiChat.Output();
                StringBuilder[] args = new StringBuilder[16];
                OpenAiChat.Events events = new OpenAiChat.Events() {
                    @Override
                    public void callStarted(int index, OpenAiChat.Call call) {
                        args[index] = new StringBuilder();
                    }

                    @Override
                    public void arguments(int index, String fragment) {
                        args[index].append(fragment);
                    }
                };
                for (int i = 0; i < text.length(); i += Math.max(1, cut)) {
                    pieces.push(text.substring(i, Math.min(text.length(), i + Math.max(1, cut))), events);
                }
                assertEquals(whole.calls.size(), pieces.calls.size());
                for (int k = 0; k < whole.calls.size(); k++) {
                    assertEquals(whole.calls.get(k).name, pieces.calls.get(k).name);
                    assertEquals(whole.calls.get(k).arguments.toString(), pieces.calls.get(k).arguments.toString());
                    assertEquals(whole.calls.get(k).arguments.toString(), args[k].toString());
                    assertEquals(whole.calls.get(k).closed, pieces.calls.get(k).closed);
                }
            }
        }
    }

    // ------------------------------------------------------------------ errors

    static void assertError(Answer a, int status, String type, String code, String param) {
        assertEquals(status, a.status, a.response.body());
        assertTrue(a.header("Content-Type").startsWith("application/json"));
        Map<?, ?> root = a.map();
        assertEquals(List.of("error"), new ArrayList<>(root.keySet()));
        Map<?, ?> e = (Map<?, ?>) root.get("error");
        assertEquals(List.of("message", "type", "param", "code"), new ArrayList<>(e.keySet()));
        assertEquals(type, e.get("type"), a.response.body());
        assertEquals(code, e.get("code"), a.response.body());
        assertEquals(param, e.get("param"), a.response.body());
        String message = (String) e.get("message");
        assertFalse(message.isEmpty() || message.contains("\n") || message.contains("\tat ")
                || message.contains("Exception"), message);
    }

    @Test
    void requestErrorsAnswerOpenAiErrorObjects() {
        String ok = request("hi", "");
        String[][] cases = {
            // body, status, code, param
            {"", "400", "invalid_json", null},
            {"{\"model\":", "400", "invalid_json", null},
            {"[1]", "400", "invalid_type", null},
            {ok.replace("\"model\":\"needle\"", "\"model\":\"gpt-4o\""), "404", "model_not_found", "model"},
            {ok.replace("\"model\":\"needle\",", ""), "400", "missing_required_parameter", "model"},
            {ok.replace("\"model\":\"needle\"", "\"model\":4"), "400", "invalid_type", "model"},
            {"{\"model\":\"needle\"}", "400", "missing_required_parameter", "messages"},
            {"{\"model\":\"needle\",\"messages\":[]}", "400", "invalid_value", "messages"},
            {"{\"model\":\"needle\",\"messages\":{}}", "400", "invalid_type", "messages"},
            {"{\"model\":\"needle\",\"messages\":[{\"role\":\"system\",\"content\":\"x\"}]}", "400", "invalid_value", "messages"},
            {"{\"model\":\"needle\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", "400", "invalid_value",
                "messages[0].role"},
            {"{\"model\":\"needle\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":"
                + "{\"url\":\"x\"}}]}]}", "400", "unsupported_content", "messages[0].content[0].type"},
            {"{\"model\":\"needle\",\"messages\":[{\"role\":\"user\"}]}", "400", "missing_required_parameter",
                "messages[0].content"},
            {ok.replace("\"tools\":" + TOOLS, "\"tools\":{}"), "400", "invalid_type", "tools"},
            {ok.replace("\"tools\":" + TOOLS, "\"tools\":[{\"type\":\"custom\",\"custom\":{\"name\":\"x\"}}]"), "400",
                "invalid_value", "tools[0].type"},
            {ok.replace("\"tools\":" + TOOLS, "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}},"
                + "{\"type\":\"function\",\"function\":{\"name\":\"A\"}}]"), "400", "invalid_value", "tools"},
            {ok.replace("\"tools\":" + TOOLS, "\"tools\":[{\"type\":\"function\",\"function\":{\"description\":\"x\"}}]"),
                "400", "invalid_value", "tools[0].function.name"},
            {request("hi", "\"tool_choice\":\"sometimes\""), "400", "invalid_value", "tool_choice"},
            {request("hi", "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}"), "400",
                "invalid_value", "tool_choice"},
            {ok.replace("\"tools\":" + TOOLS + ",", "\"tool_choice\":\"required\","), "400", "invalid_value", "tool_choice"},
            {request("hi", "\"parallel_tool_calls\":\"yes\""), "400", "invalid_type", "parallel_tool_calls"},
            {ok.replace("\"max_tokens\":" + MAX, "\"max_tokens\":0"), "400", "invalid_value", "max_tokens"},
            {request("hi", "\"max_completion_tokens\":2.5"), "400", "invalid_value", "max_completion_tokens"},
            {request("hi", "\"stream\":\"yes\""), "400", "invalid_type", "stream"},
            {request("hi", "\"stream_options\":{\"include_usage\":true}"), "400", "invalid_value", "stream_options"},
            {request("hi", "\"n\":2"), "400", "unsupported_parameter", "n"},
            {request("hi", "\"logprobs\":true"), "400", "unsupported_parameter", "logprobs"},
            {request("hi", "\"response_format\":{\"type\":\"json_object\"}"), "400", "unsupported_parameter",
                "response_format"},
            {request("hi", "\"functions\":[]"), "400", "unsupported_parameter", "functions"},
            {request("hi", "\"frobnicate\":1"), "400", "unknown_parameter", "frobnicate"},
        };
        for (String[] c : cases) {
            assertError(chat(c[0]), Integer.parseInt(c[1]), "invalid_request_error", c[2], c[3]);
        }
        // accepted at their defaults
        assertEquals(200, chat(request("hi", "\"n\":1,\"logprobs\":false,\"response_format\":{\"type\":\"text\"},"
                + "\"temperature\":0,\"top_p\":1,\"user\":\"u\",\"stop\":null,\"tool_choice\":\"auto\"")).status);
    }

    @Test
    void httpErrors() {
        assertError(send(server, "GET", "/v1/chat/completions", null), 405, "invalid_request_error", "method_not_allowed",
                null);
        assertEquals("POST", send(server, "GET", "/v1/chat/completions", null).header("Allow"));
        assertError(send(server, "POST", "/v1/models", "{}"), 405, "invalid_request_error", "method_not_allowed", null);
        assertError(send(server, "GET", "/v1/completions", null), 404, "invalid_request_error", "unknown_url", null);
        assertError(send(server, "GET", "/", null), 404, "invalid_request_error", "unknown_url", null);
        String big = request("x".repeat(ServeCommand.MAX_BODY_BYTES + 10), "");
        assertError(chat(big), 413, "invalid_request_error", "payload_too_large", null);
        byte[] notUtf8 = {'{', '"', (byte) 0xff, '"', '}'};
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(notUtf8)).build();
        try {
            HttpResponse<String> res = HTTP.send(r, HttpResponse.BodyHandlers.ofString());
            assertEquals(400, res.statusCode());
            assertTrue(res.body().contains("\"invalid_json\""), res.body());
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void models() {
        Map<?, ?> list = send(server, "GET", "/v1/models", null).map();
        assertEquals("list", list.get("object"));
        List<?> data = (List<?>) list.get("data");
        assertEquals(1, data.size());
        assertEquals("needle", ((Map<?, ?>) data.get(0)).get("id"));
        assertEquals("model", ((Map<?, ?>) data.get(0)).get("object"));
        Answer one = send(server, "GET", "/v1/models/needle", null);
        assertEquals(200, one.status);
        assertEquals(Json.write(data.get(0)), Json.write(one.json));
        assertError(send(server, "GET", "/v1/models/gpt-4o", null), 404, "invalid_request_error", "model_not_found",
                "model");
    }

    @Test
    void theApiKey() {
        String body = request("hi", "");
        for (String[] h : new String[][] {{}, {"Authorization", "Bearer wrong"}, {"Authorization", "sk-test-123"}}) {
            Answer a = send(keyed, "POST", "/v1/chat/completions", body, h);
            assertError(a, 401, "invalid_request_error", "invalid_api_key", null);
            assertEquals("Bearer", a.header("WWW-Authenticate"));
            assertFalse(a.response.body().contains("sk-test-123"));
        }
        assertError(send(keyed, "GET", "/v1/models", null), 401, "invalid_request_error", "invalid_api_key", null);
        Answer a = send(keyed, "POST", "/v1/chat/completions", body, "Authorization", "Bearer sk-test-123");
        assertEquals(200, a.status);
        assertEquals(200, send(keyed, "GET", "/v1/models", null, "Authorization", "Bearer sk-test-123").status);
    }

    // ------------------------------------------------------------------ the command

    /** {@code needle serve ARGS} through {@link Main#run} in a thread: its URL line, then stopped by an interrupt. */
    static String[] serveCommand(String... args) throws Exception {
        PipedInputStream pipe = new PipedInputStream();
        PrintStream out = new PrintStream(new PipedOutputStream(pipe), true, StandardCharsets.UTF_8);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CompletableFuture<Integer> status = new CompletableFuture<>();
        String[] argv = new String[args.length + 5];
        System.arraycopy(new String[] {"serve", "--weights", weights.toString(), "--vocab", vocab.toString()}, 0, argv, 0, 5);
        System.arraycopy(args, 0, argv, 5, args.length);
        Thread t = new Thread(() -> status.complete(Main.run(argv, new java.io.ByteArrayInputStream(new byte[0]), out,
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of())));
        t.start();
        StringBuilder line = new StringBuilder();
        for (int c; (c = pipe.read()) != '\n';) {
            assertTrue(c >= 0, "the line with the URL");
            line.append((char) c);
        }
        Matcher m = Pattern.compile("^needle serve: http://([0-9.]+):(\\d+)/v1 ").matcher(line);
        assertTrue(m.find(), line.toString());
        HttpResponse<String> models = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + m.group(2) + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, models.statusCode());
        assertTrue(models.body().contains("\"needle\""));
        t.interrupt();
        assertEquals(Main.EXIT_OK, status.get(30, TimeUnit.SECONDS));
        return new String[] {m.group(1), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void theCommandPrintsItsUrlAndServesUntilStopped() throws Exception {
        String[] r = serveCommand("--port", "0", "--portable");
        assertEquals("127.0.0.1", r[0]);
        assertTrue(r[1].contains("GET /v1/models 200"), r[1]);
        assertFalse(r[1].contains("warning"), r[1]);
    }

    @Test
    void everyInterfaceWithoutAKeyIsWarnedAbout() throws Exception {
        String[] r = serveCommand("--host", "0.0.0.0", "--port", "0");
        assertEquals("0.0.0.0", r[0]);
        assertTrue(r[1].startsWith("needle serve: warning: listening on 0.0.0.0 without NEEDLE_API_KEY"), r[1]);
    }

    @Test
    void commandLineErrors() throws IOException {
        Cli.run("serve", "--port", "http").fails(Main.EXIT_USAGE, "--port must be a port number");
        Cli.run("serve", "--port", "70000").fails(Main.EXIT_USAGE, "--port must be a port number");
        Cli.run("serve", "extra").fails(Main.EXIT_USAGE, "unexpected argument 'extra'");
        Cli.run("serve", "--weights", weights.toString()).fails(Main.EXIT_USAGE, "needs both --weights and --vocab");
        Cli.run("serve", "--host", "", "--weights", weights.toString(), "--vocab", vocab.toString())
                .fails(Main.EXIT_USAGE, "--host");
        try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            Cli.run("serve", "--weights", weights.toString(), "--vocab", vocab.toString(), "--port",
                    String.valueOf(busy.getLocalPort())).fails(Main.EXIT_ERROR, "cannot listen on 127.0.0.1:"
                    + busy.getLocalPort() + ": address already in use (choose another --port)");
        }
        assertTrue(Cli.run("--help").ok().out.contains("serve [--weights W --vocab V] [--host H] [--port N]"));
    }
}
