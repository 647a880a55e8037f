package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.json.Json;
import io.needle.json.JsonNumber;
import io.needle.testing.ParityRule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The parity fixtures through the command line, with the exact command of
 * shared/fixtures/parity/README.md: {@code generate --weights pN.safetensors --input-ids … 
 * --max-new-tokens … --no-constrain}, compared under the tie rule ({@link ParityRule}).
 */
class ParityTest {

    @TestFactory
    List<DynamicTest> everyParityCase() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Cli.fixture("parity"), "p*.json")) {
            ds.forEach(files::add);
        }
        files.sort(null);
        assertTrue(files.size() >= 4, "parity fixtures found in " + Cli.fixture("parity"));
        List<DynamicTest> tests = new ArrayList<>();
        for (Path file : files) {
            Map<?, ?> root = (Map<?, ?>) Json.parse(Files.readString(file, StandardCharsets.UTF_8));
            double tieEps = ((JsonNumber) root.get("tie_eps")).doubleValue();
            String weights = file.resolveSibling((String) ((Map<?, ?>) root.get("model")).get("file")).toString();
            for (Object o : (List<?>) root.get("cases")) {
                Map<?, ?> c = (Map<?, ?>) o;
                String name = file.getFileName() + " case " + c.get("id");
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    int[] input = ParityRule.ints(c.get("input_ids"));
                    String ids = IntStream.of(input).mapToObj(Integer::toString).collect(Collectors.joining(","));
                    Cli r = Cli.run("generate", "--weights", weights, "--input-ids", ids,
                            "--max-new-tokens", String.valueOf(c.get("max_new_tokens")), "--no-constrain").ok();
                    String line = r.line();
                    int[] got = line.isEmpty() ? new int[0]
                            : java.util.Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
                    ParityRule.check(name, c, tieEps, got);
                }));
            }
        }
        assertEquals(true, tests.size() >= 4);
        return tests;
    }
}
