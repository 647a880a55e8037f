package io.needle.cli;

import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Test helper: runs {@link Main#run} in-process and captures its exit status, stdout and stderr. */
final class Cli {
    final int status;
    final String out;
    final String err;

    private Cli(int status, String out, String err) {
        this.status = status;
        this.out = out;
        this.err = err;
    }

    /** Runs the command line with empty stdin. */
    static Cli run(String... args) {
        return runWithInput(new byte[0], args);
    }

    /** Runs the command line with {@code stdin} (UTF-8) as standard input. */
    static Cli runWithInput(String stdin, String... args) {
        return runWithInput(stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    static Cli runWithInput(byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, false, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        int status = Main.run(args, new ByteArrayInputStream(stdin), o, e);
        o.flush();
        return new Cli(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** stdout without its final LF; fails when the output does not end with exactly one. */
    String line() {
        if (!out.endsWith("\n") || out.indexOf('\n') != out.length() - 1) {
            throw new AssertionError("expected exactly one output line, got: [" + out + "] stderr: [" + err + "]");
        }
        return out.substring(0, out.length() - 1);
    }

    /** Output lines (each LF-terminated). */
    String[] lines() {
        if (out.isEmpty()) {
            return new String[0];
        }
        if (!out.endsWith("\n")) {
            throw new AssertionError("output does not end with LF: [" + out + "]");
        }
        return out.substring(0, out.length() - 1).split("\n", -1);
    }

    /** Asserts success (status 0, nothing on stderr) and returns this. */
    Cli ok() {
        if (status != 0 || !err.isEmpty()) {
            throw new AssertionError("expected success, got status " + status + ", stderr: [" + err + "], stdout: ["
                    + out + "]");
        }
        return this;
    }

    /** Asserts the error contract: non-zero status, nothing on stdout, one "needle: error:" line on stderr. */
    Cli fails(int expectedStatus, String messagePart) {
        if (status != expectedStatus) {
            throw new AssertionError("expected status " + expectedStatus + ", got " + status + ", stderr: [" + err
                    + "], stdout: [" + out + "]");
        }
        if (!err.startsWith("needle: error: ") || !err.endsWith("\n") || err.indexOf('\n') != err.length() - 1) {
            throw new AssertionError("expected one 'needle: error:' line on stderr, got: [" + err + "]");
        }
        if (!err.contains(messagePart)) {
            throw new AssertionError("expected the error to mention '" + messagePart + "', got: [" + err + "]");
        }
        if (err.contains("\tat ") || err.contains("Exception")) {
            throw new AssertionError("error line looks like a stack trace or exception name: [" + err + "]");
        }
        return this;
    }

    // ------------------------------------------------------------------ fixtures and files

    /** A path under shared/fixtures (system property needle.shared). */
    static Path fixture(String relative) {
        String shared = System.getProperty("needle.shared", "../../shared");
        return Paths.get(shared, "fixtures").resolve(relative).toAbsolutePath().normalize();
    }

    static String fixtureString(String relative) {
        return fixture(relative).toString();
    }

    static Path write(Path dir, String name, byte[] bytes) {
        try {
            Path p = dir.resolve(name);
            Files.write(p, bytes);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path write(Path dir, String name, String text) {
        return write(dir, name, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A small seeded random model and a vocabulary of its size, written to {@code dir}. */
    static Path[] tinyModel(Path dir, long seed) {
        ModelWriter w = ModelWriter.tiny().seed(seed);
        Path weights = write(dir, "tiny-" + seed + ".safetensors", w.build());
        Path vocab = write(dir, "tiny-vocab-" + seed + ".txt", TestVocab.make(w.vocabSize(), seed));
        return new Path[] {weights, vocab};
    }
}
