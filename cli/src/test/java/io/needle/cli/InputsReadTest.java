package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Inputs#readChunked}: the bytes {@link Files#readAllBytes} gives, read in bounded chunks. */
class InputsReadTest {
    @TempDir
    Path tmp;

    @Test
    void readsFilesOfEverySizeWhole() throws Exception {
        Random random = new Random(7);
        for (int size : new int[] {0, 1, 8191, 8192, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 12345}) {
            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            Path f = tmp.resolve("f" + size);
            Files.write(f, bytes);
            assertArrayEquals(bytes, Inputs.readChunked(f), "size " + size);
            assertArrayEquals(bytes, Inputs.readFile("weights", f.toString()), "size " + size);
        }
    }

    @Test
    void readsAFileLongerThanItsSizeSays() throws Exception {
        // files in /proc report size 0 and have content
        Path status = Paths.get("/proc/self/status");
        assumeTrue(Files.isReadable(status) && Files.size(status) == 0, "a Linux /proc file");
        byte[] bytes = Inputs.readChunked(status);
        assertTrue(bytes.length > 0);
        assertTrue(new String(bytes, java.nio.charset.StandardCharsets.UTF_8).contains("VmRSS"));
    }

    @Test
    void errorsStayOneLine() {
        CliException e = org.junit.jupiter.api.Assertions.assertThrows(CliException.class,
                () -> Inputs.readFile("weights", tmp.resolve("missing").toString()));
        assertEquals("cannot read weights file '" + tmp.resolve("missing") + "': no such file", e.getMessage());
    }
}
