package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.needle.engine.NeedleEngine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the real {@code ./needle} script as a subprocess, from another directory, to prove the
 * launcher works. The jar is not built yet when tests run, so the test points the script at a
 * small jar (NEEDLE_JAR) whose manifest puts the compiled classes on the class path.
 */
class LauncherTest {
    @TempDir
    Path tmp;

    @Test
    void scriptRunsTheCommandLineFromAnyDirectory() throws Exception {
        assumeTrue(!System.getProperty("os.name", "").toLowerCase().contains("win"), "bash launcher: not on Windows");
        Path script = Paths.get(System.getProperty("user.dir")).getParent().resolve("needle");
        assertTrue(Files.isRegularFile(script), "the launcher at " + script);
        assertTrue(Files.isExecutable(script), "the launcher is executable");

        Path jar = launcherJar(tmp.resolve("needle-test.jar"));
        String vocab = Cli.fixtureString("tokenizer/vocab.txt");
        List<String> cmd = new ArrayList<>(List.of(script.toString(), "tokenize", "--vocab", vocab, "Héllo wörld"));
        Result r = exec(cmd, jar, "");
        assertEquals(0, r.status, r.err);
        assertEquals(Cli.run("tokenize", "--vocab", vocab, "Héllo wörld").ok().out, r.out);

        // a symlink to the script works too, and stdin reaches the program
        Path link = tmp.resolve("needle-link");
        try {
            Files.createSymbolicLink(link, script);
        } catch (IOException | UnsupportedOperationException e) {
            link = script;
        }
        Result r2 = exec(List.of(link.toString(), "tokenize", "--vocab", vocab, "--jsonl"), jar, "\"a\"\n\"b\"\n");
        assertEquals(0, r2.status, r2.err);
        assertEquals(2, r2.out.split("\n").length, r2.out);
        if (!link.equals(script)) {
            Files.delete(link);
        }

        // errors: one line, non-zero status
        Result r3 = exec(List.of(script.toString(), "inspect", tmp.resolve("missing").toString()), jar, "");
        assertEquals(Main.EXIT_ERROR, r3.status);
        assertTrue(r3.err.startsWith("needle: error: cannot read weights file"), r3.err);
        assertEquals("", r3.out);
    }

    @Test
    void aBrokenOrStaleArchiveIsIgnoredSilently() throws Exception {
        assumeTrue(!System.getProperty("os.name", "").toLowerCase().contains("win"), "bash launcher: not on Windows");
        Path script = Paths.get(System.getProperty("user.dir")).getParent().resolve("needle");
        Path jar = launcherJar(tmp.resolve("needle-test.jar"));
        String vocab = Cli.fixtureString("tokenizer/vocab.txt");
        String expected = Cli.run("tokenize", "--vocab", vocab, "hello").ok().out;
        // not an archive at all, newer than the jar: the launcher passes it, the JVM rejects it quietly
        Path archive = tmp.resolve("needle-test.jsa");
        Files.write(archive, "not a class-data sharing archive".getBytes(StandardCharsets.UTF_8));
        Files.setLastModifiedTime(archive, java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(jar).toMillis() + 60_000));
        Result r = exec(List.of(script.toString(), "tokenize", "--vocab", vocab, "hello"), jar, "");
        assertEquals(0, r.status, r.err);
        assertEquals(expected, r.out);
        assertEquals("", r.err);
        // older than the jar: not even passed
        Files.setLastModifiedTime(archive, java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(jar).toMillis() - 60_000));
        Result r2 = exec(List.of(script.toString(), "tokenize", "--vocab", vocab, "hello"), jar, "");
        assertEquals(0, r2.status, r2.err);
        assertEquals(expected, r2.out);
        assertEquals("", r2.err);
    }

    @Test
    void withTheVectorModuleErrorsStayOneLineAndStdinStillArrives() throws Exception {
        assumeTrue(!System.getProperty("os.name", "").toLowerCase().contains("win"), "bash launcher: not on Windows");
        Path script = Paths.get(System.getProperty("user.dir")).getParent().resolve("needle");
        Path jar = launcherJar(tmp.resolve("needle-test.jar"));
        String vocab = Cli.fixtureString("tokenizer/vocab.txt");
        // the JVM's incubator-module warning is dropped: stderr holds the error line alone
        Result r = exec(List.of(script.toString(), "inspect", tmp.resolve("missing").toString()), jar, "",
                Map.of("NEEDLE_VECTOR", "1"));
        assertEquals(Main.EXIT_ERROR, r.status);
        assertEquals(1, r.err.split("\n", -1).length - 1, r.err);
        assertTrue(r.err.startsWith("needle: error: cannot read weights file"), r.err);
        assertEquals("", r.out);
        // --jsonl (where the launcher adds the module by itself): stdin reaches the program, nothing on stderr
        Result r2 = exec(List.of(script.toString(), "tokenize", "--vocab", vocab, "--jsonl"), jar, "\"a\"\n\"b\"\n");
        assertEquals(0, r2.status, r2.err);
        assertEquals(Cli.runWithInput("\"a\"\n\"b\"\n", "tokenize", "--vocab", vocab, "--jsonl").ok().out, r2.out);
        assertEquals("", r2.err);
        // never: the same outputs without the module
        Result r3 = exec(List.of(script.toString(), "tokenize", "--vocab", vocab, "--jsonl"), jar, "\"a\"\n\"b\"\n",
                Map.of("NEEDLE_VECTOR", "0"));
        assertEquals(0, r3.status, r3.err);
        assertEquals(r2.out, r3.out);
        assertEquals("", r3.err);
    }

    /** A jar with only a manifest: Main-Class and a Class-Path of the compiled cli and engine classes. */
    private static Path launcherJar(Path jar) throws Exception {
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(Attributes.Name.MAIN_CLASS, Main.class.getName());
        a.put(Attributes.Name.CLASS_PATH, location(Main.class) + " " + location(NeedleEngine.class));
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(os, mf)) {
            j.flush();
        }
        return jar;
    }

    private static String location(Class<?> c) throws Exception {
        return Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toUri().toString();
    }

    private record Result(int status, String out, String err) {
    }

    private Result exec(List<String> cmd, Path jar, String stdin) throws Exception {
        return exec(cmd, jar, stdin, Map.of());
    }

    private Result exec(List<String> cmd, Path jar, String stdin, Map<String, String> extraEnv) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile());
        Map<String, String> env = pb.environment();
        env.remove("NEEDLE_VECTOR");
        env.putAll(extraEnv);
        env.put("NEEDLE_JAR", jar.toString());
        env.put("NEEDLE_JAVA_OPTS", "-Xss2m -Dneedle.test=1");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        try (OutputStream os = p.getOutputStream()) {
            os.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread t = new Thread(() -> copy(p.getErrorStream(), err));
        t.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher finished");
        t.join();
        return new Result(p.exitValue(), out, err.toString(StandardCharsets.UTF_8));
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        try {
            in.transferTo(out);
        } catch (IOException e) {
            // the process ended
        }
    }
}
