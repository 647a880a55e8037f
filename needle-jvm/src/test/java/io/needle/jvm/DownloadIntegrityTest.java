package io.needle.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Downloader}'s hash checks against a local hub on 127.0.0.1: the sha256 the hub announces
 * in X-Linked-Etag on its redirect (also with the CDN on another origin), the git blob sha1 of a
 * small file's ETag, no hash at all, a tampered body under the original's hash, pins.
 */
class DownloadIntegrityTest {
    static final String NAME = "needle.safetensors";
    static final ModelWriter MODEL = ModelWriter.tiny().seed(8);
    static final byte[] WEIGHTS = MODEL.build();
    static final byte[] OTHER = ModelWriter.tiny().seed(9).build();
    static final byte[] VOCAB = TestVocab.make(MODEL.vocabSize(), 8).getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;
    HubServer hub;
    Downloader downloader;
    Path target;
    DownloaderTest.Recorder events;

    @BeforeEach
    void start() throws IOException {
        hub = new HubServer();
        downloader = DownloaderTest.quickDownloader();
        target = dir.resolve(NAME);
        events = new DownloaderTest.Recorder();
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private Verification download(ExpectedHash pin) throws DownloadException {
        return downloader.download(hub.base() + NAME, target, events, ModelCache::checkWeights, pin);
    }

    private String hubAuthority() {
        return hub.base().substring("http://".length(), hub.base().indexOf("/resolve/"));
    }

    private Path sidecar(Path file) {
        return file.resolveSibling(file.getFileName() + ".sha256");
    }

    /** Nothing of a refused download is left: no file, no part, no record. */
    private void assertNothingInstalled(Path file) {
        assertFalse(Files.exists(file), "a refused file is never installed");
        assertFalse(Files.exists(file.resolveSibling(file.getFileName() + ".part")), "nor kept for resuming");
        assertFalse(Files.exists(sidecar(file)));
    }

    @Test
    void theHubsXLinkedEtagIsCheckedAndTheSha256Recorded() throws Exception {
        hub.put(NAME, WEIGHTS);
        Verification v = download(null);
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
        String sha = HubServer.sha256(WEIGHTS);
        assertEquals(Verification.Status.HUB, v.status());
        assertEquals(sha, v.sha256());
        assertEquals("sha256", v.algorithm());
        assertEquals(sha, v.expected());
        assertEquals("the X-Linked-Etag header of " + hubAuthority(), v.source());
        assertNull(v.note());
        assertEquals(NAME + ": sha256 " + sha + " matches the X-Linked-Etag header of " + hubAuthority(), v.describe());
        assertEquals(sha + "  " + NAME + "\n", Files.readString(sidecar(target)), "sha256sum's format");
        assertEquals(sha, Downloader.readSha256(sidecar(target)));
        assertEquals(1, events.verified.size());
        assertEquals(v, events.verified.get(0));
        assertEquals("finished " + NAME + " " + WEIGHTS.length, events.log.get(events.log.size() - 1));
    }

    @Test
    void aTamperedBodyUnderTheOriginalsHashIsRefusedNamingBothHashesAndTheSource() throws Exception {
        // the same size, a valid model: only the hash tells them apart
        hub.put(NAME, WEIGHTS).tamper(OTHER);
        assertEquals(WEIGHTS.length, OTHER.length);
        DownloadException e = assertThrows(DownloadException.class, () -> download(null));
        assertEquals(DownloadException.Kind.HASH_MISMATCH, e.kind());
        assertEquals(NAME + " downloaded from " + hub.base() + NAME + " does not have the expected sha256: expected "
                + HubServer.sha256(WEIGHTS) + " (the X-Linked-Etag header of " + hubAuthority() + "), got "
                + HubServer.sha256(OTHER) + "; the download was deleted, not installed", e.getMessage());
        assertNothingInstalled(target);
        assertEquals(1, hub.bodyRequests(NAME).size(), "a complete download with the wrong hash is not retried");
        assertTrue(events.verified.isEmpty());
    }

    @Test
    void aRefusedDownloadKeepsTheFileItWouldHaveReplaced() throws Exception {
        HubServer.File f = hub.put(NAME, WEIGHTS);
        download(null);
        f.tamper(OTHER);
        f.etag = "\"v2\"";
        assertThrows(DownloadException.class, () -> download(null));
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target), "the verified file stays");
        assertEquals(HubServer.sha256(WEIGHTS), Downloader.readSha256(sidecar(target)), "with its record");
    }

    @Test
    void withoutAHashTheFileIsInstalledAsNotVerified() throws Exception {
        hub.put(NAME, WEIGHTS).announceHash = false;
        Verification v = download(null);
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
        assertEquals(Verification.Status.NOT_VERIFIED, v.status());
        assertEquals(hubAuthority() + " sent no hash for it", v.note());
        assertNull(v.expected());
        assertNull(v.source());
        assertEquals(HubServer.sha256(WEIGHTS), v.sha256());
        assertEquals(HubServer.sha256(WEIGHTS), Downloader.readSha256(sidecar(target)), "the record is kept anyway");
        assertTrue(v.describe().startsWith(NAME + ": not verified (" + hubAuthority() + " sent no hash for it)"),
                v.describe());
    }

    @Test
    void anEtagThatIsNoHashIsSaidSoAndAMirrorsPlainEtagIsNoHash() throws Exception {
        // the hub's mark (X-Repo-Commit) with an ETag that is neither a sha256 nor a git sha1 (an MD5)
        HubServer.File f = hub.put(NAME, WEIGHTS);
        f.redirect = false;
        f.etag = "W/\"9e107d9d372bb6826bd81d3542a419d6\"";
        Verification v = download(null);
        assertEquals(Verification.Status.NOT_VERIFIED, v.status());
        assertEquals("the ETag header of " + hubAuthority() + " is no sha256 or git blob sha1 ('"
                + f.etag + "')", v.note());

        // a mirror (no X-Repo-Commit) whose ETag looks like a sha256 but is not this file's: not taken for one
        Files.delete(target);
        f.announceHash = false;
        f.etag = "\"" + HubServer.sha256(OTHER) + "\"";
        v = download(null);
        assertEquals(Verification.Status.NOT_VERIFIED, v.status());
        assertEquals(hubAuthority() + " sent no hash for it", v.note());
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
    }

    @Test
    void theCdnsAnswersNeverCountOnlyTheHubs() throws Exception {
        hub.close();
        hub = new HubServer(true); // the CDN on another port: another origin, as the real one is
        HubServer.File f = hub.put(NAME, WEIGHTS);
        Verification v = download(null);
        assertEquals(Verification.Status.HUB, v.status());
        assertEquals("the X-Linked-Etag header of " + hubAuthority(), v.source());
        assertEquals(2, hub.requests.size(), "redirect followed to the other port");

        // a CDN serving other bytes and vouching for them with its own X-Linked-Etag is not believed
        Path other = dir.resolve("again").resolve(NAME);
        Files.createDirectories(other.getParent());
        f.tamper(OTHER);
        f.cdnHeaders = "X-Linked-Etag: \"" + HubServer.sha256(OTHER) + "\"\r\nX-Repo-Commit: " + HubServer.COMMIT + "\r\n";
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader.download(hub.base() + NAME, other, events, ModelCache::checkWeights, null));
        assertEquals(DownloadException.Kind.HASH_MISMATCH, e.kind());
        assertTrue(e.getMessage().contains("expected " + HubServer.sha256(WEIGHTS) + " (the X-Linked-Etag header of "
                + hubAuthority() + "), got " + HubServer.sha256(OTHER)), e.getMessage());
        assertNothingInstalled(other);

        // without the hub's hash, the CDN's own header does not make the file verified
        f.announceHash = false;
        f.bytes = WEIGHTS;
        f.announcedBytes = null;
        f.cdnHeaders = "X-Linked-Etag: \"" + HubServer.sha256(WEIGHTS) + "\"\r\n";
        assertEquals(Verification.Status.NOT_VERIFIED,
                downloader.download(hub.base() + NAME, other, events, ModelCache::checkWeights, null).status());
    }

    @Test
    void aSmallFilesGitBlobSha1IsChecked() throws Exception {
        Path vocab = dir.resolve("vocab.txt");
        HubServer.File f = hub.put("vocab.txt", VOCAB);
        f.redirect = false;
        f.gitEtag = true;
        Verification v = downloader.download(hub.base() + "vocab.txt", vocab, events, ModelCache::checkVocab, null);
        assertArrayEquals(VOCAB, Files.readAllBytes(vocab));
        assertEquals(Verification.Status.HUB, v.status());
        assertEquals("git blob sha1", v.algorithm());
        assertEquals(HubServer.gitBlobSha1(VOCAB), v.expected());
        assertEquals("the ETag header of " + hubAuthority(), v.source());
        assertEquals(HubServer.sha256(VOCAB), v.sha256(), "the sha256 is recorded all the same");
        assertEquals(HubServer.sha256(VOCAB), Downloader.readSha256(sidecar(vocab)));
        assertTrue(v.describe().endsWith("(sha256 " + HubServer.sha256(VOCAB) + ")"), v.describe());

        // one changed byte under the original's ETag
        byte[] changed = VOCAB.clone();
        changed[changed.length / 2] ^= 1;
        Path vocab2 = dir.resolve("v2").resolve("vocab.txt");
        Files.createDirectories(vocab2.getParent());
        f.tamper(changed);
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader.download(hub.base() + "vocab.txt", vocab2, events, ModelCache::checkVocab, null));
        assertEquals(DownloadException.Kind.HASH_MISMATCH, e.kind());
        assertTrue(e.getMessage().startsWith("vocab.txt downloaded from " + hub.base() + "vocab.txt does not have the"
                + " expected git blob sha1: expected " + HubServer.gitBlobSha1(VOCAB) + " (the ETag header of "
                + hubAuthority() + "), got " + HubServer.gitBlobSha1(changed) + " (sha256 " + HubServer.sha256(changed)
                + "); the download was deleted, not installed"), e.getMessage());
        assertNothingInstalled(vocab2);
    }

    @Test
    void aPinWinsOverTheHub() throws Exception {
        HubServer.File f = hub.put(NAME, WEIGHTS);
        // the hub announces another file's hash: the pin decides, and the note says so
        f.announcedBytes = OTHER;
        Verification v = download(ExpectedHash.pinned(HubServer.sha256(WEIGHTS).toUpperCase(), "NEEDLE_WEIGHTS_SHA256"));
        assertEquals(Verification.Status.PINNED, v.status());
        assertEquals(HubServer.sha256(WEIGHTS), v.expected());
        assertEquals("NEEDLE_WEIGHTS_SHA256", v.source());
        assertEquals("the X-Linked-Etag header of " + hubAuthority() + " announces another sha256, "
                + HubServer.sha256(OTHER), v.note());

        // a pin the download does not match is refused even when the hub agrees with the bytes
        f.announcedBytes = null;
        Files.delete(target);
        Files.delete(sidecar(target));
        DownloadException e = assertThrows(DownloadException.class,
                () -> download(ExpectedHash.pinned(HubServer.sha256(OTHER), "--weights-sha256")));
        assertEquals(DownloadException.Kind.HASH_MISMATCH, e.kind());
        assertEquals(NAME + " downloaded from " + hub.base() + NAME + " does not have the expected sha256: expected "
                + HubServer.sha256(OTHER) + " (--weights-sha256), got " + HubServer.sha256(WEIGHTS)
                + "; the download was deleted, not installed; the X-Linked-Etag header of " + hubAuthority()
                + " announces the sha256 that arrived: is the pin for another version?", e.getMessage());
        assertNothingInstalled(target);

        // and a pin is checked where the hub gives no hash
        f.announceHash = false;
        assertEquals(Verification.Status.PINNED, download(ExpectedHash.pinned(HubServer.sha256(WEIGHTS), "pin")).status());
    }

    @Test
    void aResumedDownloadIsHashedWholeIncludingTheBytesOnDisk() throws Exception {
        HubServer.File f = hub.put(NAME, WEIGHTS);
        f.cutResponses.set(1);
        f.cutAt = WEIGHTS.length / 3;
        Verification v = download(null);
        assertEquals(2, hub.bodyRequests(NAME).size());
        assertEquals("bytes=" + f.cutAt + "-", hub.bodyRequests(NAME).get(1).range);
        assertEquals(Verification.Status.HUB, v.status());
        assertEquals(HubServer.sha256(WEIGHTS), v.sha256());
    }

    @Test
    void aLeftoverPartWithWrongBytesFailsTheHashThenDownloadsCleanly() throws Exception {
        hub.put(NAME, WEIGHTS);
        // the right ETag, but one bit of the bytes on disk is wrong (in the tensor data, where the
        // model would still load): only the hash catches it
        byte[] half = Arrays.copyOf(WEIGHTS, WEIGHTS.length / 2);
        half[half.length - 1] ^= 1;
        Files.write(dir.resolve(NAME + ".part"), half);
        Files.write(dir.resolve(NAME + ".part.etag"), "\"v1\"\n".getBytes(StandardCharsets.UTF_8));
        Verification v = download(null);
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
        assertEquals(Verification.Status.HUB, v.status());
        assertEquals(2, hub.bodyRequests(NAME).size(), "resumed, then once from the start");
        assertEquals("bytes=" + half.length + "-", hub.bodyRequests(NAME).get(0).range);
        assertEquals(List.of("started " + NAME + " from=" + half.length + " total=" + WEIGHTS.length,
                "started " + NAME + " from=0 total=" + WEIGHTS.length, "finished " + NAME + " " + WEIGHTS.length),
                events.log);
        // the model check alone would have taken the file with the wrong bit
        byte[] wrong = WEIGHTS.clone();
        wrong[half.length - 1] ^= 1;
        ModelCache.checkWeights(Files.write(dir.resolve("wrong.safetensors"), wrong));
    }

    @Test
    void etagsAreReadAsHuggingFaceWritesThem() {
        String sha = HubServer.sha256(WEIGHTS);
        ExpectedHash h = ExpectedHash.fromEtag(" W/\"" + sha.toUpperCase() + "\" ", "x");
        assertEquals(ExpectedHash.Algorithm.SHA256, h.algorithm);
        assertEquals(sha, h.hex);
        assertEquals(ExpectedHash.Algorithm.GIT_BLOB_SHA1, ExpectedHash.fromEtag("\"" + HubServer.gitBlobSha1(VOCAB) + "\"",
                "x").algorithm, "40 hex digits are a git sha1, never a sha256");
        assertNull(ExpectedHash.fromEtag("\"9e107d9d372bb6826bd81d3542a419d6\"", "x"), "an MD5 is no hash we check");
        assertNull(ExpectedHash.fromEtag("\"v1\"", "x"));
        assertNull(ExpectedHash.fromEtag("\"" + sha.substring(1) + "g\"", "x"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ExpectedHash.pinned(HubServer.gitBlobSha1(VOCAB), "NEEDLE_VOCAB_SHA256"));
        assertEquals("NEEDLE_VOCAB_SHA256 must be a sha256: 64 hex digits, got '" + HubServer.gitBlobSha1(VOCAB) + "'",
                e.getMessage());
    }

    @Test
    void contentHashMatchesGitAndTheJdk() throws Exception {
        // git hash-object of "hello\n" (a value anyone can reproduce with git)
        Path hello = Files.writeString(dir.resolve("hello"), "hello\n");
        assertEquals("ce013625030ba8dba906f756967f9e9ca394464a", ContentHash.gitBlobSha1Of(hello));
        assertEquals(HubServer.gitBlobSha1(VOCAB), ContentHash.gitBlobSha1Of(Files.write(dir.resolve("v"), VOCAB)));
        assertEquals(HubServer.sha256(WEIGHTS), ContentHash.sha256Of(Files.write(dir.resolve("w"), WEIGHTS)));
        assertEquals(HubServer.sha256(WEIGHTS), ContentHash.sha256Of(WEIGHTS));
        // fed in pieces, the length unknown at the start: the git sha1 comes from the file
        ContentHash h = ContentHash.start(true, -1);
        h.feed(dir.resolve("v"), 100);
        h.update(VOCAB, 100, VOCAB.length - 100);
        assertEquals(HubServer.gitBlobSha1(VOCAB), h.gitBlobSha1(dir.resolve("v")));
        assertEquals(HubServer.sha256(VOCAB), h.sha256());
    }
}
