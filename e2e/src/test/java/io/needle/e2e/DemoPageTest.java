package io.needle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.ServiceWorkerPolicy;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.engine.ToolScore;
import io.needle.json.Json;
import io.needle.json.JsonNumber;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;

/**
 * The web demo (web-demo/, built from the packed npm package) in headless Chromium: a
 * {@link DemoServer} on 127.0.0.1 serves it with generated models ({@link TestModels}), the page is
 * pointed at them with {@code ?weights=…&vocab=…}, and what it shows is compared with the JVM
 * engine's answers for the same bytes. Each test runs in a fresh browser context (empty caches)
 * and saves a screenshot to {@code e2e-screenshots/} in the build folder; no test may make a
 * request to a host other than 127.0.0.1 or leave an uncaught error in the page.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DemoPageTest {
    private static final String HF = "https://huggingface.co/Abdalrahman/needle-rs-safetensors/resolve/main/";
    private static final String SMALL = "/models/small.safetensors";
    private static final String FULL = "/models/full.safetensors";
    private static final String NO_METADATA = "/models/no-metadata.safetensors";
    private static final String VOCAB = "/models/vocab.txt";
    private static final String MISSING = "/models/missing.safetensors";
    private static final String GARBAGE = "/models/garbage.safetensors";
    private static final double TIMEOUT_MS = 120_000;

    private Path demo;
    private Path screenshots;
    private Playwright playwright;
    private Browser browser;
    private DemoServer server;

    private BrowserContext context;
    private Page page;
    private final List<String> external = Collections.synchronizedList(new ArrayList<>());
    private final List<String> requested = Collections.synchronizedList(new ArrayList<>());
    private final List<String> pageErrors = Collections.synchronizedList(new ArrayList<>());
    private boolean allowHuggingFace;

    @BeforeAll
    void startBrowserAndServer() throws IOException {
        demo = Path.of(System.getProperty("needle.web.demo", "target/web-demo"));
        screenshots = Path.of(System.getProperty("needle.e2e.screenshots", "target/e2e-screenshots"));
        Files.createDirectories(screenshots);
        server = DemoServer.start(demo);
        server.put(SMALL, TestModels.small().weights);
        server.putSlow(FULL, TestModels.full().weights);
        server.put(NO_METADATA, TestModels.noMetadata().weights);
        server.put(VOCAB, TestModels.small().vocab.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        byte[] garbage = new byte[4096];
        new Random(5).nextBytes(garbage);
        server.put(GARBAGE, garbage);
        playwright = Chromium.playwright();
        browser = Chromium.launch(playwright);
    }

    @AfterAll
    void stopBrowserAndServer() {
        if (browser != null) {
            browser.close();
        }
        if (playwright != null) {
            playwright.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void newContext() {
        external.clear();
        requested.clear();
        pageErrors.clear();
        allowHuggingFace = false;
        context = browser.newContext(new Browser.NewContextOptions().setViewportSize(1100, 1000));
        context.setDefaultTimeout(TIMEOUT_MS);
        context.onRequest(request -> {
            String url = request.url();
            requested.add(url);
            if (!url.startsWith("http://127.0.0.1:") && !url.startsWith("data:")) {
                external.add(url);
            }
        });
        page = context.newPage();
        page.onPageError(error -> pageErrors.add(error));
    }

    @AfterEach
    void screenshotAndClose(TestInfo info) {
        try {
            if (page != null && !page.isClosed()) {
                screenshot(info.getTestMethod().orElseThrow().getName());
            }
        } finally {
            context.close();
        }
        if (!allowHuggingFace) {
            assertEquals(List.of(), external, "requests to hosts other than 127.0.0.1");
        }
        assertEquals(List.of(), pageErrors, "uncaught errors in the page");
    }

    // ------------------------------------------------------------------------------------ tests

    /** The progress bar shows the bytes arriving and reaches 100%; the model's shape is shown. */
    @Test
    void loadShowsProgressUpTo100Percent() {
        page.addInitScript("document.addEventListener('DOMContentLoaded', () => {"
                + "  const bar = document.getElementById('progress');"
                + "  window.progressSeen = [];"
                + "  new MutationObserver(() => window.progressSeen.push(Number(bar.getAttribute('aria-valuenow'))))"
                + "    .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']});"
                + "});");
        int before = server.hits(FULL);
        open(server, FULL, VOCAB, "");
        // the server sends the weights slowly (about 1 s): the bar is caught on its way
        page.waitForFunction("() => { const v = Number(document.getElementById('progress').getAttribute('aria-valuenow'));"
                + " return v > 0 && v < 100; }");
        screenshot("loadShowsProgressUpTo100Percent-during");
        awaitReady(page);
        assertEquals(before + 1, server.hits(FULL));

        assertEquals("100", page.locator("#progress").getAttribute("aria-valuenow"));
        assertEquals("network", page.locator("#progress-label").getAttribute("data-source"));
        String label = page.locator("#progress-label").textContent();
        String size = String.format(java.util.Locale.ROOT, "%.1f MB", TestModels.full().weights.length / 1e6);
        assertTrue(label.startsWith("100%") && label.contains(size + " of weights") && label.contains("downloaded"), label);
        List<Integer> seen = new ArrayList<>();
        for (Object v : (List<?>) page.evaluate("() => window.progressSeen")) {
            seen.add(((Number) v).intValue());
        }
        assertTrue(seen.stream().anyMatch(v -> v > 0 && v < 100), "no value between 0 and 100 was shown: " + seen);
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i) >= seen.get(i - 1), "the progress went back: " + seen);
        }
        assertEquals(100, seen.get(seen.size() - 1), seen.toString());
        String info = page.locator("#model-info").textContent();
        assertTrue(info.contains(shape(TestModels.full())), info);
        assertTrue(info.contains("vocabulary 8192, d_model 512, 12 encoder + 8 decoder layers, 8/4 heads, no feed-forward."), info);
        assertTrue(info.contains("Contrastive head: none"), info);
        assertFalse(page.locator("#retrieval-card").isVisible());
    }

    /**
     * A file without {@code __metadata__} (the first needle-rs export): the page shows the shape
     * the engine inferred from the tensors (the JVM's), runs like the JVM and ranks tools with its
     * contrastive head.
     */
    @Test
    void fileWithoutMetadataLoadsAndRunsLikeTheJvm() {
        TestModels.Model model = TestModels.noMetadata();
        assertEquals("tensors", model.engine.config().toMap().get("source"));
        open(server, NO_METADATA, VOCAB, "&preset=messages&query=" + encode("Text Bob that the train is late"));
        awaitReady(page);
        String info = page.locator("#model-info").textContent();
        assertTrue(info.contains(shape(model)), info);
        assertTrue(info.contains("feed-forward drelu 75."), info);
        assertTrue(info.contains("Contrastive head: yes"), info);
        Output out = run(page);
        assertSameOutput(model.engine.run("Text Bob that the train is late", page.locator("#tools").inputValue()), out,
                "no metadata");
        page.waitForFunction("() => document.getElementById('retrieval-card').dataset.state === 'done'");
        List<String> descriptions = new ArrayList<>();
        for (Object d : (List<?>) Json.parse(page.locator("#retrieval-card").getAttribute("data-descriptions"))) {
            descriptions.add((String) d);
        }
        ToolScore[] jvm = model.engine.retrieveTools("Text Bob that the train is late", descriptions, descriptions.size());
        @SuppressWarnings("unchecked")
        List<List<String>> shown = (List<List<String>>) page.locator("#retrieval li")
                .evaluateAll("items => items.map(li => [li.dataset.index, li.dataset.score])");
        assertEquals(jvm.length, shown.size());
        assertTrue(jvm.length > 0);
        for (int i = 0; i < jvm.length; i++) {
            assertEquals(jvm[i].index, Integer.parseInt(shown.get(i).get(0)), "rank " + (i + 1));
            assertEquals(jvm[i].score, (float) Double.parseDouble(shown.get(i).get(1)), "score " + (i + 1));
        }
    }

    /** Every preset's first query: the streamed tokens, the calls and the complete flag are the JVM's. */
    @Test
    void presetRunsMatchTheJvmEngine() {
        TestModels.Model model = TestModels.small();
        open(server, SMALL, VOCAB, "");
        awaitReady(page);
        Locator chips = page.locator("#presets button");
        assertEquals(5, chips.count());
        int nonEmpty = 0;
        for (int i = 0; i < chips.count(); i++) {
            chips.nth(i).click();
            String presetId = chips.nth(i).getAttribute("data-preset");
            assertEquals("true", chips.nth(i).getAttribute("aria-pressed"));
            assertTrue(page.locator("#tools-status").textContent().startsWith("✓"), presetId);
            String query = page.locator("#query").inputValue();
            String tools = page.locator("#tools").inputValue();
            Output out = run(page);

            RunResult jvm = model.engine.run(query, tools);
            assertSameOutput(jvm, out, presetId + ": " + query);
            if (jvm.calls != null && !jvm.calls.isEmpty()) {
                nonEmpty++;
            }
            screenshot("presetRunsMatchTheJvmEngine-" + presetId);
        }
        assertTrue(nonEmpty >= 3, "the test model should call tools for most presets, did for " + nonEmpty);
    }

    /** A long run in the worker: the page animates, streams and takes typing meanwhile. */
    @Test
    void pageStaysResponsiveWhileTheModelRuns() {
        TestModels.Model model = TestModels.full();
        open(server, FULL, VOCAB, "&preset=routing");
        awaitReady(page);
        String tools = page.locator("#tools").inputValue();
        LongRun longRun = longRun(tools);
        page.locator("#query").fill(longRun.query);
        page.click("#run"); // hundreds of tokens (longRun): a second or more in the browser
        page.waitForFunction("() => document.querySelectorAll('#stream span').length > 0");
        String status = page.locator("#run-status").textContent();
        page.locator("#query").press("End");
        page.locator("#query").pressSequentially(" and more", new Locator.PressSequentiallyOptions().setDelay(20));
        page.waitForTimeout(250);
        @SuppressWarnings("unchecked")
        Map<String, Object> during = (Map<String, Object>) page.evaluate("() => ({"
                + "state: document.body.dataset.state,"
                + "value: document.getElementById('query').value,"
                + "status: document.getElementById('run-status').textContent,"
                + "tokens: document.querySelectorAll('#stream span').length})");
        assertEquals("running", during.get("state"), "the run ended before the typing did: " + during);
        assertEquals(longRun.query + " and more", during.get("value"));
        assertNotEquals(status, during.get("status"), "the elapsed time did not advance during the run");
        assertTrue(((Number) during.get("tokens")).intValue() < longRun.tokens, "all tokens arrived at once: " + during);
        screenshot("pageStaysResponsiveWhileTheModelRuns-during");

        Output out = awaitRun(page, 1);
        assertSameOutput(model.engine.run(longRun.query, tools), out, "full-size model");
    }

    /** Stop ends a run at once; the engine restarts with the model from the cache. */
    @Test
    void stopEndsARunAndTheEngineComesBack() {
        TestModels.Model model = TestModels.full();
        open(server, FULL, VOCAB, "&preset=routing");
        awaitReady(page);
        String tools = page.locator("#tools").inputValue();
        String query = longRun(tools).query;
        page.locator("#query").fill(query);
        int downloads = server.hits(FULL);
        page.click("#run");
        page.waitForFunction("() => document.querySelectorAll('#stream span').length > 0");
        page.click("#stop");
        awaitReady(page);
        assertTrue(page.locator("#complete").isHidden(), "a stopped run shows no result");
        assertTrue(page.locator("#run-status").textContent().contains("Stopped"), page.locator("#run-status").textContent());
        assertEquals(downloads, server.hits(FULL), "the restarted engine read the model from the cache");

        page.locator("#max-tokens").fill("6");
        Output out = run(page);
        assertEquals(query, page.locator("#query").inputValue());
        RunResult jvm = model.engine.run(query, tools, new RunOptions().maxNewTokens(6));
        assertSameOutput(jvm, out, "after the restart");
        assertFalse(out.complete);
        assertEquals("cut short by max tokens", page.locator("#complete").textContent());
    }

    /** Tool lists that are not JSON, or not tools, are refused with a message; nothing runs. */
    @Test
    void invalidToolListShowsAnErrorAndNothingRuns() {
        open(server, SMALL, VOCAB, "");
        awaitReady(page);
        String[][] cases = {
            {"[{\"name\": \"get_weather\", \"parameters\": {}},\n]", "The tool list is not valid JSON", "line 2 column 1"},
            {"{\"name\": \"get_weather\"}", "must be a JSON array of tools", "put a single tool in [ ]"},
            {"[{\"description\": \"Get the weather\"}]", "Tool 1 needs a \"name\"", ""},
            {"[{\"name\": \"a\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"string\"}},"
                + " \"required\": [\"y\"]}}]", "\"required\" lists \"y\", which is not one of its \"properties\"", ""},
            {"[{\"type\": \"function\", \"name\": \"a\"}]", "looks like the OpenAI form", ""},
        };
        for (String[] c : cases) {
            page.locator("#tools").fill(c[0]);
            page.click("#run");
            Locator error = page.locator("#error");
            assertTrue(error.isVisible(), c[0]);
            String message = error.textContent();
            assertTrue(message.contains("Invalid tool list") && message.contains(c[1]) && message.contains(c[2]),
                    c[0] + " → " + message);
            assertTrue(page.locator("#tools-status").textContent().startsWith("✗"), c[0]);
            assertEquals("true", page.locator("#tools").getAttribute("aria-invalid"));
            assertEquals("0", page.locator("body").getAttribute("data-runs"), "a run started for " + c[0]);
            assertEquals("ready", page.locator("body").getAttribute("data-state"));
            assertEquals("", page.locator("#stream").textContent());
            assertEquals("", page.locator("#calls").textContent());
        }
        screenshot("invalidToolListShowsAnErrorAndNothingRuns-error");
        // a preset makes the list valid again, and the run goes
        page.locator("#presets button[data-preset=lights]").click();
        assertTrue(page.locator("#tools-status").textContent().startsWith("✓ 2 tools · OpenAI form"));
        Output out = run(page);
        assertSameOutput(TestModels.small().engine.run(page.locator("#query").inputValue(),
                page.locator("#tools").inputValue()), out, "lights");
        assertTrue(page.locator("#error").isHidden());
        page.locator("#tools").fill("[]");
        page.locator("#tools-status").click(); // the check runs shortly after typing
        page.waitForFunction("() => document.getElementById('tools-status').textContent.includes('empty list')");
    }

    /** A weights URL that fails (404), then weights that are not a model: each error is shown; then a good load. */
    @Test
    void failingWeightsUrlShowsAnError() {
        open(server, MISSING, VOCAB, "");
        awaitState(page, "error");
        String error = errorText(page);
        assertTrue(error.contains("Could not load the model (DOWNLOAD)") && error.contains("HTTP 404")
                && error.contains(server.url(MISSING)), error);
        assertTrue(page.locator("#progress").getAttribute("class").contains("failed"));
        assertNotEquals("100", page.locator("#progress").getAttribute("aria-valuenow"));
        assertTrue(page.locator("#run").isDisabled());
        screenshot("failingWeightsUrlShowsAnError-404");

        page.locator("#weights-url").fill(GARBAGE);
        page.click("#load");
        awaitState(page, "error");
        error = errorText(page);
        assertTrue(error.contains("Could not load the model (WEIGHTS)"), error);
        assertTrue(page.url().contains("weights=" + encode(GARBAGE)), "the address bar keeps the field: " + page.url());
        screenshot("failingWeightsUrlShowsAnError-garbage");

        page.locator("#weights-url").fill(SMALL);
        page.click("#load");
        awaitReady(page);
        assertTrue(page.locator("#error").isHidden());
    }

    /** The second visit reads the model from the Cache API: no second download; clearing the cache downloads again. */
    @Test
    void secondLoadComesFromTheCache() {
        int weights = server.hits(SMALL);
        int vocab = server.hits(VOCAB);
        open(server, SMALL, VOCAB, "");
        awaitReady(page);
        assertEquals(weights + 1, server.hits(SMALL));
        assertEquals(vocab + 1, server.hits(VOCAB));
        assertEquals("network", page.locator("#progress-label").getAttribute("data-source"));
        // the browser reports the worker's requests too: the guard against other hosts sees them
        assertTrue(requested.contains(server.url(SMALL)), "the weights request was not seen: " + requested);

        page.reload();
        awaitReady(page);
        assertEquals(weights + 1, server.hits(SMALL), "the weights were downloaded again");
        assertEquals(vocab + 1, server.hits(VOCAB), "the vocabulary was downloaded again");
        assertEquals("cache", page.locator("#progress-label").getAttribute("data-source"));
        assertTrue(page.locator("#progress-label").textContent().contains("read from the browser cache"));
        assertTrue(page.locator("#model-info").textContent().contains("cache read"));
        page.waitForFunction("() => document.getElementById('cache-info').dataset.files === '2'");
        screenshot("secondLoadComesFromTheCache-cached");

        page.click("#clear-cache");
        page.waitForFunction("() => document.getElementById('cache-info').textContent.startsWith('Cache cleared')");
        page.reload();
        awaitReady(page);
        assertEquals(weights + 2, server.hits(SMALL), "after clearing the cache the weights are downloaded");
        assertEquals("network", page.locator("#progress-label").getAttribute("data-source"));
    }

    /** With a contrastive head, the retrieval panel ranks the tools as the JVM's retrieveTools does. */
    @Test
    void retrievalPanelRanksLikeTheJvm() {
        TestModels.Model model = TestModels.small();
        open(server, SMALL, VOCAB, "");
        awaitReady(page);
        assertTrue(page.locator("#model-info").textContent().contains("Contrastive head: yes"));
        String catalogue = "[" + String.join(",",
                tool("get_weather", "Get the current weather for a city"),
                tool("book_flight", "Book a flight between two cities"),
                tool("play_music", "Play a song, an artist or a playlist"),
                tool("send_message", "Send a text message to a contact"),
                tool("set_alarm", "Set an alarm for a time"),
                tool("order_food", "Order food from a restaurant")) + "]";
        String[] queries = {"Play Yesterday by the Beatles", "Wake me up at 7", "Is it raining in Oslo?"};
        for (String query : queries) {
            page.locator("#tools").fill(catalogue);
            page.locator("#query").fill(query);
            run(page);
            page.waitForFunction("() => document.getElementById('retrieval-card').dataset.state === 'done'");
            Locator card = page.locator("#retrieval-card");
            assertTrue(card.isVisible());
            assertEquals(query, card.getAttribute("data-query"));
            List<String> descriptions = new ArrayList<>();
            for (Object d : (List<?>) Json.parse(card.getAttribute("data-descriptions"))) {
                descriptions.add((String) d);
            }
            assertEquals(6, descriptions.size());
            assertEquals("Get the current weather for a city", descriptions.get(0));

            ToolScore[] jvm = model.engine.retrieveTools(query, descriptions, descriptions.size());
            @SuppressWarnings("unchecked")
            List<List<String>> shown = (List<List<String>>) page.locator("#retrieval li")
                    .evaluateAll("items => items.map(li => [li.dataset.index, li.dataset.score])");
            assertEquals(jvm.length, shown.size());
            for (int i = 0; i < jvm.length; i++) {
                assertEquals(jvm[i].index, Integer.parseInt(shown.get(i).get(0)), query + ": rank " + (i + 1));
                assertEquals(jvm[i].score, (float) Double.parseDouble(shown.get(i).get(1)), query + ": score " + (i + 1));
            }
        }
        screenshot("retrievalPanelRanksLikeTheJvm");
    }

    /** Once visited, the page, the engine and the model open and run with the server gone. */
    @Test
    void worksOfflineOnceCached() throws IOException {
        TestModels.Model model = TestModels.small();
        String query = "Text Alice that I'll be late";
        try (DemoServer own = DemoServer.start(demo)) {
            own.put(SMALL, model.weights).put(VOCAB, model.vocab.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            open(own, SMALL, VOCAB, "&preset=messages&query=" + encode(query));
            awaitReady(page);
            page.evaluate("() => navigator.serviceWorker.ready.then(() => true)");
            page.waitForFunction("() => caches.keys().then(names => names.some(n => n.startsWith('needle-demo-shell-')))");
        }
        page.reload();
        awaitReady(page);
        assertEquals("cache", page.locator("#progress-label").getAttribute("data-source"));
        Output out = run(page);
        assertSameOutput(model.engine.run(query, page.locator("#tools").inputValue()), out, "offline");
    }

    /** Without parameters the page loads Needle from Hugging Face (blocked here): the URLs and the failure show. */
    @Test
    void defaultsAreTheHuggingFaceFiles() {
        allowHuggingFace = true;
        context.close();
        context = browser.newContext(new Browser.NewContextOptions().setViewportSize(1100, 1000)
                .setServiceWorkers(ServiceWorkerPolicy.BLOCK));
        context.setDefaultTimeout(TIMEOUT_MS);
        List<String> blocked = Collections.synchronizedList(new ArrayList<>());
        context.route("**/*", route -> {
            String url = route.request().url();
            if (url.startsWith("http://127.0.0.1:")) {
                route.resume();
            } else {
                blocked.add(url);
                route.abort();
            }
        });
        page = context.newPage();
        page.onPageError(error -> pageErrors.add(error));
        page.navigate(server.url("/"));
        awaitState(page, "error");
        assertEquals(HF + "needle.safetensors", page.locator("#weights-url").inputValue());
        assertEquals(HF + "vocab.txt", page.locator("#vocab-url").inputValue());
        String error = errorText(page);
        assertTrue(error.contains("Could not load the model (DOWNLOAD)") && error.contains("could not download " + HF), error);
        assertTrue(blocked.contains(HF + "needle.safetensors") && blocked.contains(HF + "vocab.txt"),
                "the page did not ask Hugging Face for the files: " + blocked);
        for (String url : blocked) {
            assertTrue(url.startsWith(HF), "an unexpected request: " + url);
        }
        for (String url : external) {
            assertTrue(url.startsWith(HF), "an unexpected request: " + url);
        }
    }

    // ------------------------------------------------------------------------------------ helpers

    /** Queries over the routing preset's tools, for a long run of the full-size model. */
    private static final String[] LONG_RUN_CANDIDATES = {
        "Play Yesterday", "Play some jazz", "Play some jazz music", "Play a long song", "Play something",
    };
    /** What the tests that act during a run need from it: a second or more in the browser. */
    private static final int LONG_RUN_MIN_TOKENS = 200;

    /** A query and the number of tokens the JVM engine generates for it. */
    record LongRun(String query, int tokens) {
    }

    private static LongRun longRun;

    /**
     * Of {@link #LONG_RUN_CANDIDATES}, the query the full-size model answers at the greatest
     * length (the JVM engine's run over {@code tools}, constrained, 511-token budget). Random
     * weights answer each query at some length that changes with the model, so it is computed here,
     * not assumed; fewer than {@link #LONG_RUN_MIN_TOKENS} tokens fails the test, saying so.
     */
    private static synchronized LongRun longRun(String tools) {
        if (longRun == null) {
            LongRun best = null;
            for (String q : LONG_RUN_CANDIDATES) {
                int n = TestModels.full().engine.run(q, tools).tokens.length;
                if (best == null || n > best.tokens) {
                    best = new LongRun(q, n);
                }
            }
            assertTrue(best.tokens >= LONG_RUN_MIN_TOKENS, "no candidate query makes the full-size model generate "
                    + LONG_RUN_MIN_TOKENS + " tokens (the longest: " + best + "): add candidates");
            longRun = best;
        }
        return longRun;
    }

    /** The model line the page shows, from the JVM engine's config of the same bytes. */
    private static String shape(TestModels.Model model) {
        io.needle.model.Config c = model.engine.config();
        return "Model: vocabulary " + c.vocabSize + ", d_model " + c.dModel + ", " + c.numEncoderLayers + " encoder + "
                + c.numDecoderLayers + " decoder layers, " + c.numHeads + "/" + c.numKvHeads + " heads"
                + (c.noFeedforward ? ", no feed-forward" : ", feed-forward " + c.activation + " " + c.ffnDim) + ".";
    }

    /** What the page shows after a run. */
    static final class Output {
        String stream;
        int tokenSpans;
        String calls;
        boolean callsParsed;
        boolean callsNoteShown;
        boolean complete;
        int generated;
        String timings;
    }

    private void open(DemoServer host, String weights, String vocab, String more) {
        page.navigate(host.url("/?weights=" + encode(weights) + "&vocab=" + encode(vocab) + more));
    }

    private static String encode(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static void awaitState(Page page, String... states) {
        page.waitForFunction("states => states.includes(document.body.dataset.state)", List.of(states));
    }

    /** Waits for the model; fails with the page's error message if it shows one. */
    private static void awaitReady(Page page) {
        awaitState(page, "ready", "error");
        if (!"ready".equals(page.locator("body").getAttribute("data-state"))) {
            fail("the page shows an error instead of a loaded model: " + errorText(page));
        }
    }

    /** The error box's text on one line. */
    private static String errorText(Page page) {
        return page.locator("#error").textContent().replaceAll("\\s+", " ").trim();
    }

    /** Clicks Run and waits for the result. */
    private static Output run(Page page) {
        int runs = Integer.parseInt(page.locator("body").getAttribute("data-runs"));
        page.click("#run");
        return awaitRun(page, runs + 1);
    }

    private static Output awaitRun(Page page, int runNumber) {
        page.waitForFunction("n => document.body.dataset.runs === String(n) && document.body.dataset.state !== 'running'"
                + " && (!document.getElementById('complete').hidden || !document.getElementById('error').hidden)", runNumber);
        if (page.locator("#error").isVisible()) {
            fail("the run failed: " + errorText(page));
        }
        Output out = new Output();
        out.stream = page.locator("#stream").textContent();
        out.tokenSpans = page.locator("#stream span").count();
        out.calls = page.locator("#calls").textContent();
        out.callsParsed = "true".equals(page.locator("#calls").getAttribute("data-parsed"));
        out.callsNoteShown = page.locator("#calls-note").isVisible();
        out.complete = "true".equals(page.locator("#complete").getAttribute("data-complete"));
        String generated = page.locator("#t-generated").textContent();
        out.generated = Integer.parseInt(generated.replace(" tokens", ""));
        out.timings = page.locator("#timings").textContent();
        return out;
    }

    /** The page's output is the JVM engine's: text (as streamed), calls, complete, token count. */
    private static void assertSameOutput(RunResult jvm, Output out, String what) {
        assertEquals(jvm.text, out.stream, what + ": streamed text");
        assertEquals(jvm.tokens.length, out.tokenSpans, what + ": one streamed piece per token");
        assertEquals(jvm.tokens.length, out.generated, what + ": generated tokens");
        assertEquals(jvm.complete, out.complete, what + ": complete");
        if (jvm.calls == null) {
            assertFalse(out.callsParsed, what);
            assertTrue(out.callsNoteShown, what + ": the note that the output is not a call list");
            assertEquals(jvm.text, out.calls, what + ": calls (the raw text)");
        } else {
            assertTrue(out.callsParsed, what);
            assertFalse(out.callsNoteShown, what);
            assertTrue(sameJson(jvm.calls, Json.parse(out.calls)), what + ": calls " + out.calls + " vs " + jvm.text);
        }
        for (String label : new String[] {"Load", "Encode", "Decode", "Speed", "tokens/s"}) {
            assertTrue(out.timings.contains(label), what + ": timings " + out.timings);
        }
    }

    /** JSON values equal, numbers by value (the page pretty-prints with JSON.stringify). */
    private static boolean sameJson(Object a, Object b) {
        if (a instanceof JsonNumber && b instanceof JsonNumber) {
            return new BigDecimal(a.toString()).compareTo(new BigDecimal(b.toString())) == 0;
        }
        if (a instanceof Map && b instanceof Map) {
            Map<?, ?> x = (Map<?, ?>) a;
            Map<?, ?> y = (Map<?, ?>) b;
            if (!new ArrayList<>(x.keySet()).equals(new ArrayList<>(y.keySet()))) {
                return false;
            }
            for (Object k : x.keySet()) {
                if (!sameJson(x.get(k), y.get(k))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof List && b instanceof List) {
            List<?> x = (List<?>) a;
            List<?> y = (List<?>) b;
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!sameJson(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return a == null ? b == null : a.equals(b);
    }

    private static String tool(String name, String description) {
        return "{\"name\":" + Json.quote(name) + ",\"description\":" + Json.quote(description)
                + ",\"parameters\":{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}}";
    }

    private void screenshot(String name) {
        page.screenshot(new Page.ScreenshotOptions().setPath(screenshots.resolve(name + ".png")).setFullPage(true));
    }
}
