package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.needle.json.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The needle-rs form {@code needle WEIGHTS VOCAB QUERY TOOLS} prints exactly what {@code run} prints. */
class FourArgumentFormTest {
    static final String TOOLS = RunCommandTest.TOOLS;

    @TempDir
    static Path tmp;
    static String weights;
    static String vocab;

    @BeforeAll
    static void model() {
        Path[] m = Cli.tinyModel(tmp, 33);
        weights = m[0].toString();
        vocab = m[1].toString();
    }

    private static void same(String stdin, String query, String tools, String... options) {
        String[] four = DefaultModelTest.concat(new String[] {weights, vocab, query, tools}, options);
        String[] run = DefaultModelTest.concat(
                new String[] {"run", "--weights", weights, "--vocab", vocab, "--query", query, "--tools", tools}, options);
        Cli a = Cli.runWithInput(stdin, four);
        Cli b = Cli.runWithInput(stdin, run);
        String what = String.join(" ", options) + " / " + query;
        assertEquals(b.status, a.status, what);
        assertEquals(b.out, a.out, what);
        assertEquals(b.err, a.err, what);
    }

    @Test
    void sameOutputForEveryOption() throws IOException {
        for (String query : new String[] {"What is the weather in Paris today?", "Set an alarm for 7 am", "", "Héllo"}) {
            same("", query, TOOLS);
            same("", query, TOOLS, "--max-new-tokens", "7");
            same("", query, TOOLS, "--no-constrain", "--max-new-tokens", "25");
            same("", query, TOOLS, "--stream", "--max-new-tokens", "15");
        }
        Path toolsFile = Cli.write(tmp, "tools.json", TOOLS);
        same("Send a message to Alice\n", "-", "@" + toolsFile);
        same("", "q", "[]");
        // errors too
        same("", "q", "not json");
        same("", "q", TOOLS, "--max-new-tokens", "x");
    }

    @Test
    void sameJsonApartFromTheClock() {
        String[] opts = {"--json", "--max-new-tokens", "12"};
        Cli a = Cli.run(DefaultModelTest.concat(new String[] {weights, vocab, "Play jazz", TOOLS}, opts)).ok();
        Cli b = Cli.run(DefaultModelTest.concat(
                new String[] {"run", "--weights", weights, "--vocab", vocab, "--query", "Play jazz", "--tools", TOOLS},
                opts)).ok();
        Map<?, ?> ja = (Map<?, ?>) Json.parse(a.line());
        Map<?, ?> jb = (Map<?, ?>) Json.parse(b.line());
        for (String k : List.of("text", "calls", "complete", "tokens")) {
            assertEquals(Json.write(jb.get(k)), Json.write(ja.get(k)), k);
        }
    }
}
