package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.json.Json;
import io.needle.safetensors.SafeTensors;
import io.needle.synthetic.ModelWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code inspect W}: config lines, then one line per tensor. */
class InspectCommandTest {
    private static final int CONFIG_LINES = 14;

    @TempDir
    Path tmp;

    @Test
    void parityFixtures() throws IOException {
        for (String p : new String[] {"p1", "p2", "p3", "p4"}) {
            Path file = Cli.fixture("parity/" + p + ".safetensors");
            Map<?, ?> model = (Map<?, ?>) ((Map<?, ?>) Json.parse(
                    Files.readString(Cli.fixture("parity/" + p + ".json"), StandardCharsets.UTF_8))).get("model");
            Map<?, ?> config = (Map<?, ?>) model.get("config");
            String[] lines = Cli.run("inspect", file.toString()).ok().lines();
            SafeTensors st = SafeTensors.parse(Files.readAllBytes(file));
            assertEquals(CONFIG_LINES + st.tensors().size(), lines.length, p);
            for (int i = 0; i < CONFIG_LINES; i++) {
                String[] kv = lines[i].split(": ", 2);
                assertEquals(2, kv.length, lines[i]);
                Object want = config.get(kv[0]);
                if (want != null) {
                    assertConfigValue(p + " " + kv[0], String.valueOf(want), kv[1]);
                }
            }
            long total = 0;
            for (int i = CONFIG_LINES; i < lines.length; i++) {
                String[] f = lines[i].split(" ");
                assertEquals(4, f.length, lines[i]);
                assertTrue(f[2].matches("\\[(\\d+(,\\d+)*)?\\]"), lines[i]);
                assertEquals(st.tensors().get(i - CONFIG_LINES).name(), f[0]);
                total += Long.parseLong(f[3]);
            }
            assertEquals(Files.size(file) - st.dataStart(), total, p + ": tensor bytes cover the data region");
        }
    }

    private static void assertConfigValue(String what, String want, String got) {
        if (want.equals(got)) {
            return;
        }
        try {
            assertEquals(Double.parseDouble(want), Double.parseDouble(got), 0.0, what);
        } catch (NumberFormatException e) {
            assertEquals(want.toLowerCase(), got.toLowerCase(), what);
        }
    }

    @Test
    void scalarAndConfigAsJson() {
        ModelWriter w = ModelWriter.tiny().configAsJson(true).seed(5);
        Path f = Cli.write(tmp, "m.safetensors", w.build());
        String[] lines = Cli.run("inspect", f.toString()).ok().lines();
        assertEquals("vocab_size: " + w.vocabSize(), lines[0]);
        assertTrue(java.util.Arrays.stream(lines).anyMatch(l -> l.matches("\\S+ \\S+ \\[\\] \\d+")), "a scalar gate");
    }

    @Test
    void errors() {
        Path bad = Cli.write(tmp, "bad.safetensors", new byte[] {1, 2, 3});
        Cli.run("inspect", bad.toString()).fails(Main.EXIT_ERROR, "");
        Cli.run("inspect", "a", "b").fails(Main.EXIT_USAGE, "unexpected argument 'b'");
    }

    @Test
    void badConfigStillListsTensors() {
        ModelWriter w = ModelWriter.tiny().seed(5);
        byte[] file = w.writer().metadata("num_heads", "3").toBytes();
        Path f = Cli.write(tmp, "badcfg.safetensors", file);
        Cli r = Cli.run("inspect", f.toString());
        assertEquals(Main.EXIT_ERROR, r.status);
        assertTrue(r.err.startsWith("needle: error: bad model config"), r.err);
        assertTrue(r.out.startsWith("embedding "), r.out);
    }
}
