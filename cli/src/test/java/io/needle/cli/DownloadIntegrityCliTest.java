package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * The hash checks of the default model's download on the command line ({@code needle download},
 * {@code needle QUERY TOOLS}, {@code cache verify}), against a local hub on 127.0.0.1 that
 * announces hashes as Hugging Face does (the weights' sha256 in X-Linked-Etag on the redirect to
 * its CDN path, the vocabulary's git blob sha1 in the ETag of its direct answer) or serves a
 * tampered file under the original's hash, or no hash.
 */
class DownloadIntegrityCliTest {
    static final ModelWriter MODEL = ModelWriter.tiny().seed(31);
    static final byte[] WEIGHTS = MODEL.build();
    static final byte[] OTHER = ModelWriter.tiny().seed(32).build();
    static final byte[] VOCAB = TestVocab.make(MODEL.vocabSize(), 31).getBytes(StandardCharsets.UTF_8);
    static final String W = "needle.safetensors";
    static final String V = "vocab.txt";

    @TempDir
    Path tmp;
    HubServer hub;
    HubServer.File weights;
    HubServer.File vocab;
    Path cacheDir;
    Map<String, String> env;
    String host;

    @BeforeEach
    void start() throws IOException {
        hub = new HubServer();
        weights = hub.put(W, WEIGHTS);
        vocab = hub.put(V, VOCAB);
        vocab.redirect = false;
        vocab.gitEtag = true;
        cacheDir = tmp.resolve("cache");
        env = new HashMap<>();
        env.put("NEEDLE_HOME", cacheDir.toString());
        env.put("NEEDLE_HUB_URL", hub.base());
        host = hub.base().substring("http://".length(), hub.base().indexOf("/resolve/"));
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private EnvCli needle(String... args) {
        return EnvCli.run(env, args);
    }

    private void assertNothingInstalled(String name) {
        assertFalse(Files.exists(cacheDir.resolve(name)), name + " is not installed");
        assertFalse(Files.exists(cacheDir.resolve(name + ".part")), "nor kept for resuming");
        assertFalse(Files.exists(cacheDir.resolve(name + ".sha256")));
    }

    @Test
    void downloadSaysHowEachFileWasVerified() {
        EnvCli r = needle("download").ok();
        String vocabLine = "needle: verified vocab.txt: git blob sha1 " + HubServer.gitBlobSha1(VOCAB)
                + " matches the ETag header of " + host + " (sha256 " + HubServer.sha256(VOCAB) + ")\n";
        String weightsLine = "needle: verified needle.safetensors: sha256 " + HubServer.sha256(WEIGHTS)
                + " matches the X-Linked-Etag header of " + host + "\n";
        assertTrue(r.err.contains(vocabLine), r.err);
        assertTrue(r.err.contains(weightsLine), r.err);
        // each after its file's "downloaded" line
        assertTrue(r.err.indexOf("needle: downloaded needle.safetensors: ") < r.err.indexOf(weightsLine), r.err);
        assertEquals(HubServer.sha256(WEIGHTS) + "  " + W + "\n", read(cacheDir.resolve(W + ".sha256")));
    }

    @Test
    void aTamperedFileIsRefusedWithExitOneNamingBothHashesAndTheSource() {
        weights.tamper(OTHER); // a valid model of the same size: only the hash tells
        EnvCli r = needle("download").fails(Main.EXIT_ERROR, "needle.safetensors downloaded from " + hub.base() + W
                + " does not have the expected sha256: expected " + HubServer.sha256(WEIGHTS)
                + " (the X-Linked-Etag header of " + host + "), got " + HubServer.sha256(OTHER));
        assertTrue(r.err.endsWith("; the download was deleted, not installed\n"), "no network hint: " + r.err);
        assertNothingInstalled(W);
        assertTrue(Files.exists(cacheDir.resolve(V)), "the vocabulary came first and is fine");

        // the same through needle QUERY TOOLS, which downloads on first use
        needle(RunCommandTest.QUERY, RunCommandTest.TOOLS).fails(Main.EXIT_ERROR, "does not have the expected sha256");
        assertNothingInstalled(W);

        // a changed vocabulary under its git ETag
        byte[] changed = VOCAB.clone();
        changed[10] ^= 1;
        vocab.tamper(changed);
        needle("download", "--force").fails(Main.EXIT_ERROR, "vocab.txt downloaded from " + hub.base() + V
                + " does not have the expected git blob sha1: expected " + HubServer.gitBlobSha1(VOCAB) + " (the ETag"
                + " header of " + host + "), got " + HubServer.gitBlobSha1(changed) + " (sha256 "
                + HubServer.sha256(changed) + ")");
        assertEquals(VOCAB.length, cacheDir.resolve(V).toFile().length(), "the cached vocabulary was not replaced");
    }

    @Test
    void withoutAHashStderrSaysTheFileWasNotVerified() {
        weights.announceHash = false;
        EnvCli r = needle("download").ok();
        assertTrue(r.err.contains("needle: needle.safetensors was not verified: " + host + " sent no hash for it (sha256 "
                + HubServer.sha256(WEIGHTS) + "); pin it with --weights-sha256 or NEEDLE_WEIGHTS_SHA256\n"), r.err);
        assertTrue(r.err.contains("needle: verified vocab.txt: "), r.err);
        assertTrue(Files.exists(cacheDir.resolve(W)));
    }

    @Test
    void pinsFromOptionsAndEnvironmentAlwaysWin() {
        weights.announceHash = false;
        String sha = HubServer.sha256(WEIGHTS);
        // a wrong pin: refused, naming the option
        needle("download", "--weights-sha256", HubServer.sha256(OTHER)).fails(Main.EXIT_ERROR,
                "does not have the expected sha256: expected " + HubServer.sha256(OTHER) + " (--weights-sha256), got "
                        + sha);
        assertNothingInstalled(W);
        // needle serve takes the same options: a wrong pin and it never listens
        needle("serve", "--port", "0", "--weights-sha256", HubServer.sha256(OTHER)).fails(Main.EXIT_ERROR,
                "(--weights-sha256), got " + sha);
        assertNothingInstalled(W);
        // the variable; the option wins over it
        env.put("NEEDLE_WEIGHTS_SHA256", HubServer.sha256(OTHER));
        needle("download").fails(Main.EXIT_ERROR, "(NEEDLE_WEIGHTS_SHA256), got " + sha);
        EnvCli ok = needle("download", "--weights-sha256=" + sha.toUpperCase()).ok();
        assertTrue(ok.err.contains("needle: verified needle.safetensors: sha256 " + sha + " matches --weights-sha256\n"),
                ok.err);
        // the hub announcing another hash does not matter to a pin, but is told
        env.put("NEEDLE_WEIGHTS_SHA256", sha);
        weights.announceHash = true;
        weights.announcedBytes = OTHER;
        EnvCli forced = needle("download", "--force").ok();
        assertTrue(forced.err.contains("needle: verified needle.safetensors: sha256 " + sha + " matches"
                + " NEEDLE_WEIGHTS_SHA256; the X-Linked-Etag header of " + host + " announces another sha256, "
                + HubServer.sha256(OTHER) + "\n"), forced.err);
    }

    @Test
    void badPinsAndPinsWithOwnFilesAreClearErrors() throws IOException {
        needle("download", "--weights-sha256", "abc").fails(Main.EXIT_USAGE,
                "option --weights-sha256 must be a sha256: 64 hex digits, got 'abc'");
        needle("download", "--vocab-sha256", HubServer.gitBlobSha1(VOCAB)).fails(Main.EXIT_USAGE,
                "option --vocab-sha256 must be a sha256");
        env.put("NEEDLE_VOCAB_SHA256", "not-a-hash");
        needle("download").fails(Main.EXIT_ERROR, "NEEDLE_VOCAB_SHA256 must be a sha256: 64 hex digits, got 'not-a-hash'");
        env.remove("NEEDLE_VOCAB_SHA256");
        String w = Cli.write(tmp, "w.safetensors", WEIGHTS).toString();
        String v = Cli.write(tmp, "v.txt", VOCAB).toString();
        needle("run", "--weights", w, "--vocab", v, "--weights-sha256", HubServer.sha256(WEIGHTS), "--query", "q",
                "--tools", "[]").fails(Main.EXIT_USAGE, "--weights-sha256 is for the default model; it cannot be used"
                        + " with --weights and --vocab");
        needle("--vocab-sha256", HubServer.sha256(VOCAB), w, v, "q", "[]").fails(Main.EXIT_USAGE,
                "not with the 4-argument form");
        assertTrue(hub.requests.isEmpty(), "nothing downloaded for a command line that cannot work");
    }

    @Test
    void aPinnedCachedFileIsHashedAtEveryLoad() throws IOException {
        env.put("NEEDLE_WEIGHTS_SHA256", HubServer.sha256(WEIGHTS));
        String expected = needle(RunCommandTest.QUERY, RunCommandTest.TOOLS).ok().out;
        // the cached weights change after the download (their record still says the pinned sha256)
        Files.write(cacheDir.resolve(W), OTHER);
        needle(RunCommandTest.QUERY, RunCommandTest.TOOLS).fails(Main.EXIT_ERROR, "the cached needle.safetensors in "
                + cacheDir + " does not have the expected sha256: expected " + HubServer.sha256(WEIGHTS)
                + " (NEEDLE_WEIGHTS_SHA256), got " + HubServer.sha256(OTHER) + "; 'needle download --force' downloads"
                + " it again");
        // cache verify finds it too, by the record, pinned or not
        env.remove("NEEDLE_WEIGHTS_SHA256");
        needle("cache", "verify").fails(Main.EXIT_ERROR, "the cached needle.safetensors in " + cacheDir
                + " has sha256 " + HubServer.sha256(OTHER) + ", not the " + HubServer.sha256(WEIGHTS)
                + " recorded when it was downloaded");
        // unpinned, a load trusts the cache as downloaded
        needle(RunCommandTest.QUERY, RunCommandTest.TOOLS).ok();
        // download --force puts the right file back
        env.put("NEEDLE_WEIGHTS_SHA256", HubServer.sha256(WEIGHTS));
        needle("download", "--force").ok();
        assertEquals(expected, needle(RunCommandTest.QUERY, RunCommandTest.TOOLS).ok().out);
    }

    @Test
    void cacheVerifyHashesTheFilesAgain() throws IOException {
        assertEquals("needle.safetensors: not downloaded\nvocab.txt: not downloaded\n", needle("cache", "verify").ok().out);
        needle("download").ok();
        assertEquals("needle.safetensors: sha256 " + HubServer.sha256(WEIGHTS) + ", as recorded at download\n"
                + "vocab.txt: sha256 " + HubServer.sha256(VOCAB) + ", as recorded at download\n",
                needle("cache", "verify").ok().out);
        env.put("NEEDLE_VOCAB_SHA256", HubServer.sha256(VOCAB));
        assertTrue(needle("cache", "verify").ok().out.endsWith(", as recorded at download, as NEEDLE_VOCAB_SHA256"
                + " pins\n"));
        env.put("NEEDLE_VOCAB_SHA256", HubServer.sha256(WEIGHTS));
        needle("cache", "verify").fails(Main.EXIT_ERROR, "the cached vocab.txt in " + cacheDir + " has sha256 "
                + HubServer.sha256(VOCAB) + ", not the " + HubServer.sha256(WEIGHTS) + " of NEEDLE_VOCAB_SHA256");
        env.remove("NEEDLE_VOCAB_SHA256");
        // a cache from a version without records
        Files.delete(cacheDir.resolve(W + ".sha256"));
        assertTrue(needle("cache", "verify").ok().out.startsWith("needle.safetensors: sha256 "
                + HubServer.sha256(WEIGHTS) + ", no record to compare with"));
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
