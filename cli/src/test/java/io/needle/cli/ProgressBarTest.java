package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The download progress display on stderr. */
class ProgressBarTest {

    private static String run(boolean interactive, long total, long... steps) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ProgressBar bar = new ProgressBar(err, interactive);
        bar.started("needle.safetensors", "http://h/needle.safetensors", 0, total);
        for (long s : steps) {
            bar.progress("needle.safetensors", s, total);
        }
        bar.finished("needle.safetensors", steps[steps.length - 1]);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void plainLinesAtTheQuarters() {
        String out = run(false, 22_000_000, 1_000_000, 6_000_000, 11_000_000, 12_000_000, 17_000_000, 22_000_000);
        String[] lines = out.split("\n");
        assertEquals(5, lines.length, out);
        assertEquals("needle: downloading needle.safetensors (22.0 MB) from http://h/needle.safetensors", lines[0]);
        assertTrue(lines[1].startsWith("needle: needle.safetensors  [#####               ]   27%  6.0/22.0 MB  "), lines[1]);
        assertTrue(lines[2].startsWith("needle: needle.safetensors  [##########          ]   50%  11.0/22.0 MB  "), lines[2]);
        assertTrue(lines[3].matches("needle: needle\\.safetensors  \\[#{15} {5}\\]   77%  17\\.0/22\\.0 MB  "
                + "(--|[0-9.]+) MB/s"), lines[3]);
        assertTrue(lines[4].matches("needle: downloaded needle\\.safetensors: 22\\.0 MB in [0-9.]+ s \\((--|[0-9.]+) MB/s\\)"),
                lines[4]);
        assertTrue(!out.contains("\r"));
    }

    @Test
    void terminalRedrawsOneLine() {
        String out = run(true, 1_000_000, 500_000, 1_000_000);
        assertTrue(out.startsWith("needle: downloading needle.safetensors (1.0 MB) from http://h/needle.safetensors\n"
                + "\r  needle.safetensors  [##########          ]   50%  0.5/1.0 MB  "), out);
        assertTrue(out.contains("\r  needle.safetensors  [####################]  100%  1.0/1.0 MB  "), out);
        assertTrue(out.contains("  \nneedle: downloaded needle.safetensors: 1.0 MB in "), out);
    }

    @Test
    void unknownSizeShowsBytesOnly() {
        ProgressBar bar = new ProgressBar(new PrintStream(new ByteArrayOutputStream()), true);
        bar.started("vocab.txt", "u", 0, -1);
        assertTrue(bar.status("vocab.txt", 2_500_000, -1, System.nanoTime()).startsWith("vocab.txt  2.5 MB  "));
        assertEquals("0.1", ProgressBar.megabytes(123_456));
    }
}
