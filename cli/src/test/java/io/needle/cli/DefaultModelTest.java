package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.needle.jvm.HubServer;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default model: {@code needle QUERY TOOLS}, {@code run} without files, {@code download} and
 * {@code cache}, against a local server on 127.0.0.1 with NEEDLE_HOME in a temporary directory
 * (the environment is injected: the real cache and network are never used).
 */
class DefaultModelTest {
    static final ModelWriter MODEL = ModelWriter.tiny().seed(21);
    static final byte[] WEIGHTS = MODEL.build();
    static final byte[] VOCAB = TestVocab.make(MODEL.vocabSize(), 21).getBytes(StandardCharsets.UTF_8);
    static final String QUERY = RunCommandTest.QUERY;
    static final String TOOLS = RunCommandTest.TOOLS;

    @TempDir
    Path tmp;
    HubServer hub;
    Path cacheDir;
    Map<String, String> env;
    String weights;
    String vocab;

    @BeforeEach
    void start() throws IOException {
        hub = new HubServer();
        hub.put("needle.safetensors", WEIGHTS);
        hub.put("vocab.txt", VOCAB);
        cacheDir = tmp.resolve("cache");
        env = new HashMap<>();
        env.put("NEEDLE_HOME", cacheDir.toString());
        env.put("NEEDLE_HUB_URL", hub.base());
        weights = Cli.write(tmp, "w.safetensors", WEIGHTS).toString();
        vocab = Cli.write(tmp, "v.txt", VOCAB).toString();
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private EnvCli needle(String... args) {
        return EnvCli.run(env, args);
    }

    @Test
    void twoArgumentFormDownloadsOnFirstUseThenPrintsWhatTheFourArgumentFormPrints() {
        String expected = Cli.run(weights, vocab, QUERY, TOOLS).ok().out;
        EnvCli first = needle(QUERY, TOOLS).ok();
        assertEquals(expected, first.out);
        assertTrue(first.err.contains("needle: downloading vocab.txt ("), first.err);
        assertTrue(first.err.contains("needle: downloading needle.safetensors (0.1 MB) from " + hub.base()
                + "needle.safetensors\n"), first.err);
        assertTrue(first.err.contains("needle: downloaded needle.safetensors: 0.1 MB in "), first.err);
        assertTrue(Files.isRegularFile(cacheDir.resolve("needle.safetensors")));

        int requests = hub.requests.size();
        EnvCli second = needle(QUERY, TOOLS);
        assertEquals(0, second.status);
        assertEquals(expected, second.out);
        assertEquals("", second.err, "nothing on stderr once cached");
        assertEquals(requests, hub.requests.size(), "no download the second time");

        // options go with the 2-argument form too, and QUERY/TOOLS may come from stdin or a file
        Path toolsFile = Cli.write(tmp, "tools.json", TOOLS);
        assertEquals(Cli.run(weights, vocab, QUERY, TOOLS, "--max-new-tokens", "9").out,
                EnvCli.runWithInput(env, QUERY + "\n", "--max-new-tokens", "9", "-", "@" + toolsFile).out);
        // and explicit files still work in the 2-argument form
        assertEquals(expected, needle("--weights", weights, "--vocab", vocab, QUERY, TOOLS).ok().out);
    }

    @Test
    void runWithoutWeightsUsesTheDefaultModel() {
        String[] tail = {"--query", QUERY, "--tools", TOOLS, "--max-new-tokens", "20"};
        EnvCli cached = needle(concat(new String[] {"run"}, tail)).ok();
        EnvCli files = needle(concat(new String[] {"run", "--weights", weights, "--vocab", vocab}, tail)).ok();
        assertEquals(files.out, cached.out);
        EnvCli stream = needle(concat(new String[] {"run", "--stream"}, tail)).ok();
        assertEquals(files.out, stream.out); // snake_case names: the streamed text is the result text
    }

    @Test
    void hubUrlOption() {
        env.remove("NEEDLE_HUB_URL");
        EnvCli r = needle("run", "--hub-url", hub.base(), "--query", QUERY, "--tools", TOOLS).ok();
        assertEquals(Cli.run(weights, vocab, QUERY, TOOLS).out, r.out);
        needle("run", "--hub-url", "nonsense", "--query", QUERY, "--tools", TOOLS)
                .fails(Main.EXIT_USAGE, "the hub URL 'nonsense' is not an http:// or https:// URL");
        env.put("NEEDLE_HUB_URL", "ftp://x");
        needle("download", "--force").fails(Main.EXIT_ERROR, "NEEDLE_HUB_URL 'ftp://x' is not");
    }

    @Test
    void offlineSaysWhatToDo() throws IOException {
        env.put("NEEDLE_HUB_URL", HubServer.closedPortUrl());
        EnvCli r = needle(QUERY, TOOLS).fails(Main.EXIT_ERROR, "could not reach 127.0.0.1 to download vocab.txt (");
        assertTrue(r.err.endsWith("; pass --weights and --vocab, or set NEEDLE_HUB_URL\n"), r.err);
        needle("run", "--query", QUERY, "--tools", TOOLS).fails(Main.EXIT_ERROR, "pass --weights and --vocab");
        assertFalse(Files.exists(cacheDir.resolve("vocab.txt")));
    }

    @Test
    void serverErrorAndCorruptDownloadAreOneLine() {
        hub.put("vocab.txt", "<html>404</html>\n".getBytes(StandardCharsets.UTF_8));
        needle(QUERY, TOOLS).fails(Main.EXIT_ERROR, "the downloaded vocab.txt is not a valid vocabulary");
        HubServer.File f = hub.put("vocab.txt", VOCAB);
        f.errorResponses.set(100);
        f.errorStatus = 403;
        needle(QUERY, TOOLS).fails(Main.EXIT_ERROR, "127.0.0.1 answered 403");
    }

    @Test
    void aModelInAnotherTensorLayoutIsRefusedNamingTheLayoutRead() {
        hub.put("needle.safetensors", io.needle.jvm.RetiredLayout.renamed(MODEL));
        EnvCli r = needle(QUERY, TOOLS).fails(Main.EXIT_ERROR, "the downloaded needle.safetensors is a SafeTensors"
                + " file but not a Needle model this version can load: weight file is missing tensor");
        assertTrue(r.err.contains("; this file is in another tensor layout: needle-java-wasm reads the needle-rs"
                + " layout of MODEL.md section 4"), r.err);
        assertTrue(r.err.endsWith("; pass --weights and --vocab, or set NEEDLE_HUB_URL\n"), r.err);
        assertFalse(r.err.contains("not a valid SafeTensors"), r.err);
        hub.put("needle.safetensors", io.needle.jvm.RetiredLayout.asWritten(MODEL));
        EnvCli d = needle("download").fails(Main.EXIT_ERROR, "the downloaded needle.safetensors is not a Needle model"
                + " this version can load: tensor \"encoder.layers.0.self_attn.q_proj.qweight\"");
        assertTrue(d.err.contains("the shape counts weights, not bytes: this file is in another tensor layout:"
                + " needle-java-wasm reads the needle-rs layout of MODEL.md section 4"), d.err);
        assertFalse(Files.exists(cacheDir.resolve("needle.safetensors")));
    }

    @Test
    void badCombinationsAreUsageErrors() {
        needle("run", "--weights", weights, "--query", QUERY, "--tools", TOOLS)
                .fails(Main.EXIT_USAGE, "'run' needs both --weights and --vocab, or neither");
        needle("--vocab", vocab, QUERY, TOOLS).fails(Main.EXIT_USAGE, "needs both --weights and --vocab, or neither");
        needle("run", "--weights", weights, "--vocab", vocab, "--hub-url", hub.base(), "--query", QUERY, "--tools", TOOLS)
                .fails(Main.EXIT_USAGE, "--hub-url is for the default model");
        needle("--weights", weights, weights, vocab, QUERY, TOOLS)
                .fails(Main.EXIT_USAGE, "go with needle QUERY TOOLS, not with the 4-argument form");
        needle(weights, vocab).fails(Main.EXIT_USAGE, "the 4-argument form needs WEIGHTS VOCAB QUERY TOOLS, got 2");
        assertTrue(hub.requests.isEmpty());
    }

    @Test
    void checksBeforeDownloading() {
        needle("What is the time?", "not json").fails(Main.EXIT_ERROR, "the tools are not valid JSON: ");
        needle("tokenise", "hello").fails(Main.EXIT_USAGE, "unknown command 'tokenise'");
        needle("run", "--query", QUERY, "--tools", "[{").fails(Main.EXIT_ERROR, "the tools are not valid JSON: ");
        assertTrue(hub.requests.isEmpty(), "nothing downloaded for a command line that cannot work");
    }

    @Test
    void brokenCachedModelNamesTheCache() throws IOException {
        Files.createDirectories(cacheDir);
        Files.write(cacheDir.resolve("needle.safetensors"), new byte[64]);
        Files.write(cacheDir.resolve("vocab.txt"), VOCAB);
        EnvCli r = needle(QUERY, TOOLS).fails(Main.EXIT_ERROR, "(the cached default model in " + cacheDir);
        assertTrue(r.err.contains("'needle cache clear' removes it"), r.err);
    }

    @Test
    void downloadCommand() {
        EnvCli r = needle("download").ok();
        assertEquals(cacheDir.resolve("needle.safetensors") + "\n" + cacheDir.resolve("vocab.txt") + "\n", r.out);
        assertTrue(r.err.contains("needle: downloaded vocab.txt: "), r.err);
        int requests = hub.requests.size();
        EnvCli again = needle("download").ok();
        assertEquals(r.out, again.out);
        assertEquals("needle: the default model is already in " + cacheDir + " (--force downloads it again)\n", again.err);
        assertEquals(requests, hub.requests.size());
        needle("download", "--force").ok();
        assertEquals(2 * requests, hub.requests.size());
        needle("download", "extra").fails(Main.EXIT_USAGE, "unexpected argument 'extra'");
    }

    @Test
    void cacheCommand() throws IOException {
        EnvCli empty = needle("cache").ok();
        assertEquals("directory: " + cacheDir + "\nhub: " + hub.base() + "\nneedle.safetensors: not downloaded\n"
                + "vocab.txt: not downloaded\n", empty.out);
        assertEquals(cacheDir + "\n", needle("cache", "dir").ok().out);
        assertEquals("nothing to remove in " + cacheDir + "\n", needle("cache", "clear").ok().out);

        needle("download").ok();
        Files.write(cacheDir.resolve("needle.safetensors.part"), new byte[10]);
        EnvCli full = needle("cache", "show").ok();
        assertEquals("directory: " + cacheDir + "\nhub: " + hub.base() + "\nneedle.safetensors: " + WEIGHTS.length
                + " bytes, sha256 " + HubServer.sha256(WEIGHTS) + "\nvocab.txt: " + VOCAB.length + " bytes, sha256 "
                + HubServer.sha256(VOCAB) + "\nunfinished download: needle.safetensors.part"
                + " (10 bytes; the next download resumes it)\n", full.out);
        Files.write(cacheDir.resolve("mine.txt"), new byte[1]);
        assertEquals("removed 3 files from " + cacheDir + "\n", needle("cache", "clear").ok().out);
        assertTrue(Files.exists(cacheDir.resolve("mine.txt")), "only the cache's own files are removed");
        needle("cache", "frob").fails(Main.EXIT_USAGE, "unknown action 'frob'");
        needle("cache", "show", "x").fails(Main.EXIT_USAGE, "unexpected argument 'x'");
    }

    @Test
    void cacheDirectoryFollowsTheEnvironment() {
        Map<String, String> xdg = new HashMap<>();
        xdg.put("XDG_CACHE_HOME", tmp.resolve("xdg").toString());
        String dir = EnvCli.run(xdg, "cache", "dir").ok().out;
        String os = System.getProperty("os.name", "").toLowerCase();
        if (!os.startsWith("mac") && !os.startsWith("windows")) {
            assertEquals(tmp.resolve("xdg").resolve("needle-java") + "\n", dir);
        }
    }

    @Test
    void theBuildKeepsTestsAwayFromTheRealCacheAndNetwork() {
        // surefire sets NEEDLE_HOME under the build folder and an unreachable hub (cli/pom.xml)
        String hubUrl = System.getenv("NEEDLE_HUB_URL");
        assumeTrue(hubUrl != null && hubUrl.startsWith("http://127.0.0.1:9/"), "run by the Maven build");
        assertTrue(System.getenv("NEEDLE_HOME").contains("needle-home-for-tests"));
        Cli.run("What is the time?", "[]").fails(Main.EXIT_ERROR, "could not reach 127.0.0.1 to download vocab.txt");
    }

    @Test
    void usageNamesTheNewForms() {
        String usage = Cli.run("--help").ok().out;
        for (String s : new String[] {"needle QUERY TOOLS", "\n  download ", "\n  cache ", "\n  demo\n", "NEEDLE_HOME",
                "NEEDLE_HUB_URL", "run [--weights W --vocab V] --query Q"}) {
            assertTrue(usage.contains(s), "usage mentions " + s);
        }
    }

    static String[] concat(String[] a, String[] b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
