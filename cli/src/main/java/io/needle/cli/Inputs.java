package io.needle.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Map;

/**
 * Where the command line's inputs come from: whole files read into memory (weights, vocabulary)
 * and text arguments, which are literal, {@code -} (standard input, read once) or {@code @path}
 * (a file). Text is always decoded as strict UTF-8, whatever the platform's default charset.
 *
 * <p>Text read from standard input or an {@code @path} file loses one trailing line ending
 * ({@code \n} or {@code \r\n}) and a leading byte-order mark, so that {@code echo hello | needle
 * tokenize --vocab V -} tokenizes {@code hello}.
 */
final class Inputs {
    /** Largest file read into memory (a Java array's limit, with margin). */
    static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 64;

    private final InputStream in;
    private final Map<String, String> env;
    private String stdinUsedFor;

    Inputs(InputStream in) {
        this(in, System.getenv());
    }

    /** Inputs with {@code env} as the environment variables (tests inject their own). */
    Inputs(InputStream in, Map<String, String> env) {
        this.in = in;
        this.env = env;
    }

    /** The environment variables (NEEDLE_HOME, NEEDLE_HUB_URL…). */
    Map<String, String> env() {
        return env;
    }

    /** The standard input stream, for the line-by-line JSONL modes. */
    InputStream stdin(String what) {
        claimStdin(what);
        return in;
    }

    /**
     * The text of argument {@code what} ("query", "tools", "text"…): {@code -} reads all of standard
     * input, {@code @path} reads the file, anything else is the text itself.
     */
    String text(String what, String arg) {
        if (arg.equals("-")) {
            claimStdin(what);
            byte[] bytes;
            try {
                bytes = readAll(in);
            } catch (IOException e) {
                throw CliException.error("cannot read " + what + " from standard input: " + e.getMessage());
            }
            return trimLineEnd(decodeUtf8(bytes, what + " (standard input)"));
        }
        if (arg.startsWith("@") && arg.length() > 1) {
            String path = arg.substring(1);
            return trimLineEnd(decodeUtf8(readFile(what, path), what + " file '" + path + "'"));
        }
        return arg;
    }

    private void claimStdin(String what) {
        if (stdinUsedFor != null) {
            throw CliException.usage("standard input ('-') can be read only once: it is already the "
                    + stdinUsedFor + ", so the " + what + " cannot be '-' too");
        }
        stdinUsedFor = what;
    }

    /** Reads a whole file; {@code what} names it in errors ("weights" → "cannot read weights file 'X': …"). */
    static byte[] readFile(String what, String path) {
        Path p;
        try {
            p = Paths.get(path);
        } catch (InvalidPathException e) {
            throw CliException.error("cannot read " + what + " file '" + path + "': not a valid path");
        }
        try {
            if (Files.isDirectory(p)) {
                throw CliException.error("cannot read " + what + " file '" + path + "': it is a directory");
            }
            if (Files.exists(p) && Files.size(p) > MAX_FILE_BYTES) {
                throw CliException.error("cannot read " + what + " file '" + path + "': larger than "
                        + MAX_FILE_BYTES + " bytes");
            }
            return readChunked(p);
        } catch (NoSuchFileException e) {
            throw CliException.error("cannot read " + what + " file '" + path + "': no such file");
        } catch (AccessDeniedException e) {
            throw CliException.error("cannot read " + what + " file '" + path + "': permission denied");
        } catch (IOException | SecurityException e) {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw CliException.error("cannot read " + what + " file '" + path + "': " + msg);
        } catch (OutOfMemoryError e) {
            throw CliException.error("cannot read " + what + " file '" + path
                    + "': not enough memory (raise the heap with NEEDLE_JAVA_OPTS=-Xmx...)");
        }
    }

    /** Largest single read of {@link #readChunked}. */
    private static final int CHUNK_BYTES = 1 << 20;

    /**
     * The whole file, read straight into the array in reads of at most {@link #CHUNK_BYTES}. Not
     * {@link Files#readAllBytes}: it reads a file in one call, which the JDK passes through a
     * temporary native buffer as large as the file (22 MB more peak memory for the full-size
     * model, kept until the process ends); here that buffer is 1 MB. A file longer than its size
     * said (growing, or a special file) is read to its end all the same.
     */
    static byte[] readChunked(Path p) throws IOException {
        try (SeekableByteChannel ch = Files.newByteChannel(p)) {
            long size = ch.size();
            if (size > MAX_FILE_BYTES) {
                throw new IOException("larger than " + MAX_FILE_BYTES + " bytes");
            }
            byte[] data = new byte[(int) size];
            int n = 0;
            while (true) {
                if (n == data.length) {
                    ByteBuffer probe = ByteBuffer.allocate(1);
                    if (ch.read(probe) <= 0) {
                        break; // the end, where the size said
                    }
                    if (data.length >= MAX_FILE_BYTES) {
                        throw new IOException("larger than " + MAX_FILE_BYTES + " bytes");
                    }
                    data = Arrays.copyOf(data, (int) Math.min(MAX_FILE_BYTES, Math.max(8192, data.length * 2L)));
                    data[n++] = probe.get(0);
                    continue;
                }
                int r = ch.read(ByteBuffer.wrap(data, n, Math.min(CHUNK_BYTES, data.length - n)));
                if (r < 0) {
                    break;
                }
                n += r;
            }
            return n == data.length ? data : Arrays.copyOf(data, n);
        }
    }

    /** Reads a whole file as strict UTF-8 text. */
    static String readTextFile(String what, String path) {
        return decodeUtf8(readFile(what, path), what + " file '" + path + "'");
    }

    /** Strict UTF-8 decoding; a leading byte-order mark is dropped. {@code where} names the source in errors. */
    static String decodeUtf8(byte[] bytes, String where) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer src = ByteBuffer.wrap(bytes);
        CharBuffer dst = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(src, dst, true);
        if (!r.isError()) {
            r = decoder.flush(dst);
        }
        if (r.isError()) {
            throw CliException.error(where + " is not valid UTF-8 (bad byte at offset " + src.position() + ")");
        }
        dst.flip();
        String s = dst.toString();
        return s.startsWith("\uFEFF") ? s.substring(1) : s;
    }

    private static String trimLineEnd(String s) {
        if (s.endsWith("\r\n")) {
            return s.substring(0, s.length() - 2);
        }
        if (s.endsWith("\n")) {
            return s.substring(0, s.length() - 1);
        }
        return s;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[65536];
        long total = 0;
        for (int n; (n = in.read(chunk)) > 0; ) {
            total += n;
            if (total > MAX_FILE_BYTES) {
                throw new IOException("more than " + MAX_FILE_BYTES + " bytes");
            }
            buf.write(chunk, 0, n);
        }
        return buf.toByteArray();
    }
}
