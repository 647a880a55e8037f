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
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile());
        Map<String, String> env = pb.environment();
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
