package io.needle.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.synthetic.ModelWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Downloader} against a local HTTP server on 127.0.0.1 (never the real network). */
class DownloaderTest {
    static final String NAME = "needle.safetensors";
    static final byte[] WEIGHTS = ModelWriter.tiny().seed(3).build();

    @TempDir
    Path dir;
    HubServer hub;
    Downloader downloader;
    Path target;
    Recorder events;

    @BeforeEach
    void start() throws IOException {
        hub = new HubServer();
        downloader = quickDownloader();
        target = dir.resolve(NAME);
        events = new Recorder();
    }

    /** A downloader for the local hub: no wait between attempts, 5 s time-outs. */
    static Downloader quickDownloader() {
        Downloader d = new Downloader();
        d.retryDelayMs = 0;
        d.connectTimeoutMs = 5_000;
        d.readTimeoutMs = 5_000;
        return d;
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    /** Everything a listener hears, as text lines, plus the progress values. */
    static final class Recorder implements DownloadListener {
        final List<String> log = new ArrayList<>();
        final List<long[]> progress = new ArrayList<>();
        final List<Verification> verified = new ArrayList<>();

        @Override
        public void verified(Verification v) {
            verified.add(v);
        }

        @Override
        public void started(String file, String url, long from, long total) {
            log.add("started " + file + " from=" + from + " total=" + total);
        }

        @Override
        public void progress(String file, long done, long total) {
            progress.add(new long[] {done, total});
        }

        @Override
        public void retrying(String file, String reason) {
            log.add("retrying " + file + ": " + reason);
        }

        @Override
        public void finished(String file, long bytes) {
            log.add("finished " + file + " " + bytes);
        }
    }

    private void download() throws DownloadException {
        downloader.download(hub.base() + NAME, target, events, ModelCache::checkWeights);
    }

    private Path part() {
        return dir.resolve(NAME + ".part");
    }

    @Test
    void fullDownloadWithProgress() throws Exception {
        hub.put(NAME, WEIGHTS);
        download();
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
        assertFalse(Files.exists(part()), "no temporary file left");
        assertFalse(Files.exists(dir.resolve(NAME + ".part.etag")));
        assertEquals(List.of("started " + NAME + " from=0 total=" + WEIGHTS.length, "finished " + NAME + " "
                + WEIGHTS.length), events.log);
        // progress: non-empty, strictly growing, total always the file size, ending at the size
        assertFalse(events.progress.isEmpty());
        long previous = 0;
        for (long[] p : events.progress) {
            assertEquals(WEIGHTS.length, p[1]);
            assertTrue(p[0] > previous && p[0] <= WEIGHTS.length, Arrays.toString(p));
            previous = p[0];
        }
        assertEquals(WEIGHTS.length, previous);
        // the hub's redirect was followed: one request to /resolve, one to /cdn
        assertEquals(2, hub.requests.size(), hub.requests.toString());
    }

    @Test
    void interruptedDownloadResumesWithRange() throws Exception {
        HubServer.File f = hub.put(NAME, WEIGHTS);
        f.cutResponses.set(1);
        f.cutAt = WEIGHTS.length / 3;
        download();
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
        List<HubServer.Request> bodies = hub.bodyRequests(NAME);
        assertEquals(2, bodies.size(), bodies.toString());
        assertNull(bodies.get(0).range);
        assertEquals("bytes=" + f.cutAt + "-", bodies.get(1).range, "the second attempt resumes where the first stopped");
        assertEquals("\"v1\"", bodies.get(1).ifRange, "resuming is guarded by the ETag");
        assertTrue(events.log.get(1).startsWith("retrying " + NAME + ": "), events.log.toString());
        assertEquals("started " + NAME + " from=" + f.cutAt + " total=" + WEIGHTS.length, events.log.get(2));
        // progress restarts at the resume point and still ends at the size
        assertEquals(WEIGHTS.length, events.progress.get(events.progress.size() - 1)[0]);
    }

    @Test
    void interruptedDownloadResumesInALaterRun() throws Exception {
        HubServer.File f = hub.put(NAME, WEIGHTS);
        f.cutResponses.set(1);
        f.cutAt = WEIGHTS.length / 2;
        downloader.attempts = 1;
        DownloadException e = assertThrows(DownloadException.class, this::download);
        assertEquals(DownloadException.Kind.INCOMPLETE, e.kind());
        assertFalse(Files.exists(target), "no half file under the final name");
        assertEquals(f.cutAt, Files.size(part()), "the partial download is kept for the next run");

        download(); // a later run
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
        List<HubServer.Request> bodies = hub.bodyRequests(NAME);
        assertEquals("bytes=" + f.cutAt + "-", bodies.get(bodies.size() - 1).range);
    }

    @Test
    void serverIgnoringRangeMeansACleanRestart() throws Exception {
        HubServer.File f = hub.put(NAME, WEIGHTS);
        f.cutResponses.set(1);
        f.cutAt = 1000;
        f.ignoreRange = true;
        download();
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
        assertEquals("started " + NAME + " from=0 total=" + WEIGHTS.length, events.log.get(2),
                "a 200 answer to a range request starts over");
    }

    @Test
    void changedFileOnTheServerIsNotMixedWithTheOldPart() throws Exception {
        HubServer.File f = hub.put(NAME, ModelWriter.tiny().seed(4).build());
        f.cutResponses.set(1);
        f.cutAt = 5000;
        downloader.attempts = 1;
        assertThrows(DownloadException.class, this::download);
        assertTrue(Files.exists(part()));
        // a new version appears on the hub: If-Range no longer matches, the server sends it whole
        f.bytes = WEIGHTS;
        f.etag = "\"v2\"";
        download();
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
    }

    @Test
    void serverErrorsAreRetriedThenReported() throws Exception {
        HubServer.File f = hub.put(NAME, WEIGHTS);
        f.errorResponses.set(2);
        f.errorStatus = 503;
        download();
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
        assertEquals(3, hub.bodyRequests(NAME).size());

        Path other = dir.resolve("other.safetensors");
        HubServer.File g = hub.put("other.safetensors", WEIGHTS);
        g.errorResponses.set(100);
        g.errorStatus = 500;
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader.download(hub.base() + "other.safetensors", other, events, ModelCache::checkWeights));
        assertEquals(DownloadException.Kind.HTTP, e.kind());
        assertTrue(e.getMessage().contains("500"), e.getMessage());
        assertTrue(e.getMessage().contains(hub.base() + "other.safetensors"), e.getMessage());
        assertEquals(downloader.attempts, hub.bodyRequests("other.safetensors").size());
        assertFalse(Files.exists(other));
    }

    @Test
    void notFoundFailsAtOnce() {
        DownloadException e = assertThrows(DownloadException.class, this::download);
        assertEquals(DownloadException.Kind.HTTP, e.kind());
        assertTrue(e.getMessage().contains("404"), e.getMessage());
        assertEquals(1, hub.requests.size(), "no retry for 404");
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(part()));
    }

    @Test
    void truncatedBodyIsDetected() throws Exception {
        HubServer.File f = hub.put(NAME, WEIGHTS);
        f.cutResponses.set(1000);
        f.cutAt = 0; // every response stops before its first byte
        DownloadException e = assertThrows(DownloadException.class, this::download);
        assertEquals(DownloadException.Kind.INCOMPLETE, e.kind());
        assertTrue(e.getMessage().startsWith("could not download " + NAME + " from " + hub.base() + NAME + ": "),
                e.getMessage());
        assertTrue(e.getMessage().contains("of " + WEIGHTS.length + " bytes"), e.getMessage());
        assertFalse(Files.exists(target));
    }

    @Test
    void truncatedFileWithoutSizeIsCaughtByTheHeaderCheck() throws Exception {
        // the server announces (and sends) a shorter file: the size agrees, the SafeTensors check does not
        hub.put(NAME, Arrays.copyOf(WEIGHTS, WEIGHTS.length - 100)).redirect = false;
        DownloadException e = assertThrows(DownloadException.class, this::download);
        assertEquals(DownloadException.Kind.CORRUPT, e.kind());
        assertTrue(e.getMessage().startsWith("the downloaded needle.safetensors is not a valid SafeTensors file: "),
                e.getMessage());
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(part()), "a corrupt download is not kept for resuming");
    }

    @Test
    void aModelInAnotherTensorLayoutIsRefusedOnceNamingTheLayout() throws Exception {
        hub.put(NAME, RetiredLayout.renamed(ModelWriter.tiny().seed(3)));
        DownloadException e = assertThrows(DownloadException.class, this::download);
        assertEquals(DownloadException.Kind.MODEL, e.kind());
        assertTrue(e.getMessage().contains("this file is in another tensor layout: needle-java-wasm reads the needle-rs"
                + " layout of MODEL.md section 4"), e.getMessage());
        assertFalse(e.getMessage().contains("not a valid SafeTensors file"), e.getMessage());
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(part()));
        assertEquals(1, hub.bodyRequests(NAME).size(), "a complete download in another layout is not retried");
    }

    @Test
    void aResumedDownloadThatFailsTheModelCheckIsFetchedOnceMoreFromTheStart() throws Exception {
        // after a resume the bytes might be two versions mixed: one clean download decides
        HubServer.File f = hub.put(NAME, RetiredLayout.renamed(ModelWriter.tiny().seed(3)));
        f.cutResponses.set(1);
        f.cutAt = 1000;
        DownloadException e = assertThrows(DownloadException.class, this::download);
        assertEquals(DownloadException.Kind.MODEL, e.kind());
        assertEquals(3, hub.bodyRequests(NAME).size(), "cut, resumed, then once from the start");
        assertTrue(events.log.stream().anyMatch(l -> l.startsWith("retrying " + NAME + ": the downloaded " + NAME
                + " is a SafeTensors file but not a Needle model") && l.endsWith("(after resuming; downloading it"
                + " again from the start)")), events.log.toString());
        assertFalse(Files.exists(target));
    }

    @Test
    void corruptFileIsRejected() throws Exception {
        byte[] garbage = new byte[WEIGHTS.length];
        new Random(1).nextBytes(garbage);
        hub.put(NAME, garbage);
        DownloadException e = assertThrows(DownloadException.class, this::download);
        assertEquals(DownloadException.Kind.CORRUPT, e.kind());
        assertTrue(e.getMessage().contains("not a valid SafeTensors file"), e.getMessage());
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(part()));
        assertEquals(1, hub.bodyRequests(NAME).size(), "a complete but corrupt download is not retried");
    }

    @Test
    void badResumedFileGetsOneCleanRetry() throws Exception {
        hub.put(NAME, WEIGHTS);
        // a leftover part with the right ETag but wrong bytes (e.g. a disk error)
        Files.write(part(), new byte[5000]);
        Files.write(dir.resolve(NAME + ".part.etag"), "\"v1\"\n".getBytes(StandardCharsets.UTF_8));
        download();
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
        List<HubServer.Request> bodies = hub.bodyRequests(NAME);
        assertEquals(2, bodies.size(), bodies.toString());
        assertEquals("bytes=5000-", bodies.get(0).range);
        assertNull(bodies.get(1).range, "the retry starts from zero");
    }

    @Test
    void partWithoutValidatorIsNotResumed() throws Exception {
        hub.put(NAME, WEIGHTS);
        Files.write(part(), Arrays.copyOf(WEIGHTS, 3000));
        download();
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
        assertNull(hub.bodyRequests(NAME).get(0).range);
    }

    @Test
    void stalledConnectionTimesOutAndRetries() throws Exception {
        HubServer.File f = hub.put(NAME, WEIGHTS);
        f.stallResponses.set(1);
        f.stallMs = 3_000;
        downloader.readTimeoutMs = 300;
        long t0 = System.nanoTime();
        download();
        assertArrayEquals(WEIGHTS, Files.readAllBytes(target));
        assertTrue(events.log.get(1).contains("timed out"), events.log.toString());
        assertTrue((System.nanoTime() - t0) / 1e6 < 2_500, "the stall did not hold the download");
    }

    @Test
    void unreachableHostFailsAtOnceWithAClearMessage() throws Exception {
        String url = HubServer.closedPortUrl() + NAME;
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader.download(url, target, events, ModelCache::checkWeights));
        assertEquals(DownloadException.Kind.UNREACHABLE, e.kind());
        assertTrue(e.getMessage().startsWith("could not reach 127.0.0.1 to download " + NAME + " ("), e.getMessage());
        assertTrue(events.log.isEmpty(), "no retries when the host cannot be reached");
    }

    @Test
    void onlyHttpUrls() {
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader.download("ftp://example.invalid/x", target, events, ModelCache::checkWeights));
        assertTrue(e.getMessage().contains("not an http(s) URL"), e.getMessage());
    }

    @Test
    void contentRangeParsing() {
        assertArrayEquals(new long[] {5, 9, 10}, Downloader.parseContentRange("bytes 5-9/10"));
        assertArrayEquals(new long[] {0, 9, -1}, Downloader.parseContentRange("bytes 0-9/*"));
        assertNull(Downloader.parseContentRange("bytes */10"));
        assertNull(Downloader.parseContentRange("bytes 5-4/10"));
        assertNull(Downloader.parseContentRange("bytes 5-10/10"));
        assertNull(Downloader.parseContentRange("items 0-1/2"));
        assertNull(Downloader.parseContentRange(null));
    }
}
