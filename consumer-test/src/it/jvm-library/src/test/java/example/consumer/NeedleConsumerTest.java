package example.consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.jvm.Needle;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a project that depends on io.needle:needle-jvm by its coordinates gets: a request through
 * the library's public API answers as the portable engine does on the same model, and the jars
 * carry the license, the sources and the javadoc.
 */
class NeedleConsumerTest {
    /** Enum values keep a random model's arguments short, so the answer completes. */
    static final String TOOLS = "[{\"name\":\"get_weather\",\"description\":\"Get the current weather\","
            + "\"parameters\":{\"location\":{\"type\":\"string\",\"enum\":[\"Paris\",\"London\"],"
            + "\"description\":\"City\",\"required\":true}}},"
            + "{\"name\":\"set_alarm\",\"description\":\"Set an alarm\","
            + "\"parameters\":{\"time\":{\"type\":\"string\",\"enum\":[\"07:00\",\"08:30\"],"
            + "\"description\":\"HH:MM\",\"required\":true}}}]";
    static final String QUERY = "What's the weather in Paris?";

    @TempDir
    Path dir;

    @Test
    void aRequestThroughTheLibraryAnswersAsTheEngine() throws IOException {
        ModelWriter model = ModelWriter.tiny().seed(21);
        byte[] weights = model.build();
        String vocab = TestVocab.make(model.vocabSize(), 21);
        Path weightsFile = Files.write(dir.resolve("needle.safetensors"), weights);
        Path vocabFile = Files.writeString(dir.resolve("vocab.txt"), vocab);
        // a call is required, so the answer has one whatever the random weights prefer
        RunOptions options = new RunOptions().maxNewTokens(96).requireCall(true);

        RunResult expected = NeedleEngine.load(weights, vocab).run(QUERY, TOOLS, options);
        try (Needle needle = Needle.load(weightsFile, vocabFile)) {
            RunResult r = needle.run(QUERY, TOOLS, options);
            assertEquals(expected.text, r.text);
            assertArrayEquals(expected.tokens, r.tokens);
            assertEquals(expected.complete, r.complete);
            assertEquals(expected.calls, r.calls);
        }
        // the random weights may repeat calls past the budget (complete = false); the answer starts
        // with a call of a declared tool either way, and a complete one parses to declared calls
        assertTrue(expected.text.matches("\\[\\{\"name\":\"(get_weather|set_alarm)\",\"arguments\":\\{.*"), expected.text);
        if (expected.complete) {
            assertFalse(expected.calls.isEmpty(), expected.text);
            for (Object call : expected.calls) {
                assertTrue(List.of("get_weather", "set_alarm").contains(((Map<?, ?>) call).get("name")), expected.text);
            }
        }
    }

    @Test
    void theJarsCarryTheMitLicense() throws Exception {
        for (Class<?> c : List.of(Needle.class, NeedleEngine.class)) {
            try (JarFile jar = new JarFile(jarOf(c).toFile())) {
                ZipEntry license = jar.getEntry("META-INF/LICENSE");
                assertNotNull(license, jar.getName() + " has no META-INF/LICENSE");
                try (InputStream in = jar.getInputStream(license)) {
                    String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    assertTrue(text.startsWith("MIT License"), jar.getName() + ": " + text);
                }
            }
        }
    }

    @Test
    void sourcesAndJavadocJarsResolve() throws IOException {
        String source = resource("io/needle/jvm/Needle.java");
        assertTrue(source.contains("public final class Needle"), "needle-jvm's sources jar");
        assertTrue(resource("io/needle/engine/NeedleEngine.java").contains("public final class NeedleEngine"),
                "needle-engine-portable's sources jar");
        assertTrue(resource("io/needle/jvm/Needle.html").contains("Needle"), "needle-jvm's javadoc jar");
        assertTrue(resource("io/needle/engine/NeedleEngine.html").contains("NeedleEngine"),
                "needle-engine-portable's javadoc jar");
    }

    private static Path jarOf(Class<?> c) throws URISyntaxException {
        Path jar = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(jar.getFileName().toString().endsWith(".jar"), c + " comes from " + jar + ", not a jar");
        return jar;
    }

    private static String resource(String name) throws IOException {
        URL url = NeedleConsumerTest.class.getClassLoader().getResource(name);
        assertNotNull(url, name + " is on no jar of the test class path");
        try (InputStream in = url.openStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
