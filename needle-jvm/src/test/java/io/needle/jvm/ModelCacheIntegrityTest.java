package io.needle.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model cache's hashes: the record beside each file, pins (API and environment) at download
 * and at load, a cached file that is not the pinned one, against a local hub on 127.0.0.1.
 */
class ModelCacheIntegrityTest {
    static final ModelWriter MODEL = ModelWriter.tiny().seed(12);
    static final byte[] WEIGHTS = MODEL.build();
    static final byte[] OTHER = ModelWriter.tiny().seed(13).build();
    static final byte[] VOCAB = TestVocab.make(MODEL.vocabSize(), 12).getBytes(StandardCharsets.UTF_8);
    static final String W = ModelCache.WEIGHTS_FILE;
    static final String V = ModelCache.VOCAB_FILE;

    @TempDir
    Path tmp;
    HubServer hub;
    HubServer.File weights;
    HubServer.File vocab;

    @BeforeEach
    void start() throws Exception {
        hub = new HubServer();
        weights = hub.put(W, WEIGHTS);
        vocab = hub.put(V, VOCAB);
        vocab.redirect = false; // as on Hugging Face: a small file answered directly, its git sha1 as the ETag
        vocab.gitEtag = true;
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private static List<Verification> verifications(ModelCache cache, String hubUrl, boolean force) throws Exception {
        List<Verification> out = new ArrayList<>();
        cache.download(hubUrl, new DownloadListener() {
            @Override
            public void progress(String file, long done, long total) {
            }

            @Override
            public void verified(Verification v) {
                out.add(v);
            }
        }, force);
        return out;
    }

    @Test
    void bothFilesAreVerifiedAsTheHubAnnouncesThemAndRecorded() throws Exception {
        ModelCache cache = ModelCache.at(tmp);
        List<Verification> v = verifications(cache, hub.base(), false);
        assertEquals(2, v.size());
        assertEquals(V, v.get(0).file());
        assertEquals("git blob sha1", v.get(0).algorithm());
        assertEquals(W, v.get(1).file());
        assertEquals("sha256", v.get(1).algorithm());
        for (Verification x : v) {
            assertEquals(Verification.Status.HUB, x.status());
        }
        assertEquals(HubServer.sha256(WEIGHTS), cache.recordedSha256(W));
        assertEquals(HubServer.sha256(VOCAB), cache.recordedSha256(V));
        assertEquals(HubServer.sha256(WEIGHTS), ModelCache.sha256Of(cache.weightsFile()));

        // clear removes the records too (they are not counted: the two files are)
        assertEquals(2, cache.clear().size());
        assertFalse(Files.exists(tmp.resolve(W + ".sha256")));
        assertFalse(Files.exists(tmp.resolve(V + ".sha256")));
        assertNull(cache.recordedSha256(W));
    }

    @Test
    void pinsComeFromTheApiOrTheEnvironmentAndMustBeSha256s() {
        ModelCache cache = ModelCache.at(tmp);
        assertNull(cache.pinnedSha256(W));
        String sha = HubServer.sha256(WEIGHTS);
        ModelCache pinned = cache.withSha256(W, sha.toUpperCase(), null);
        assertEquals(sha, pinned.pinnedSha256(W));
        assertNull(pinned.pinnedSha256(V));
        assertNull(cache.pinnedSha256(W), "withSha256 returns another cache");
        assertNull(pinned.withSha256(W, null, null).pinnedSha256(W));

        ModelCache env = cache.withSha256From(Map.of(ModelCache.WEIGHTS_SHA256_VARIABLE, " " + sha + " ",
                ModelCache.VOCAB_SHA256_VARIABLE, ""));
        assertEquals(sha, env.pinnedSha256(W));
        assertNull(env.pinnedSha256(V), "empty means unset");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cache.withSha256From(Map.of("NEEDLE_VOCAB_SHA256", "abc")));
        assertEquals("NEEDLE_VOCAB_SHA256 must be a sha256: 64 hex digits, got 'abc'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cache.withSha256("other.bin", sha, null));
    }

    @Test
    void aPinnedDownloadMustMatchThePinWhateverTheHubSays() throws Exception {
        // the hub announces the hash of what it serves, but the pin is another file's
        ModelCache cache = ModelCache.at(tmp).withSha256(W, HubServer.sha256(OTHER), "NEEDLE_WEIGHTS_SHA256");
        DownloadException e = assertThrows(DownloadException.class, () -> cache.ensure(hub.base(), null));
        assertEquals(DownloadException.Kind.HASH_MISMATCH, e.kind());
        assertTrue(e.getMessage().startsWith(W + " downloaded from " + hub.base() + W + " does not have the expected"
                + " sha256: expected " + HubServer.sha256(OTHER) + " (NEEDLE_WEIGHTS_SHA256), got "
                + HubServer.sha256(WEIGHTS) + "; the download was deleted, not installed"), e.getMessage());
        assertFalse(Files.exists(cache.weightsFile()));
        assertTrue(Files.exists(cache.vocabFile()), "the vocabulary, unpinned, verified by the hub, is in");
        assertFalse(cache.isComplete());

        // the hub serving the pinned file: installed, verified against the pin
        hub.put(W, OTHER);
        List<Verification> v = verifications(cache, hub.base(), false);
        assertEquals(1, v.size());
        assertEquals(Verification.Status.PINNED, v.get(0).status());
        assertEquals("NEEDLE_WEIGHTS_SHA256", v.get(0).source());
        assertTrue(cache.isComplete());
    }

    @Test
    void aCachedFileThatIsNotThePinnedOneIsDownloadedAgain() throws Exception {
        ModelCache plain = ModelCache.at(tmp);
        plain.ensure(hub.base(), null);
        int requests = hub.requests.size();

        // pinned to what is cached: complete, nothing downloaded
        ModelCache same = plain.withSha256(W, HubServer.sha256(WEIGHTS), "pin");
        assertTrue(same.isComplete());
        same.ensure(hub.base(), null);
        assertEquals(requests, hub.requests.size());

        // pinned to another version: not complete; the hub has it now, so it replaces the cached one
        ModelCache newer = plain.withSha256(W, HubServer.sha256(OTHER), "pin");
        assertFalse(newer.isComplete());
        hub.put(W, OTHER);
        newer.ensure(hub.base(), null);
        assertArrayEquals(OTHER, Files.readAllBytes(newer.weightsFile()));
        assertEquals(HubServer.sha256(OTHER), newer.recordedSha256(W));

        // pinned back to the first version the hub no longer serves: refused, the cached file stays
        DownloadException e = assertThrows(DownloadException.class, () -> same.ensure(hub.base(), null));
        assertEquals(DownloadException.Kind.HASH_MISMATCH, e.kind());
        assertArrayEquals(OTHER, Files.readAllBytes(same.weightsFile()));
    }

    @Test
    void aCacheWithoutRecordsIsHashedOnceForAPin() throws Exception {
        // files from a version that kept no record
        Files.write(tmp.resolve(W), WEIGHTS);
        Files.write(tmp.resolve(V), VOCAB);
        ModelCache cache = ModelCache.at(tmp).withSha256(W, HubServer.sha256(WEIGHTS), "pin");
        assertFalse(cache.isComplete(), "no record to compare with");
        cache.ensure(hub.base(), null);
        assertTrue(hub.requests.isEmpty(), "the cached bytes have the pinned sha256: nothing downloaded");
        assertEquals(HubServer.sha256(WEIGHTS), cache.recordedSha256(W), "and now it is recorded");
        assertNull(cache.recordedSha256(V), "the unpinned vocabulary is left alone");
        assertTrue(cache.isComplete());
    }

    @Test
    void loadDefaultHashesPinnedFilesAtEveryLoad() throws Exception {
        ModelCache cache = ModelCache.at(tmp).withSha256(W, HubServer.sha256(WEIGHTS), "NEEDLE_WEIGHTS_SHA256")
                .withSha256(V, HubServer.sha256(VOCAB), "NEEDLE_VOCAB_SHA256");
        try (Needle n = Needle.loadDefault(cache, hub.base(), DownloadListener.NONE)) {
            assertEquals(cache.weightsFile(), n.weightsFile());
        }
        // the cached weights changed after the download, the record still says the pinned hash
        Files.write(cache.weightsFile(), OTHER);
        assertTrue(cache.isComplete(), "the record alone cannot tell");
        DownloadException e = assertThrows(DownloadException.class,
                () -> Needle.loadDefault(cache, hub.base(), DownloadListener.NONE));
        assertEquals(DownloadException.Kind.HASH_MISMATCH, e.kind());
        assertEquals("the cached " + W + " in " + tmp.toAbsolutePath().normalize() + " does not have the expected sha256:"
                + " expected " + HubServer.sha256(WEIGHTS) + " (NEEDLE_WEIGHTS_SHA256), got " + HubServer.sha256(OTHER)
                + "; download it again with cache.download(hubUrl, listener, true), or clear the cache", e.getMessage());
        // unpinned, the cache is trusted as downloaded
        try (Needle n = Needle.loadDefault(ModelCache.at(tmp), hub.base(), DownloadListener.NONE)) {
            assertEquals(tmp.resolve(W).toAbsolutePath().normalize(), n.weightsFile());
        }
        // a pin the hub's file does not have: the download's own message, without a network hint
        ModelCache other = ModelCache.at(tmp.resolve("other")).withSha256(W, HubServer.sha256(OTHER), "pin");
        e = assertThrows(DownloadException.class, () -> Needle.loadDefault(other, hub.base(), DownloadListener.NONE));
        assertEquals(DownloadException.Kind.HASH_MISMATCH, e.kind());
        assertTrue(e.getMessage().contains("; the download was deleted, not installed; "), e.getMessage());
        assertFalse(e.getMessage().contains("NEEDLE_HUB_URL"), e.getMessage());
        // force downloads it again and the pinned load works
        cache.download(hub.base(), DownloadListener.NONE, true);
        Needle.loadDefault(cache, hub.base(), DownloadListener.NONE).close();
    }
}
