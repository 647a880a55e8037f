package io.needle.jvm;

import io.needle.engine.BatchItem;
import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.engine.ToolScore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Needle for JVM programs: loads the model from files or from the model cache (downloading it on
 * first use) and turns a query plus tool definitions into tool calls.
 *
 * <pre>
 * try (Needle needle = Needle.loadDefault()) {          // ~/.cache/needle-java, downloaded once
 *     RunResult r = needle.run("What's the weather in Paris?", toolsJson);
 *     r.text;    // [{"name":"get_weather","arguments":{"location":"Paris"}}]
 *     r.calls;   // the same as List/Map values, or null when incomplete
 * }
 * Needle needle = Needle.load(Path.of("needle.safetensors"), Path.of("vocab.txt"));
 * </pre>
 *
 * <p><b>Threads.</b> One instance may be shared: requests are served one at a time (each takes
 * tens of milliseconds); for parallel requests load one instance per worker thread (each holds
 * the ~22 MB weight file in memory).
 *
 * <p><b>Resources.</b> An instance holds the weight bytes and the engine's buffers, no files or
 * sockets; {@link #close()} drops them so the memory can be reclaimed, after which every call
 * throws {@link IllegalStateException}.
 *
 * <p>Errors: {@link IOException} when a file cannot be read or downloaded (a
 * {@link DownloadException} for the latter); {@link NeedleException} (unchecked) when a file is
 * not a valid model or vocabulary, or the tools are not JSON.
 */
public final class Needle implements AutoCloseable {
    /** Which kernels a loaded model runs; both give the same tokens. */
    public enum Kernels {
        /**
         * The fastest this host has: the Vector API kernels ({@link VectorKernels}) split over the
         * cores ({@link ParallelKernels#sharedVector()}) where the JVM has {@code jdk.incubator.vector}
         * ({@code --add-modules jdk.incubator.vector}), else the portable arithmetic split over the
         * cores ({@link ParallelKernels#shared()}).
         */
        FASTEST,
        /** The portable engine's own loops, one thread (the reference). */
        PORTABLE
    }

    private NeedleEngine engine;
    private final Path weightsFile;
    private final Path vocabFile;

    private Needle(NeedleEngine engine, Path weightsFile, Path vocabFile) {
        this.engine = engine;
        this.weightsFile = weightsFile;
        this.vocabFile = vocabFile;
    }

    /**
     * Loads the weights ({@code needle.safetensors}) and vocabulary ({@code vocab.txt}) files.
     *
     * @throws IOException when a file cannot be read
     * @throws NeedleException when a file is not a valid model or vocabulary, or they do not fit
     */
    public static Needle load(Path weights, Path vocab) throws IOException {
        return load(weights, vocab, Kernels.FASTEST);
    }

    /** As {@link #load(Path, Path)}, with the given {@link Kernels} (chosen here, for good). */
    public static Needle load(Path weights, Path vocab, Kernels kernels) throws IOException {
        return load(weights, readFile("weights", weights), vocab, readFile("vocab", vocab), kernels);
    }

    private static Needle load(Path weights, byte[] weightBytes, Path vocab, byte[] vocabBytes, Kernels kernels) {
        String vocabText = text("vocab", vocab, vocabBytes);
        // a file in another tensor layout is told which one is read (the engine's message)
        return new Needle(NeedleEngine.load(weightBytes, vocabText, kernels(kernels)), weights, vocab);
    }

    /**
     * The engine's kernels for a choice: {@link ParallelKernels#sharedVector()} when the Vector API
     * is available ({@link VectorKernels#available()}), else {@link ParallelKernels#shared()}; null
     * for {@link Kernels#PORTABLE}.
     */
    public static io.needle.model.Kernels kernels(Kernels choice) {
        if (choice == Kernels.PORTABLE) {
            return null;
        }
        return VectorKernels.available() ? ParallelKernels.sharedVector() : ParallelKernels.shared();
    }

    /**
     * Loads the default model from the model cache of this user ({@link ModelCache#fromEnvironment()}),
     * downloading it first from {@code $NEEDLE_HUB_URL} or Hugging Face when it is not there yet
     * (about 22 MB, once; silently: use {@link #loadDefault(ModelCache, String, DownloadListener)}
     * to show progress).
     *
     * @throws DownloadException when the files are missing and cannot be downloaded (offline:
     *     pass the files to {@link #load(Path, Path)} instead, or set {@code NEEDLE_HUB_URL})
     * @throws IOException when a cached file cannot be read
     */
    public static Needle loadDefault() throws IOException {
        return loadDefault(ModelCache.fromEnvironment(), ModelCache.hubUrl(null, System.getenv()),
                DownloadListener.NONE);
    }

    /**
     * Loads the model in {@code cache}, downloading missing files from {@code hubUrl} (null: the
     * Hugging Face default) and telling {@code listener} how the download goes. A file with a
     * pinned sha256 ({@link ModelCache#withSha256}) is downloaded again when its recorded sha256
     * is not the pin, and its bytes are hashed at every load ({@link ModelCache#checkPinned}).
     *
     * @throws DownloadException when the files are missing and cannot be downloaded, or a cached
     *     file does not have its pinned sha256 ({@link DownloadException.Kind#HASH_MISMATCH})
     * @throws IOException when a cached file cannot be read
     */
    public static Needle loadDefault(ModelCache cache, String hubUrl, DownloadListener listener) throws IOException {
        if (!cache.isComplete()) {
            try {
                cache.ensure(hubUrl, listener);
            } catch (DownloadException e) {
                // a hash mismatch is not a network problem: no mirror or file hint
                throw e.kind() == DownloadException.Kind.HASH_MISMATCH ? e : new DownloadException(e.kind(),
                        e.getMessage() + "; pass the files to Needle.load(weights, vocab), or set NEEDLE_HUB_URL", e);
            }
        }
        byte[] weights = readFile("weights", cache.weightsFile());
        byte[] vocab = readFile("vocab", cache.vocabFile());
        try {
            cache.checkPinned(ModelCache.WEIGHTS_FILE, weights);
            cache.checkPinned(ModelCache.VOCAB_FILE, vocab);
        } catch (DownloadException e) {
            throw new DownloadException(e.kind(), e.getMessage() + "; download it again with"
                    + " cache.download(hubUrl, listener, true), or clear the cache", e);
        }
        try {
            return load(cache.weightsFile(), weights, cache.vocabFile(), vocab, Kernels.FASTEST);
        } catch (NeedleException e) {
            throw new NeedleException(e.kind(), e.getMessage() + " (in the model cache " + cache.directory()
                    + "; clear it to download the files again)");
        }
    }

    /** Runs one request with the default options (constrained decoding, up to 511 new tokens). */
    public synchronized RunResult run(String query, String toolsJson) {
        return engine().run(query, toolsJson);
    }

    /** Runs one request with {@code options} (token budget, constraints, streaming listener). */
    public synchronized RunResult run(String query, String toolsJson, RunOptions options) {
        return engine().run(query, toolsJson, options);
    }

    /** Runs many requests in order; the results are those of one-by-one {@link #run} calls. */
    public synchronized List<RunResult> runBatch(List<BatchItem> items, RunOptions options) {
        return engine().runBatch(items, options);
    }

    /**
     * Ranks tool descriptions by relevance to {@code query} with the model's contrastive head
     * (best first, at most {@code topK}).
     *
     * @throws NeedleException when the weights have no contrastive head
     */
    public synchronized ToolScore[] retrieveTools(String query, List<String> descriptions, int topK) {
        return engine().retrieveTools(query, descriptions, topK);
    }

    /** The portable engine underneath, for everything else (prompt ids, raw generation, config). */
    public synchronized NeedleEngine engine() {
        if (engine == null) {
            throw new IllegalStateException("this Needle is closed");
        }
        return engine;
    }

    /** The weights file it was loaded from. */
    public Path weightsFile() {
        return weightsFile;
    }

    /** The vocabulary file it was loaded from. */
    public Path vocabFile() {
        return vocabFile;
    }

    /** Drops the model so its memory can be reclaimed; later calls throw {@link IllegalStateException}. */
    @Override
    public synchronized void close() {
        engine = null;
    }

    private static byte[] readFile(String what, Path file) throws IOException {
        try {
            if (Files.isDirectory(file)) {
                throw new IOException("cannot read " + what + " file '" + file + "': it is a directory");
            }
            if (Files.size(file) > Downloader.MAX_BYTES) {
                throw new IOException("cannot read " + what + " file '" + file + "': larger than "
                        + Downloader.MAX_BYTES + " bytes");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IOException("cannot read " + what + " file '" + file + "': no such file", e);
        }
    }

    private static String text(String what, Path file, byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new NeedleException(NeedleException.Kind.VOCAB, what + " file '" + file + "' is not valid UTF-8");
        }
    }
}
