package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.json.Json;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code run --require-call} and the JSONL field {@code "require_call"}: the grammar refuses the
 * empty answer (what {@code needle serve} does for {@code tool_choice: "required"}); on a query the
 * model answers with {@code []}, the output is the engine's required answer.
 */
class RequireCallCliTest {
    static String noCallQuery;

    @BeforeAll
    static void model() throws IOException {
        ServeCommandTest.model(); // the model and reference answers of the serve tests
        noCallQuery = ServeCommandTest.QUERIES[ServeCommandTest.pick("no call",
                r -> r.complete && ServeCommandTest.calls(r) == 0)];
    }

    private static String[] run(String... extra) {
        String[] base = {"run", "--weights", ServeCommandTest.weights.toString(), "--vocab",
            ServeCommandTest.vocab.toString(), "--tools", ServeCommandTest.TOOLS, "--max-new-tokens", "96"};
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void requireCallGivesTheEnginesRequiredAnswer() {
        RunResult want = ServeCommandTest.reference.run(noCallQuery, ServeCommandTest.TOOLS,
                new RunOptions().maxNewTokens(96).requireCall(true));
        assertNotEquals("[]", want.text);
        assertEquals("[]", Cli.run(run("--query", noCallQuery)).ok().line());
        assertEquals(want.text, Cli.run(run("--query", noCallQuery, "--require-call")).ok().line());
        Cli.run(run("--query", noCallQuery, "--require-call", "--no-constrain"))
                .fails(Main.EXIT_USAGE, "--require-call needs constrained decoding");
    }

    @Test
    void jsonlRequireCallPerLine() {
        String q = Json.quote(noCallQuery);
        Cli r = Cli.runWithInput("{\"query\":" + q + ",\"require_call\":true}\n{\"query\":" + q + "}\n"
                + "{\"query\":" + q + ",\"require_call\":\"yes\"}\n", run("--jsonl"));
        String[] lines = r.lines();
        assertEquals(3, lines.length);
        RunResult want = ServeCommandTest.reference.run(noCallQuery, ServeCommandTest.TOOLS,
                new RunOptions().maxNewTokens(96).requireCall(true));
        assertEquals(want.text, ((Map<?, ?>) Json.parse(lines[0])).get("text"));
        assertEquals("[]", ((Map<?, ?>) Json.parse(lines[1])).get("text"));
        assertTrue(lines[2].startsWith("error: \"require_call\" must be true or false"), lines[2]);
        // --require-call as the default of every line
        Cli d = Cli.runWithInput("{\"query\":" + q + "}\n{\"query\":" + q + ",\"require_call\":false}\n",
                run("--jsonl", "--require-call"));
        assertEquals(want.text, ((Map<?, ?>) Json.parse(d.lines()[0])).get("text"));
        assertEquals("[]", ((Map<?, ?>) Json.parse(d.lines()[1])).get("text"));
    }
}
