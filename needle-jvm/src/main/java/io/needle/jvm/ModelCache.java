package io.needle.jvm;

import io.needle.base.NeedleException;
import io.needle.model.ConfigReader;
import io.needle.model.WeightLoader;
import io.needle.safetensors.SafeTensors;
import io.needle.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The directory holding the default model, {@value #WEIGHTS_FILE} and {@value #VOCAB_FILE},
 * downloaded from Hugging Face ({@value #DEFAULT_HUB_URL}) on first use.
 *
 * <p><b>Where</b> ({@link #defaultDirectory}): {@code $NEEDLE_HOME} when set; otherwise the
 * platform's user cache directory plus {@code needle-java}: on Linux and other Unix
 * {@code $XDG_CACHE_HOME/needle-java} or {@code ~/.cache/needle-java}, on macOS
 * {@code ~/Library/Caches/needle-java}, on Windows {@code %LOCALAPPDATA%\needle-java}.
 *
 * <p><b>Hub</b> ({@link #hubUrl}): files are fetched from {@code BASE + name}, BASE being
 * {@code $NEEDLE_HUB_URL} when set (a mirror, or a local server in tests), else
 * {@value #DEFAULT_HUB_URL}.
 *
 * <p>Downloads go through a temporary {@code .part} file, are resumed after an interruption and
 * are checked (size; the sha256, see below; the weights must be a valid SafeTensors container
 * holding a model in the needle-rs layout of docs/spec/WEIGHTS.md, the vocabulary a valid
 * {@code vocab.txt}) before they take their final name; a file lock keeps two processes from
 * downloading into the same directory at once. {@link #clear()} deletes only the files this class
 * writes, never anything else in the directory.
 *
 * <p><b>Integrity.</b> Each file's sha256 is computed while it downloads and compared with the
 * sha256 pinned for it ({@link #withSha256}; {@link #fromEnvironment()} reads
 * {@code NEEDLE_WEIGHTS_SHA256} and {@code NEEDLE_VOCAB_SHA256}), else with the hash the hub
 * announces (Hugging Face: the {@code X-Linked-Etag} sha256 of the weights, the git blob sha1 in
 * the {@code ETag} of the vocabulary); a mismatch is never installed. The sha256 of an installed
 * file is recorded beside it in {@code NAME.sha256} ({@code sha256sum -c} reads it). A cached
 * file is not hashed again on every load: with a pin, {@link #isComplete()} compares the pin with
 * the recorded sha256 (a file without a record is hashed once), a file that differs is
 * downloaded again, and {@link Needle#loadDefault(ModelCache, String, DownloadListener)} hashes
 * the bytes it reads ({@link #checkPinned}); without a pin the cache is trusted as downloaded
 * ({@link #recordedSha256} and {@link #sha256Of} check it on demand).
 */
public final class ModelCache {
    /** Where the default model lives on Hugging Face; the file names are appended to it. */
    public static final String DEFAULT_HUB_URL =
            "https://huggingface.co/Abdalrahman/needle-rs-safetensors/resolve/main/";
    /** The weights file's name, in the cache and on the hub. */
    public static final String WEIGHTS_FILE = "needle.safetensors";
    /** The vocabulary file's name, in the cache and on the hub. */
    public static final String VOCAB_FILE = "vocab.txt";
    /** The sub-directory of the platform cache directory. */
    public static final String DIRECTORY_NAME = "needle-java";

    /** The environment variable pinning the weights' sha256. */
    public static final String WEIGHTS_SHA256_VARIABLE = "NEEDLE_WEIGHTS_SHA256";
    /** The environment variable pinning the vocabulary's sha256. */
    public static final String VOCAB_SHA256_VARIABLE = "NEEDLE_VOCAB_SHA256";

    private static final String LOCK_FILE = ".lock";
    private static final String[] PART_SUFFIXES = {".part", ".part.etag"};

    private final Path directory;
    private final Downloader downloader;
    /** Pinned sha256 of the weights and of the vocabulary, or null. */
    private final ExpectedHash weightsPin;
    private final ExpectedHash vocabPin;

    private ModelCache(Path directory, Downloader downloader, ExpectedHash weightsPin, ExpectedHash vocabPin) {
        this.directory = directory;
        this.downloader = downloader;
        this.weightsPin = weightsPin;
        this.vocabPin = vocabPin;
    }

    /** The cache in {@code directory} (created when something is downloaded). */
    public static ModelCache at(Path directory) {
        return new ModelCache(directory.toAbsolutePath().normalize(), new Downloader(), null, null);
    }

    /** A cache whose downloader is configured by a test (time-outs, attempts, pauses). */
    static ModelCache at(Path directory, Downloader downloader) {
        return new ModelCache(directory.toAbsolutePath().normalize(), downloader, null, null);
    }

    /**
     * This cache with the sha256 of {@code file} ({@value #WEIGHTS_FILE} or {@value #VOCAB_FILE})
     * pinned: a download must have it whatever the hub announces, and a cached file that does not
     * is downloaded again (see the class comment). {@code sha256} null removes the pin;
     * {@code source} names where the value came from in messages (null: "the pinned sha256").
     *
     * @throws IllegalArgumentException when {@code sha256} is not 64 hex digits, or {@code file}
     *     is not one of the two
     */
    public ModelCache withSha256(String file, String sha256, String source) {
        ExpectedHash pin = sha256 == null ? null
                : ExpectedHash.pinned(sha256, source == null ? "the pinned sha256" : source);
        if (WEIGHTS_FILE.equals(file)) {
            return new ModelCache(directory, downloader, pin, vocabPin);
        }
        if (VOCAB_FILE.equals(file)) {
            return new ModelCache(directory, downloader, weightsPin, pin);
        }
        throw new IllegalArgumentException("no file '" + file + "' in the model cache (" + WEIGHTS_FILE + " or "
                + VOCAB_FILE + ")");
    }

    /**
     * This cache with the pins of {@code env}: {@value #WEIGHTS_SHA256_VARIABLE} and
     * {@value #VOCAB_SHA256_VARIABLE} when set and not empty (others are kept).
     *
     * @throws IllegalArgumentException naming the variable when its value is not a sha256
     */
    public ModelCache withSha256From(Map<String, String> env) {
        ModelCache c = this;
        String w = nonEmpty(env.get(WEIGHTS_SHA256_VARIABLE));
        if (w != null) {
            c = c.withSha256(WEIGHTS_FILE, w, WEIGHTS_SHA256_VARIABLE);
        }
        String v = nonEmpty(env.get(VOCAB_SHA256_VARIABLE));
        if (v != null) {
            c = c.withSha256(VOCAB_FILE, v, VOCAB_SHA256_VARIABLE);
        }
        return c;
    }

    /** The sha256 pinned for {@code file}, lower-case hex, or null. */
    public String pinnedSha256(String file) {
        ExpectedHash pin = pin(file);
        return pin == null ? null : pin.hex;
    }

    private ExpectedHash pin(String file) {
        return WEIGHTS_FILE.equals(file) ? weightsPin : VOCAB_FILE.equals(file) ? vocabPin : null;
    }

    /**
     * The cache of this user and machine: {@link #defaultDirectory} from the process environment
     * and the {@code os.name} and {@code user.home} system properties, with the sha256 pins of the
     * environment ({@link #withSha256From}).
     *
     * @throws IllegalStateException when no directory can be found (no home directory and no
     *     {@code NEEDLE_HOME})
     * @throws IllegalArgumentException when {@code NEEDLE_WEIGHTS_SHA256} or
     *     {@code NEEDLE_VOCAB_SHA256} is set but not a sha256
     */
    public static ModelCache fromEnvironment() {
        return at(defaultDirectory(System.getenv(), System.getProperty("os.name", ""),
                System.getProperty("user.home", ""))).withSha256From(System.getenv());
    }

    /**
     * The cache directory for an environment (see the class comment): {@code NEEDLE_HOME} when set
     * and not empty; else, by {@code osName}, {@code LOCALAPPDATA} (Windows),
     * {@code ~/Library/Caches} (macOS) or {@code XDG_CACHE_HOME} / {@code ~/.cache} (others), plus
     * {@value #DIRECTORY_NAME}. A relative {@code XDG_CACHE_HOME} is ignored, as its specification
     * says.
     *
     * @param env environment variables (e.g. {@code System.getenv()})
     * @param osName the {@code os.name} system property
     * @param userHome the {@code user.home} system property
     * @throws IllegalStateException when neither {@code NEEDLE_HOME} nor a home directory is known
     */
    public static Path defaultDirectory(Map<String, String> env, String osName, String userHome) {
        String home = nonEmpty(env.get("NEEDLE_HOME"));
        if (home != null) {
            return path(home, "NEEDLE_HOME").toAbsolutePath().normalize();
        }
        String os = osName == null ? "" : osName.toLowerCase(Locale.ROOT);
        String user = nonEmpty(userHome);
        Path base;
        if (os.startsWith("windows")) {
            String local = nonEmpty(env.get("LOCALAPPDATA"));
            base = local != null ? path(local, "LOCALAPPDATA") : homeDir(user).resolve("AppData").resolve("Local");
        } else if (os.startsWith("mac") || os.contains("os x") || os.startsWith("darwin")) {
            base = homeDir(user).resolve("Library").resolve("Caches");
        } else {
            String xdg = nonEmpty(env.get("XDG_CACHE_HOME"));
            Path x = xdg == null ? null : pathOrNull(xdg);
            base = x != null && x.isAbsolute() ? x : homeDir(user).resolve(".cache");
        }
        return base.resolve(DIRECTORY_NAME).normalize();
    }

    /**
     * The hub base URL: {@code explicit} when not null (a command-line option), else
     * {@code NEEDLE_HUB_URL} from {@code env} when set and not empty, else {@value #DEFAULT_HUB_URL};
     * always ending with {@code /}.
     *
     * @throws IllegalArgumentException when the chosen value is not an http(s) URL
     */
    public static String hubUrl(String explicit, Map<String, String> env) {
        String url = explicit != null ? explicit : nonEmpty(env.get("NEEDLE_HUB_URL"));
        String from = explicit != null ? "the hub URL" : "NEEDLE_HUB_URL";
        if (url == null) {
            return DEFAULT_HUB_URL;
        }
        url = url.trim();
        String lower = url.toLowerCase(Locale.ROOT);
        if (!(lower.startsWith("http://") || lower.startsWith("https://")) || url.length() <= "https://".length()
                || url.indexOf(' ') >= 0) {
            throw new IllegalArgumentException(from + " '" + url + "' is not an http:// or https:// URL");
        }
        return url.endsWith("/") ? url : url + "/";
    }

    /** The cache directory (it may not exist yet). */
    public Path directory() {
        return directory;
    }

    /** Where the weights are (or will be). */
    public Path weightsFile() {
        return directory.resolve(WEIGHTS_FILE);
    }

    /** Where the vocabulary is (or will be). */
    public Path vocabFile() {
        return directory.resolve(VOCAB_FILE);
    }

    /**
     * True when both files are present (they were checked when downloaded) and each pinned one's
     * recorded sha256 ({@code NAME.sha256}) is its pin.
     */
    public boolean isComplete() {
        return Files.isRegularFile(weightsFile()) && Files.isRegularFile(vocabFile())
                && matchesRecord(WEIGHTS_FILE) && matchesRecord(VOCAB_FILE);
    }

    private boolean matchesRecord(String name) {
        ExpectedHash pin = pin(name);
        return pin == null || pin.hex.equals(recordedSha256(name));
    }

    /**
     * The sha256 recorded when {@code file} was downloaded ({@code NAME.sha256} beside it), or
     * null when there is none (not downloaded, or by a version that kept no record).
     */
    public String recordedSha256(String file) {
        return Downloader.readSha256(directory.resolve(file + Downloader.SHA256_SUFFIX));
    }

    /** The sha256 of a file, lower-case hex (read in blocks, not into memory as a whole). */
    public static String sha256Of(Path file) throws IOException {
        return ContentHash.sha256Of(file);
    }

    /**
     * Checks the bytes read from the cached {@code file} against its pin, if it has one: the
     * check of every load with a pin (the bytes are in memory already; hashing them takes tens of
     * milliseconds for the 22 MB weights).
     *
     * @throws DownloadException of kind {@link DownloadException.Kind#HASH_MISMATCH} naming the
     *     file, both hashes and the pin's source
     */
    public void checkPinned(String file, byte[] bytes) throws DownloadException {
        ExpectedHash pin = pin(file);
        if (pin == null) {
            return;
        }
        String actual = ContentHash.sha256Of(bytes);
        if (!pin.hex.equals(actual)) {
            throw new DownloadException(DownloadException.Kind.HASH_MISMATCH, "the cached " + file + " in " + directory
                    + " does not have the expected sha256: expected " + pin.hex + " (" + pin.source + "), got "
                    + actual);
        }
    }

    /** Unfinished downloads in the directory ({@code .part} files that the next download resumes). */
    public List<Path> partialDownloads() {
        List<Path> out = new ArrayList<>();
        for (String name : new String[] {VOCAB_FILE, WEIGHTS_FILE}) {
            Path p = directory.resolve(name + PART_SUFFIXES[0]);
            if (Files.isRegularFile(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Downloads whatever is missing from {@code hubUrl} (see {@link #hubUrl}); does nothing when
     * both files are present.
     *
     * @throws DownloadException when a file cannot be downloaded or fails its check
     */
    public void ensure(String hubUrl, DownloadListener listener) throws DownloadException {
        download(hubUrl, listener, false);
    }

    /**
     * Downloads the vocabulary, then the weights, from {@code hubUrl}; with {@code force} also
     * those already present (each replaced only once its new copy is complete and checked). A
     * present file with a pin is kept when its recorded sha256 is the pin (without a record: when
     * its bytes hash to it, which records it), else downloaded again.
     *
     * @throws DownloadException when a file cannot be downloaded or fails its check
     */
    public void download(String hubUrl, DownloadListener listener, boolean force) throws DownloadException {
        String base = hubUrl == null ? DEFAULT_HUB_URL : hubUrl.endsWith("/") ? hubUrl : hubUrl + "/";
        DownloadListener l = listener == null ? DownloadListener.NONE : listener;
        synchronized (ModelCache.class) {
            try {
                Files.createDirectories(directory);
            } catch (IOException | SecurityException e) {
                throw new DownloadException(DownloadException.Kind.LOCAL_IO, "cannot create the model cache directory "
                        + directory + " (" + e.getMessage() + "); set NEEDLE_HOME to a writable directory", e);
            }
            try (FileChannel channel = lockChannel(); FileLock lock = lock(channel)) {
                for (String name : new String[] {VOCAB_FILE, WEIGHTS_FILE}) {
                    Path target = directory.resolve(name);
                    if (!force && Files.isRegularFile(target) && keepsPin(name, target)) {
                        continue; // present, or downloaded meanwhile by another process
                    }
                    downloader.download(base + name, target, l, name.equals(WEIGHTS_FILE)
                            ? ModelCache::checkWeights : ModelCache::checkVocab, pin(name));
                }
            } catch (DownloadException e) {
                throw e;
            } catch (IOException e) {
                throw new DownloadException(DownloadException.Kind.LOCAL_IO, "cannot use the model cache directory "
                        + directory + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Whether the present {@code target} satisfies its pin: no pin, or the recorded sha256 is the
     * pin; a file without a record is hashed, and recorded when it matches.
     */
    private boolean keepsPin(String name, Path target) throws IOException {
        ExpectedHash pin = pin(name);
        if (pin == null) {
            return true;
        }
        String recorded = recordedSha256(name);
        if (recorded != null) {
            return recorded.equals(pin.hex);
        }
        if (!ContentHash.sha256Of(target).equals(pin.hex)) {
            return false;
        }
        Downloader.writeSha256(directory.resolve(name + Downloader.SHA256_SUFFIX), pin.hex, name);
        return true;
    }

    /**
     * Deletes the cached files, their sha256 records, unfinished downloads and the lock file
     * (nothing else, even when the directory holds other files). Returns the model files and
     * unfinished downloads deleted.
     */
    public List<Path> clear() throws IOException {
        List<Path> removed = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String name : new String[] {WEIGHTS_FILE, VOCAB_FILE}) {
            names.add(name);
            for (String suffix : PART_SUFFIXES) {
                names.add(name + suffix);
            }
        }
        synchronized (ModelCache.class) {
            for (String name : names) {
                Path p = directory.resolve(name);
                if (Files.deleteIfExists(p)) {
                    removed.add(p);
                }
            }
            for (String name : new String[] {WEIGHTS_FILE, VOCAB_FILE}) {
                Files.deleteIfExists(directory.resolve(name + Downloader.SHA256_SUFFIX));
            }
            Files.deleteIfExists(directory.resolve(LOCK_FILE));
        }
        return removed;
    }

    /**
     * The weights check: the file is a complete, valid SafeTensors container (else
     * {@link DownloadException.Kind#CORRUPT}) holding a Needle model in the needle-rs layout this
     * engine reads (docs/spec/WEIGHTS.md): its config reads ({@link ConfigReader}) and every tensor
     * loads ({@link WeightLoader}: names, shapes, dtypes, finite values), else
     * {@link DownloadException.Kind#MODEL} with the engine's message (for a file in another tensor
     * layout, which layout is read).
     */
    static void checkWeights(Path file) throws DownloadException {
        byte[] bytes = readForCheck(file);
        SafeTensors st;
        try {
            st = SafeTensors.parse(bytes);
        } catch (NeedleException e) {
            if (e.getMessage().contains(SafeTensors.OTHER_LAYOUT)) {
                // e.g. the retired invented layout, whose I4 shapes count weights, not bytes: the engine says which layout it reads
                throw new DownloadException(DownloadException.Kind.MODEL, "the downloaded " + WEIGHTS_FILE
                        + " is not a Needle model this version can load: " + e.getMessage());
            }
            throw new DownloadException(DownloadException.Kind.CORRUPT, "the downloaded " + WEIGHTS_FILE
                    + " is not a valid SafeTensors file: " + e.getMessage());
        }
        try {
            WeightLoader.load(st);
        } catch (NeedleException e) {
            throw new DownloadException(DownloadException.Kind.MODEL, "the downloaded " + WEIGHTS_FILE
                    + " is a SafeTensors file but not a Needle model this version can load: " + e.getMessage());
        }
    }

    /** The vocabulary check: strict UTF-8 in the vocab.txt layout the tokenizer reads. */
    static void checkVocab(Path file) throws DownloadException {
        byte[] bytes = readForCheck(file);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new DownloadException(DownloadException.Kind.CORRUPT, "the downloaded " + VOCAB_FILE
                    + " is not UTF-8 text");
        }
        try {
            Tokenizer.fromVocab(text);
        } catch (NeedleException e) {
            throw new DownloadException(DownloadException.Kind.CORRUPT, "the downloaded " + VOCAB_FILE
                    + " is not a valid vocabulary: " + e.getMessage());
        }
    }

    private static byte[] readForCheck(Path file) throws DownloadException {
        try {
            if (Files.size(file) > Downloader.MAX_BYTES) {
                throw new DownloadException(DownloadException.Kind.CORRUPT, file.getFileName() + " is too large");
            }
            return Files.readAllBytes(file);
        } catch (DownloadException e) {
            throw e;
        } catch (IOException e) {
            throw new DownloadException(DownloadException.Kind.LOCAL_IO, "cannot read " + file + ": " + e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            throw new DownloadException(DownloadException.Kind.LOCAL_IO, "not enough memory to check " + file
                    + " (give the JVM more heap, e.g. -Xmx512m)");
        }
    }

    private FileChannel lockChannel() throws IOException {
        return FileChannel.open(directory.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    }

    /** An exclusive lock on the lock file, waiting for another process; null where locks are not supported. */
    private static FileLock lock(FileChannel channel) {
        try {
            return channel.lock();
        } catch (IOException | UnsupportedOperationException e) {
            return null; // e.g. some network file systems: go on without
        }
    }

    private static Path homeDir(String userHome) {
        if (userHome == null) {
            throw new IllegalStateException("cannot find a directory for the model cache: no home directory;"
                    + " set NEEDLE_HOME");
        }
        return path(userHome, "the home directory");
    }

    private static Path path(String s, String what) {
        Path p = pathOrNull(s);
        if (p == null) {
            throw new IllegalStateException(what + " '" + s + "' is not a valid path; set NEEDLE_HOME");
        }
        return p;
    }

    private static Path pathOrNull(String s) {
        try {
            return Paths.get(s);
        } catch (InvalidPathException e) {
            return null;
        }
    }

    private static String nonEmpty(String s) {
        return s == null || s.trim().isEmpty() ? null : s;
    }
}
