package io.needle.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import io.needle.testing.Shared;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the model cache is (environment injected, never the real one) and how it fills and
 * empties, against a local server.
 */
class ModelCacheTest {
    static final ModelWriter MODEL = ModelWriter.tiny().seed(5);
    static final byte[] WEIGHTS = MODEL.build();
    static final byte[] VOCAB = TestVocab.make(MODEL.vocabSize(), 5).getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    private static Map<String, String> env(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static Path dir(Map<String, String> env, String os, String home) {
        return ModelCache.defaultDirectory(env, os, home);
    }

    @Test
    void needleHomeWinsEverywhere() {
        Path home = Paths.get("/srv/needle").toAbsolutePath();
        for (String os : new String[] {"Linux", "Mac OS X", "Windows 11", "FreeBSD"}) {
            assertEquals(home.normalize(), dir(env("NEEDLE_HOME", home.toString(), "XDG_CACHE_HOME", "/x",
                    "LOCALAPPDATA", "/w"), os, "/home/u"));
        }
        // empty means unset
        assertEquals(Paths.get("/home/u/.cache/needle-java"), dir(env("NEEDLE_HOME", " "), "Linux", "/home/u"));
    }

    @Test
    void linuxUsesXdgCacheHomeOrDotCache() {
        assertEquals(Paths.get("/var/cache/u/needle-java"), dir(env("XDG_CACHE_HOME", "/var/cache/u"), "Linux", "/home/u"));
        assertEquals(Paths.get("/home/u/.cache/needle-java"), dir(env(), "Linux", "/home/u"));
        assertEquals(Paths.get("/home/u/.cache/needle-java"), dir(env("XDG_CACHE_HOME", ""), "Linux", "/home/u"));
        // a relative XDG_CACHE_HOME is invalid (XDG base directory spec) and ignored
        assertEquals(Paths.get("/home/u/.cache/needle-java"), dir(env("XDG_CACHE_HOME", "rel/cache"), "Linux", "/home/u"));
        assertEquals(Paths.get("/home/u/.cache/needle-java"), dir(env(), "SunOS", "/home/u"));
    }

    @Test
    void macOsUsesLibraryCaches() {
        assertEquals(Paths.get("/Users/u/Library/Caches/needle-java"),
                dir(env("XDG_CACHE_HOME", "/x"), "Mac OS X", "/Users/u"));
        assertEquals(Paths.get("/Users/u/Library/Caches/needle-java"), dir(env(), "Darwin", "/Users/u"));
    }

    @Test
    void windowsUsesLocalAppData() {
        assertEquals(Paths.get("/c/Users/u/AppData/Local/needle-java"),
                dir(env("LOCALAPPDATA", "/c/Users/u/AppData/Local"), "Windows 10", "/c/Users/u"));
        assertEquals(Paths.get("/c/Users/u/AppData/Local/needle-java"), dir(env(), "Windows 10", "/c/Users/u"));
    }

    @Test
    void noHomeAndNoNeedleHomeIsAClearError() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> dir(env(), "Linux", ""));
        assertTrue(e.getMessage().contains("set NEEDLE_HOME"), e.getMessage());
        assertEquals(Paths.get("/x/needle-java"), dir(env("XDG_CACHE_HOME", "/x"), "Linux", null));
    }

    @Test
    void hubUrlRules() {
        assertEquals(ModelCache.DEFAULT_HUB_URL, ModelCache.hubUrl(null, env()));
        assertEquals("https://huggingface.co/Abdalrahman/needle-rs-safetensors/resolve/main/", ModelCache.DEFAULT_HUB_URL);
        assertEquals("http://mirror.local/m/", ModelCache.hubUrl(null, env("NEEDLE_HUB_URL", "http://mirror.local/m")));
        assertEquals("https://a/b/", ModelCache.hubUrl("https://a/b/", env("NEEDLE_HUB_URL", "http://mirror.local/m")));
        assertEquals(ModelCache.DEFAULT_HUB_URL, ModelCache.hubUrl(null, env("NEEDLE_HUB_URL", "")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelCache.hubUrl(null, env("NEEDLE_HUB_URL", "ftp://x/")));
        assertTrue(e.getMessage().startsWith("NEEDLE_HUB_URL 'ftp://x/' is not"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelCache.hubUrl("huggingface.co", env()));
    }

    @Test
    void ensureDownloadsOnceAndClearRemovesOnlyItsFiles() throws Exception {
        try (HubServer hub = new HubServer()) {
            hub.put(ModelCache.WEIGHTS_FILE, WEIGHTS);
            hub.put(ModelCache.VOCAB_FILE, VOCAB);
            Path dir = tmp.resolve("deep/cache");
            ModelCache cache = ModelCache.at(dir);
            assertFalse(cache.isComplete());
            cache.ensure(hub.base(), DownloadListener.NONE);
            assertTrue(cache.isComplete());
            assertArrayEquals(WEIGHTS, Files.readAllBytes(cache.weightsFile()));
            assertArrayEquals(VOCAB, Files.readAllBytes(cache.vocabFile()));
            int requests = hub.requests.size();
            cache.ensure(hub.base(), DownloadListener.NONE);
            assertEquals(requests, hub.requests.size(), "nothing is downloaded twice");

            Files.write(dir.resolve("keep.txt"), new byte[] {1});
            Files.write(dir.resolve(ModelCache.WEIGHTS_FILE + ".part"), new byte[] {1});
            List<Path> removed = cache.clear();
            assertEquals(3, removed.size(), removed.toString());
            assertFalse(cache.isComplete());
            assertTrue(cache.partialDownloads().isEmpty());
            assertTrue(Files.exists(dir.resolve("keep.txt")), "clear touches only the cache's own files");
            assertTrue(cache.clear().isEmpty());
        }
    }

    @Test
    void forceDownloadsAgain() throws Exception {
        try (HubServer hub = new HubServer()) {
            hub.put(ModelCache.WEIGHTS_FILE, WEIGHTS);
            hub.put(ModelCache.VOCAB_FILE, VOCAB);
            ModelCache cache = ModelCache.at(tmp);
            cache.ensure(hub.base(), DownloadListener.NONE);
            byte[] other = ModelWriter.tiny().seed(6).build();
            hub.put(ModelCache.WEIGHTS_FILE, other);
            cache.download(hub.base(), DownloadListener.NONE, true);
            assertArrayEquals(other, Files.readAllBytes(cache.weightsFile()));
        }
    }

    @Test
    void badVocabularyIsRejected() throws Exception {
        try (HubServer hub = new HubServer()) {
            hub.put(ModelCache.WEIGHTS_FILE, WEIGHTS);
            hub.put(ModelCache.VOCAB_FILE, "<html>not a vocabulary</html>\n".getBytes(StandardCharsets.UTF_8));
            ModelCache cache = ModelCache.at(tmp);
            DownloadException e = assertThrows(DownloadException.class, () -> cache.ensure(hub.base(), null));
            assertEquals(DownloadException.Kind.CORRUPT, e.kind());
            assertTrue(e.getMessage().startsWith("the downloaded vocab.txt is not a valid vocabulary: "), e.getMessage());
            assertFalse(Files.exists(cache.vocabFile()));
            assertFalse(Files.exists(cache.weightsFile()), "the vocabulary comes first; nothing else was fetched");
        }
    }

    @Test
    void unwritableDirectoryIsAClearError() throws Exception {
        Path file = tmp.resolve("a-file");
        Files.write(file, new byte[] {1});
        ModelCache cache = ModelCache.at(file.resolve("sub"));
        DownloadException e = assertThrows(DownloadException.class, () -> cache.ensure("http://127.0.0.1:9/", null));
        assertEquals(DownloadException.Kind.LOCAL_IO, e.kind());
        assertTrue(e.getMessage().startsWith("cannot create the model cache directory "), e.getMessage());
    }

    /** Downloads {@code weights} (with the test vocabulary) into a new cache; returns the error. */
    private DownloadException refused(String dir, byte[] weights) throws Exception {
        try (HubServer hub = new HubServer()) {
            hub.put(ModelCache.WEIGHTS_FILE, weights);
            hub.put(ModelCache.VOCAB_FILE, VOCAB);
            ModelCache cache = ModelCache.at(tmp.resolve(dir));
            DownloadException e = assertThrows(DownloadException.class, () -> cache.ensure(hub.base(), null));
            assertFalse(Files.exists(cache.weightsFile()), "a refused file is never used");
            assertTrue(cache.partialDownloads().isEmpty(), "nor kept for resuming");
            assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
            return e;
        }
    }

    @Test
    void aFileInAnotherTensorLayoutIsRefusedNamingTheLayoutRead() throws Exception {
        // the retired layout's names with valid I4 shapes: the engine's missing-tensor error says it
        DownloadException e = refused("renamed", RetiredLayout.renamed(MODEL));
        assertEquals(DownloadException.Kind.MODEL, e.kind());
        assertTrue(e.getMessage().startsWith("the downloaded needle.safetensors is a SafeTensors file but not a"
                + " Needle model this version can load: weight file is missing tensor 'encoder_final_norm'"),
                e.getMessage());
        assertTrue(e.getMessage().contains("; this file is in another tensor layout: needle-java-wasm reads the"
                + " needle-rs layout of MODEL.md section 4"), e.getMessage());
        assertFalse(e.getMessage().contains("not a valid SafeTensors"), e.getMessage());

        // as the retired writer wrote it (I4 shapes counting weights): the container rule fails first
        e = refused("retired", RetiredLayout.asWritten(MODEL));
        assertEquals(DownloadException.Kind.MODEL, e.kind());
        assertTrue(e.getMessage().startsWith("the downloaded needle.safetensors is not a Needle model this version"
                + " can load: tensor \"encoder.layers.0.self_attn.q_proj.qweight\": dtype I4 and shape [32, 32] need"
                + " 1024 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("; the shape counts weights, not bytes: this file is in another tensor"
                + " layout: needle-java-wasm reads the needle-rs layout of MODEL.md section 4"), e.getMessage());
    }

    @Test
    void aModelThatDoesNotLoadIsRefusedWithTheEnginesReason() throws Exception {
        byte[] missing = MODEL.writer().remove("decoder.1.cross_attn.k_norm").toBytes();
        DownloadException e = refused("missing", missing);
        assertEquals(DownloadException.Kind.MODEL, e.kind());
        assertTrue(e.getMessage().contains(": weight file is missing tensor 'decoder.1.cross_attn.k_norm'"),
                e.getMessage());
        assertFalse(e.getMessage().contains("another tensor layout"), e.getMessage());

        byte[] contradiction = MODEL.writer().metadata("vocab_size", "1000").toBytes();
        e = refused("contradiction", contradiction);
        assertEquals(DownloadException.Kind.MODEL, e.kind());
        assertTrue(e.getMessage().contains(": bad model config: metadata vocab_size '1000' contradicts tensor"
                + " 'embedding'"), e.getMessage());
    }

    @Test
    void everyParityModelPassesTheCheck() throws Exception {
        // the real layout's variants: export.py metadata, legacy spellings, F16/BF16 norms, plain linears, no metadata
        for (String m : Shared.parityModels()) {
            Path file = Shared.fixture("parity/" + m + ".safetensors");
            ModelCache.checkWeights(file);
        }
    }
}
