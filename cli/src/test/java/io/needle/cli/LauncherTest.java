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
        Path script = launcher();
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
        Path script = launcher();
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
        Path script = launcher();
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

    @Test
    void withJava25TheBuildMakesAnAotCacheThatRunsUseSilently() throws Exception {
        Path script = launcher();
        Path jdk = jdkAtLeast(25);
        assumeTrue(jdk != null, "no JDK 25 or later on this machine (java.home, /usr/lib/jvm): the AOT-cache path "
                + "of the launcher cannot run here; the class-data sharing path is tested above");
        // an AOT cache takes classes from jar files only: every class folder of this test's class path as a jar
        Path jar = classPathJar(tmp.resolve("needle-test.jar"));
        Map<String, String> java25 = Map.of("JAVA_HOME", jdk.toString(), "NEEDLE_JAVA_OPTS", "");
        Path cache = tmp.resolve("needle-test.aot");
        // the build's step (cli/pom.xml): the training commands, with the cache written beside the jar
        Map<String, String> train = new java.util.HashMap<>(java25);
        train.put("NEEDLE_CDS_TRAIN", "1");
        Result t = exec(List.of(script.toString()), jar, "", train);
        assertEquals(0, t.status, t.out + t.err);
        assertTrue(t.out.contains("class-data sharing training run: ok"), t.out);
        assertTrue(Files.size(cache) > 1_000_000, "the AOT cache " + cache);
        assertTrue(!Files.exists(tmp.resolve("needle-test.jsa")), "no Java 17 archive from a Java 25 build");

        String vocab = Cli.fixtureString("tokenizer/vocab.txt");
        String expected = Cli.run("tokenize", "--vocab", vocab, "hello").ok().out;
        Result r = exec(List.of(script.toString(), "tokenize", "--vocab", vocab, "hello"), jar, "", java25);
        assertEquals(0, r.status, r.err);
        assertEquals(expected, r.out);
        assertEquals("", r.err, "the JVM's AOT messages are off");
        // the cache is mapped (the JVM says so when its aot log is turned back on)
        Result logged = exec(List.of(script.toString(), "tokenize", "--vocab", vocab, "hello"), jar, "",
                Map.of("JAVA_HOME", jdk.toString(), "NEEDLE_JAVA_OPTS", "-Xlog:aot=info"));
        assertEquals(0, logged.status, logged.err);
        assertTrue(logged.out.contains("Opened AOT cache " + cache), logged.out);
        // a broken cache, newer than the jar: ignored without a word
        Files.write(cache, "not an AOT cache".getBytes(StandardCharsets.UTF_8));
        Files.setLastModifiedTime(cache, java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(jar).toMillis() + 60_000));
        Result broken = exec(List.of(script.toString(), "tokenize", "--vocab", vocab, "hello"), jar, "", java25);
        assertEquals(0, broken.status, broken.err);
        assertEquals(expected, broken.out);
        assertEquals("", broken.err);
    }

    /** A JDK of at least {@code feature}: this test's own, or one under /usr/lib/jvm; null if none. */
    private static Path jdkAtLeast(int feature) throws IOException {
        List<Path> homes = new ArrayList<>();
        homes.add(Paths.get(System.getProperty("java.home")));
        Path lib = Paths.get("/usr/lib/jvm");
        if (Files.isDirectory(lib)) {
            try (java.util.stream.Stream<Path> s = Files.list(lib)) {
                s.sorted().forEach(homes::add);
            }
        }
        for (Path home : homes) {
            Path release = home.resolve("release");
            if (!Files.isExecutable(home.resolve("bin/java")) || !Files.isRegularFile(release)) {
                continue;
            }
            for (String line : Files.readAllLines(release, StandardCharsets.UTF_8)) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("^JAVA_VERSION=\"(\\d+)").matcher(line);
                if (m.find() && Integer.parseInt(m.group(1)) >= feature) {
                    return home;
                }
            }
        }
        return null;
    }

    /**
     * A jar whose manifest runs Main with the command line's modules on its class path (the cli,
     * the engine, needle-jvm, needle-synthetic), their class folders packed as jars.
     */
    private static Path classPathJar(Path jar) throws Exception {
        StringBuilder classPath = new StringBuilder();
        int n = 0;
        for (Class<?> c : List.of(Main.class, NeedleEngine.class, io.needle.jvm.Needle.class,
                io.needle.synthetic.ModelWriter.class)) {
            Path p = Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(p)) {
                Path packed = jar.resolveSibling("classes-" + (n++) + ".jar");
                try (OutputStream os = Files.newOutputStream(packed); JarOutputStream j = new JarOutputStream(os);
                        java.util.stream.Stream<Path> files = Files.walk(p)) {
                    for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                        j.putNextEntry(new java.util.jar.JarEntry(p.relativize(f).toString().replace('\\', '/')));
                        j.write(Files.readAllBytes(f));
                        j.closeEntry();
                    }
                }
                p = packed;
            } else if (!Files.isRegularFile(p)) {
                continue;
            }
            classPath.append(classPath.length() == 0 ? "" : " ").append(p.toUri());
        }
        return manifestJar(jar, classPath.toString());
    }

    /** A jar with only a manifest: Main-Class and a Class-Path of the compiled cli and engine classes. */
    private static Path launcherJar(Path jar) throws Exception {
        return manifestJar(jar, location(Main.class) + " " + location(NeedleEngine.class));
    }

    /** An empty jar whose manifest runs Main with {@code classPath} (space-separated URLs). */
    private static Path manifestJar(Path jar, String classPath) throws IOException {
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(Attributes.Name.MAIN_CLASS, Main.class.getName());
        a.put(Attributes.Name.CLASS_PATH, classPath);
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(os, mf)) {
            j.flush();
        }
        return jar;
    }

    /** The ./needle script at the repository root (the test is skipped on Windows: a bash launcher). */
    private static Path launcher() {
        assumeTrue(!System.getProperty("os.name", "").toLowerCase().contains("win"), "bash launcher: not on Windows");
        return Paths.get(System.getProperty("user.dir")).getParent().resolve("needle");
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
        env.remove("NEEDLE_CDS_TRAIN");
        env.put("NEEDLE_JAR", jar.toString());
        env.put("NEEDLE_JAVA_OPTS", "-Xss2m -Dneedle.test=1");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.putAll(extraEnv);
        Process p = pb.start();
        try (OutputStream os = p.getOutputStream()) {
            os.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread t = new Thread(() -> copy(p.getErrorStream(), err));
        t.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the launcher finished");
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
