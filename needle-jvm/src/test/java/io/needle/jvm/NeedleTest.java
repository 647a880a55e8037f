package io.needle.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.model.Config;
import io.needle.synthetic.ModelWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JVM library API: {@link Needle} from files and from the cache (local server only). */
class NeedleTest {
    static final String TOOLS = "[{\"name\":\"get_weather\",\"description\":\"Get the weather\",\"parameters\":"
            + "{\"location\":{\"type\":\"string\",\"description\":\"City\",\"required\":true}}}]";
    static final String QUERY = "What's the weather in Paris?";

    @TempDir
    Path tmp;

    private Path[] files() throws IOException {
        Path w = tmp.resolve("w.safetensors");
        Path v = tmp.resolve("vocab.txt");
        Files.write(w, ModelCacheTest.WEIGHTS);
        Files.write(v, ModelCacheTest.VOCAB);
        return new Path[] {w, v};
    }

    private static RunResult expected(RunOptions options) {
        return NeedleEngine.load(ModelCacheTest.WEIGHTS, new String(ModelCacheTest.VOCAB, StandardCharsets.UTF_8))
                .run(QUERY, TOOLS, options);
    }

    @Test
    void loadFromFilesRunsLikeTheEngine() throws Exception {
        Path[] f = files();
        try (Needle needle = Needle.load(f[0], f[1])) {
            RunResult r = needle.run(QUERY, TOOLS, new RunOptions().maxNewTokens(40));
            assertEquals(expected(new RunOptions().maxNewTokens(40)).text, r.text);
            assertEquals(f[0], needle.weightsFile());
            assertEquals(512, needle.engine().config().vocabSize);
        }
    }

    @Test
    void closedInstanceRefusesWork() throws Exception {
        Path[] f = files();
        Needle needle = Needle.load(f[0], f[1]);
        needle.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> needle.run(QUERY, TOOLS));
        assertEquals("this Needle is closed", e.getMessage());
        needle.close(); // twice is fine
    }

    @Test
    void missingAndBadFiles() throws Exception {
        Path[] f = files();
        IOException e = assertThrows(IOException.class, () -> Needle.load(tmp.resolve("nope"), f[1]));
        assertEquals("cannot read weights file '" + tmp.resolve("nope") + "': no such file", e.getMessage());
        NeedleException n = assertThrows(NeedleException.class, () -> Needle.load(f[1], f[1]));
        assertEquals(NeedleException.Kind.WEIGHTS, n.kind());
        assertThrows(IOException.class, () -> Needle.load(tmp, f[1]));
    }

    @Test
    void loadDefaultDownloadsOnFirstUseThenUsesTheCache() throws Exception {
        try (HubServer hub = new HubServer()) {
            hub.put(ModelCache.WEIGHTS_FILE, ModelCacheTest.WEIGHTS);
            hub.put(ModelCache.VOCAB_FILE, ModelCacheTest.VOCAB);
            ModelCache cache = ModelCache.at(tmp.resolve("cache"));
            List<String> finished = new ArrayList<>();
            DownloadListener listener = new DownloadListener() {
                @Override
                public void progress(String file, long done, long total) {
                }

                @Override
                public void finished(String file, long bytes) {
                    finished.add(file);
                }
            };
            try (Needle needle = Needle.loadDefault(cache, hub.base(), listener)) {
                assertEquals(expected(new RunOptions()).text, needle.run(QUERY, TOOLS).text);
            }
            assertEquals(List.of("vocab.txt", "needle.safetensors"), finished);
            int requests = hub.requests.size();
            try (Needle needle = Needle.loadDefault(cache, hub.base(), listener)) {
                assertEquals(cache.weightsFile(), needle.weightsFile());
            }
            assertEquals(requests, hub.requests.size());
        }
    }

    @Test
    void loadDefaultOfflineSaysWhatToDo() throws Exception {
        ModelCache cache = ModelCache.at(tmp.resolve("cache"));
        DownloadException e = assertThrows(DownloadException.class,
                () -> Needle.loadDefault(cache, HubServer.closedPortUrl(), DownloadListener.NONE));
        assertEquals(DownloadException.Kind.UNREACHABLE, e.kind());
        assertTrue(e.getMessage().startsWith("could not reach 127.0.0.1 to download vocab.txt ("), e.getMessage());
        assertTrue(e.getMessage().endsWith("; pass the files to Needle.load(weights, vocab), or set NEEDLE_HUB_URL"),
                e.getMessage());
    }

    @Test
    void corruptCachedFileNamesTheCache() throws Exception {
        ModelCache cache = ModelCache.at(tmp.resolve("cache"));
        Files.createDirectories(cache.directory());
        Files.write(cache.weightsFile(), new byte[100]);
        Files.write(cache.vocabFile(), ModelCacheTest.VOCAB);
        NeedleException e = assertThrows(NeedleException.class,
                () -> Needle.loadDefault(cache, "http://127.0.0.1:9/", DownloadListener.NONE));
        assertTrue(e.getMessage().contains("(in the model cache " + cache.directory()), e.getMessage());
    }

    @Test
    void aFileInAnotherTensorLayoutSaysWhichLayoutIsRead() throws Exception {
        Path v = files()[1];
        Path renamed = tmp.resolve("renamed.safetensors");
        Files.write(renamed, RetiredLayout.renamed(ModelCacheTest.MODEL));
        NeedleException e = assertThrows(NeedleException.class, () -> Needle.load(renamed, v));
        assertEquals(NeedleException.Kind.WEIGHTS, e.kind());
        String layout = "this file is in another tensor layout: needle-java-wasm reads the needle-rs layout of"
                + " MODEL.md section 4";
        assertTrue(e.getMessage().contains(layout), e.getMessage());
        assertEquals(e.getMessage().indexOf(layout), e.getMessage().lastIndexOf(layout), "said once");

        Path retired = tmp.resolve("retired.safetensors");
        Files.write(retired, RetiredLayout.asWritten(ModelCacheTest.MODEL));
        e = assertThrows(NeedleException.class, () -> Needle.load(retired, v));
        assertEquals(NeedleException.Kind.WEIGHTS, e.kind());
        assertTrue(e.getMessage().endsWith("; the shape counts weights, not bytes: " + layout + " (names like"
                + " 'embedding', 'encoder.0.self_attn.wq' + 'encoder.0.self_attn.wq.scale', 'decoder.0.cross_attn_norm';"
                + " I4 shapes [in_pad/2, out] count bytes)"), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'));
    }

    @Test
    void loadDefaultRefusesAnotherLayoutFromTheHubAndFromTheCache() throws Exception {
        try (HubServer hub = new HubServer()) {
            hub.put(ModelCache.WEIGHTS_FILE, RetiredLayout.renamed(ModelCacheTest.MODEL));
            hub.put(ModelCache.VOCAB_FILE, ModelCacheTest.VOCAB);
            ModelCache cache = ModelCache.at(tmp.resolve("cache"));
            DownloadException e = assertThrows(DownloadException.class,
                    () -> Needle.loadDefault(cache, hub.base(), DownloadListener.NONE));
            assertEquals(DownloadException.Kind.MODEL, e.kind());
            assertTrue(e.getMessage().contains("this file is in another tensor layout: needle-java-wasm reads the"
                    + " needle-rs layout"), e.getMessage());
            assertTrue(e.getMessage().endsWith("; pass the files to Needle.load(weights, vocab), or set NEEDLE_HUB_URL"),
                    e.getMessage());
            assertFalse(Files.exists(cache.weightsFile()));
        }
        // a cache filled by other means (an older tool, a copy) is told the same at load
        ModelCache cache = ModelCache.at(tmp.resolve("cache2"));
        Files.createDirectories(cache.directory());
        Files.write(cache.weightsFile(), RetiredLayout.renamed(ModelCacheTest.MODEL));
        Files.write(cache.vocabFile(), ModelCacheTest.VOCAB);
        NeedleException n = assertThrows(NeedleException.class,
                () -> Needle.loadDefault(cache, "http://127.0.0.1:9/", DownloadListener.NONE));
        assertTrue(n.getMessage().contains("this file is in another tensor layout"), n.getMessage());
        assertTrue(n.getMessage().endsWith("(in the model cache " + cache.directory()
                + "; clear it to download the files again)"), n.getMessage());
    }

    @Test
    void loadDefaultOfAModelWithoutMetadata() throws Exception {
        // the first export wrote no __metadata__: the check and the load infer the config from the tensors
        // (the same seeded weights as ModelCacheTest.MODEL, whose defaults, drelu and rope 10000, are what
        // a file without metadata gets: the same answers)
        byte[] weights = ModelWriter.tiny().seed(5).metadata(ModelWriter.Metadata.NONE).build();
        try (HubServer hub = new HubServer()) {
            hub.put(ModelCache.WEIGHTS_FILE, weights);
            hub.put(ModelCache.VOCAB_FILE, ModelCacheTest.VOCAB);
            ModelCache cache = ModelCache.at(tmp.resolve("cache"));
            try (Needle needle = Needle.loadDefault(cache, hub.base(), DownloadListener.NONE)) {
                assertEquals(Config.Source.TENSORS, needle.engine().config().source);
                assertEquals(expected(new RunOptions().maxNewTokens(40)).text,
                        needle.run(QUERY, TOOLS, new RunOptions().maxNewTokens(40)).text);
            }
        }
    }
}
