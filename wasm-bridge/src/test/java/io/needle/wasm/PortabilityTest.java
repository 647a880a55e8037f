package io.needle.wasm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Guards the portability rules of needle-engine-portable that TeaVM itself does not enforce.
 *
 * <p>The TeaVM build of this module fails on any API TeaVM's class library lacks (for example
 * {@code ProcessBuilder}, {@code ForkJoinPool}), but TeaVM emulates threads, {@code java.nio.file}
 * (an empty in-memory file system), {@code java.io.File}, regex, streams, {@code String.format}
 * and part of reflection, so such code compiles to Wasm and misbehaves or bloats at run time. This
 * test reads the constant pool of every engine-portable class file and fails on references to
 * those APIs and to any class outside {@code java.*} and {@code io.needle.*}.
 */
class PortabilityTest {

    /** Packages (internal names) engine-portable must not use. */
    private static final List<String> FORBIDDEN_PACKAGES = List.of(
            "java/nio/file/", "java/util/regex/", "java/util/stream/", "java/lang/reflect/",
            "java/util/concurrent/", "java/net/", "java/lang/management/");

    /**
     * Classes of forbidden packages engine-portable may use: AtomicReference, a plain field in
     * TeaVM's build, lets the JVM share one engine between threads (the buffers a model keeps
     * between requests, model/Spare). Not {@code synchronized} instead: TeaVM's monitors in the Wasm
     * build make V8's heap snapshots of the isolate hang (workerd's inspector stops answering).
     */
    private static final Set<String> ALLOWED_CLASSES = Set.of("java/util/concurrent/atomic/AtomicReference");

    /** Classes engine-portable must not use. */
    private static final Set<String> FORBIDDEN_CLASSES = Set.of(
            "java/lang/Thread", "java/lang/ThreadLocal", "java/lang/Runtime", "java/lang/Process",
            "java/lang/ProcessBuilder", "java/lang/ClassLoader", "java/util/ServiceLoader",
            "java/util/Formatter", "java/util/Timer", "java/io/File", "java/io/FileInputStream",
            "java/io/FileOutputStream", "java/io/FileReader", "java/io/FileWriter",
            "java/io/RandomAccessFile");

    /** Methods ("owner.name") engine-portable must not call: formatting, regex, reflection, monitors. */
    private static final Set<String> FORBIDDEN_METHODS = Set.of(
            "java/lang/String.format", "java/lang/String.formatted", "java/lang/String.split",
            "java/lang/String.matches", "java/lang/String.replaceAll", "java/lang/String.replaceFirst",
            "java/io/PrintStream.printf", "java/io/PrintStream.format",
            "java/lang/Class.forName", "java/lang/Class.newInstance", "java/lang/Class.getMethod",
            "java/lang/Class.getMethods", "java/lang/Class.getDeclaredMethod",
            "java/lang/Class.getDeclaredMethods", "java/lang/Class.getField", "java/lang/Class.getFields",
            "java/lang/Class.getDeclaredField", "java/lang/Class.getDeclaredFields",
            "java/lang/Class.getConstructor", "java/lang/Class.getConstructors",
            "java/lang/Class.getDeclaredConstructor", "java/lang/Class.getDeclaredConstructors",
            "java/lang/Object.wait", "java/lang/Object.notify", "java/lang/Object.notifyAll");

    @Test
    void engineUsesOnlyPortableApis() throws IOException, URISyntaxException {
        Path location = Path.of(NeedleEngine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Set<String> problems = new TreeSet<>();
        int classes = 0;
        if (Files.isDirectory(location)) {
            List<Path> files;
            try (Stream<Path> walk = Files.walk(location)) {
                files = walk.filter(p -> p.toString().endsWith(".class")).toList();
            }
            for (Path f : files) {
                try (InputStream in = Files.newInputStream(f)) {
                    check(location.relativize(f).toString(), in, problems);
                }
                classes++;
            }
        } else {
            try (JarFile jar = new JarFile(location.toFile())) {
                for (JarEntry e : jar.stream().toList()) {
                    if (e.getName().endsWith(".class")) {
                        try (InputStream in = jar.getInputStream(e)) {
                            check(e.getName(), in, problems);
                        }
                        classes++;
                    }
                }
            }
        }
        assertTrue(classes > 0, "no engine-portable classes found at " + location);
        assertTrue(problems.isEmpty(), "engine-portable uses APIs that are not portable to TeaVM/Wasm:\n  "
                + String.join("\n  ", problems));
    }

    /**
     * No monitors: neither {@code synchronized} methods nor blocks. TeaVM compiles them, but its
     * monitors in the Wasm build make V8's heap snapshots of the isolate hang (workerd's inspector
     * stops answering; the Worker's fullsize and load tests found it). Read with javap, which sees
     * the method flags and the monitorenter instructions the constant pool does not show.
     */
    @Test
    void engineHasNoMonitors() throws IOException, URISyntaxException {
        Path location = Path.of(NeedleEngine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(location)) {
            try (Stream<Path> walk = Files.walk(location)) {
                walk.filter(p -> p.toString().endsWith(".class"))
                        .forEach(p -> names.add(className(location.relativize(p).toString())));
            }
        } else {
            try (JarFile jar = new JarFile(location.toFile())) {
                jar.stream().filter(e -> e.getName().endsWith(".class")).forEach(e -> names.add(className(e.getName())));
            }
        }
        assertTrue(names.size() > 0, "no engine-portable classes found at " + location);
        Set<String> found = monitors(location.toString(), names);
        assertTrue(found.isEmpty(), "engine-portable uses monitors (synchronized), which TeaVM's Wasm build must not have:\n  "
                + String.join("\n  ", found));
        // the check itself finds both kinds
        String probes = Path.of(MonitorProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        Set<String> caught = monitors(probes, List.of(MonitorProbe.class.getName()));
        assertTrue(caught.contains(MonitorProbe.class.getName() + ": a synchronized method"), caught.toString());
        assertTrue(caught.contains(MonitorProbe.class.getName() + ": a synchronized block"), caught.toString());
    }

    private static String className(String file) {
        return file.substring(0, file.length() - ".class".length()).replace('/', '.').replace('\\', '.');
    }

    /** "class: a synchronized method|block" for each of the classes (on classPath) that has one. */
    private static Set<String> monitors(String classPath, List<String> classes) {
        ToolProvider javap = ToolProvider.findFirst("javap").orElseThrow(() -> new AssertionError("no javap in this JDK"));
        List<String> args = new ArrayList<>(List.of("-c", "-p", "-cp", classPath));
        args.addAll(classes);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = javap.run(new PrintWriter(out), new PrintWriter(err), args.toArray(new String[0]));
        assertTrue(rc == 0, "javap failed: " + err);
        Set<String> found = new TreeSet<>();
        String current = "?";
        for (String line : out.toString().split("\n")) {
            java.util.regex.Matcher m = java.util.regex.Pattern
                    .compile("^(?:public |final |abstract |static |protected |private |strictfp )*(?:class|interface|enum) ([\\w.$]+)")
                    .matcher(line);
            if (m.find()) {
                current = m.group(1);
            } else if (line.startsWith("  ") && !line.startsWith("   ") && line.matches(".*\\bsynchronized\\b.*\\(.*")) {
                found.add(current + ": a synchronized method");
            } else if (line.contains(": monitorenter")) {
                found.add(current + ": a synchronized block");
            }
        }
        return found;
    }

    /** Has both kinds of monitor; never run, only read by {@link #engineHasNoMonitors}. */
    static final class MonitorProbe {
        private int n;

        synchronized void method() {
            n++;
        }

        void block() {
            synchronized (this) {
                n--;
            }
        }
    }

    /** The checker itself: a class using each kind of forbidden API is caught. */
    @Test
    void checkerCatchesNonPortableApis() throws IOException {
        Set<String> problems = new TreeSet<>();
        String name = NonPortableProbe.class.getName().replace('.', '/') + ".class";
        try (InputStream in = PortabilityTest.class.getClassLoader().getResourceAsStream(name)) {
            check("probe", in, problems);
        }
        String all = String.join("\n", problems);
        for (String expected : List.of("java.lang.Thread", "java.nio.file.Files", "java.nio.file.Path",
                "java.lang.String.format", "java.lang.String.split", "java.lang.Class.getDeclaredMethod",
                "java.lang.reflect.Method", "java.util.stream.IntStream", "java.io.File",
                "org.junit.jupiter.api.Assertions", "java.util.concurrent.atomic.AtomicInteger")) {
            assertTrue(all.contains("uses " + expected), "not caught: " + expected + " in\n" + all);
        }
        assertTrue(!all.contains("java.lang.StringBuilder") && !all.contains(".clone") && !all.contains("AtomicReference"), all);
    }

    /** Uses forbidden APIs; never run, only read by {@link #checkerCatchesNonPortableApis}. */
    static final class NonPortableProbe {
        static Object probe(java.io.File f, int[] a) throws Exception {
            new Thread(() -> { }).start();
            byte[] b = Files.readAllBytes(Path.of("x"));
            String s = String.format("%d", b.length) + "a,b".split(",").length + new StringBuilder().append(a.clone());
            Object m = PortabilityTest.class.getDeclaredMethod("check", String.class).invoke(null, s);
            org.junit.jupiter.api.Assertions.fail();
            new java.util.concurrent.atomic.AtomicReference<>(m).set(new java.util.concurrent.atomic.AtomicInteger());
            return java.util.stream.IntStream.range(0, 3).sum() + String.valueOf(m) + f;
        }
    }

    private static void check(String file, InputStream stream, Set<String> problems) throws IOException {
        for (String ref : references(new DataInputStream(stream))) {
            String cls = ref.contains(".") ? ref.substring(0, ref.indexOf('.')) : ref;
            boolean bad = FORBIDDEN_CLASSES.contains(cls) || FORBIDDEN_METHODS.contains(ref)
                    || !(cls.startsWith("java/") || cls.startsWith("io/needle/"));
            for (String p : FORBIDDEN_PACKAGES) {
                bad |= cls.startsWith(p) && !ALLOWED_CLASSES.contains(cls);
            }
            if (bad) {
                problems.add(file + " uses " + ref.replace('/', '.'));
            }
        }
    }

    /**
     * The classes ("a/b/C") and members ("a/b/C.name") a class file refers to: Class constants,
     * Fieldref/Methodref/InterfaceMethodref constants, and class names inside descriptors.
     */
    private static List<String> references(DataInputStream in) throws IOException {
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        in.readUnsignedShort();
        in.readUnsignedShort();
        int count = in.readUnsignedShort();
        String[] utf8 = new String[count];
        int[] classIndex = new int[count];
        int[][] memberRef = new int[count][];
        int[] nameAndTypeName = new int[count];
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> utf8[i] = in.readUTF();
                case 7 -> classIndex[i] = in.readUnsignedShort();
                case 9, 10, 11 -> memberRef[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
                case 12 -> {
                    nameAndTypeName[i] = in.readUnsignedShort();
                    in.readUnsignedShort();
                }
                case 3, 4, 17, 18 -> in.readInt();
                case 5, 6 -> {
                    in.readLong();
                    i++;
                }
                case 8, 16, 19, 20 -> in.readUnsignedShort();
                case 15 -> {
                    in.readUnsignedByte();
                    in.readUnsignedShort();
                }
                default -> throw new IOException("unknown constant pool tag " + tag);
            }
        }
        List<String> refs = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            if (classIndex[i] != 0) {
                refs.add(arrayElement(utf8[classIndex[i]]));
            }
            if (memberRef[i] != null) {
                String owner = arrayElement(utf8[classIndex[memberRef[i][0]]]);
                if (!owner.isEmpty()) { // not a method of a primitive array (clone)
                    refs.add(owner + "." + utf8[nameAndTypeName[memberRef[i][1]]]);
                }
            }
            if (utf8[i] != null) {
                // descriptors and signatures: every "Lsome/Class;" inside
                String s = utf8[i];
                for (int at = s.indexOf('L'); at >= 0; at = s.indexOf('L', at + 1)) {
                    int end = s.indexOf(';', at);
                    if (end < 0) {
                        break;
                    }
                    String name = s.substring(at + 1, end);
                    if (name.startsWith("java/") && name.indexOf('<') < 0 && name.indexOf(' ') < 0) {
                        refs.add(name);
                    }
                }
            }
        }
        refs.removeIf(String::isEmpty);
        return refs;
    }

    /** "[[Ljava/lang/String;" becomes "java/lang/String"; primitive arrays become "". */
    private static String arrayElement(String name) {
        if (!name.startsWith("[")) {
            return name;
        }
        String e = name.replace("[", "");
        return e.startsWith("L") ? e.substring(1, e.length() - 1) : "";
    }
}
