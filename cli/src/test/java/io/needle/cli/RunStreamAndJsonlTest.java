package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.engine.TokenListener;
import io.needle.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run --stream} prints exactly the final text (tail included); {@code run --jsonl} answers each line. */
class RunStreamAndJsonlTest {
    static final String TOOLS = "[{\"name\":\"getWeather\",\"description\":\"Weather\",\"parameters\":"
            + "{\"city\":{\"type\":\"string\",\"required\":true}}},{\"name\":\"Send Message\",\"parameters\":"
            + "{\"text\":{\"type\":\"string\"}}}]";

    @TempDir
    static Path tmp;
    static String weights;
    static String vocab;
    static NeedleEngine engine;

    @BeforeAll
    static void model() throws IOException {
        Path[] m = Cli.tinyModel(tmp, 31);
        weights = m[0].toString();
        vocab = m[1].toString();
        engine = NeedleEngine.load(Files.readAllBytes(m[0]), Files.readString(m[1], StandardCharsets.UTF_8));
    }

    private static String[] run(String query, String... extra) {
        String[] base = {"run", "--weights", weights, "--vocab", vocab, "--query", query, "--tools", TOOLS};
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    /** The tail a run holds back to the end (what the CLI must print after the pieces). */
    private static String tail(String query, RunOptions options) {
        String[] tail = {null};
        engine.run(query, TOOLS, options.listener(new TokenListener() {
            @Override
            public void onToken(int tokenId, String piece) {
            }

            @Override
            public void onFinish(String t) {
                tail[0] = t;
            }
        }));
        return tail[0];
    }

    @Test
    void streamPrintsExactlyTheTextThenANewline() {
        int withTail = 0;
        int runs = 0;
        for (String q : new String[] {"weather in Zürich", "text Zoë hello", "東京"}) {
            for (int max = 1; max <= 30 && (runs < 12 || withTail == 0); max += 3) {
                for (boolean constrain : new boolean[] {true, false}) {
                    RunOptions o = new RunOptions().maxNewTokens(max).constrain(constrain);
                    RunResult expected = engine.run(q, TOOLS, o);
                    String t = tail(q, new RunOptions().maxNewTokens(max).constrain(constrain));
                    String[] args = constrain ? run(q, "--stream", "--max-new-tokens", Integer.toString(max))
                            : run(q, "--stream", "--no-constrain", "--max-new-tokens", Integer.toString(max));
                    Cli r = Cli.run(args);
                    assertEquals(0, r.status, r.err);
                    assertEquals(expected.text + "\n", r.out, "stream of " + q + " max " + max);
                    if (!t.isEmpty()) {
                        withTail++;
                    }
                    runs++;
                }
            }
        }
        // at least one run held text back to the end (an unfinished UTF-8 character): its tail is printed
        assertTrue(withTail > 0, "no run with a tail among " + runs);
    }

    @Test
    void jsonlAnswersEveryLine() {
        String in = "{\"query\":\"weather in Paris\",\"tools\":" + TOOLS + ",\"max_new_tokens\":12}\n"
                + "{\"query\":\"text Bob\",\"tools\":" + Json.quote(TOOLS) + "}\n"
                + "{\"query\":\"no tools field: the --tools default\"}\n"
                + "{\"tools\":[]}\n"
                + "not json\n"
                + "{\"query\":\"q\",\"tools\":\"{not json\"}\n"
                + "{\"query\":\"q\",\"tools\":[],\"max_new_tokens\":600}\n"
                + "{\"query\":\"東京の天気\",\"tools\":[],\"max_new_tokens\":null}";
        Cli r = Cli.runWithInput(in, "run", "--weights", weights, "--vocab", vocab, "--jsonl", "--tools", TOOLS,
                "--max-new-tokens", "20").ok();
        String[] lines = r.lines();
        assertEquals(8, lines.length, String.join("\n", lines));
        check(lines[0], "weather in Paris", TOOLS, 12);
        check(lines[1], "text Bob", TOOLS, 20);
        check(lines[2], "no tools field: the --tools default", TOOLS, 20);
        assertEquals("error: missing field \"query\"", lines[3]);
        assertTrue(lines[4].startsWith("error: invalid JSON"), lines[4]);
        assertTrue(lines[5].startsWith("error: the tools are not valid JSON"), lines[5]);
        assertTrue(lines[6].startsWith("error: max_new_tokens must be between 0 and 511"), lines[6]);
        check(lines[7], "東京の天気", "[]", 20);
        assertTrue(r.out.chars().allMatch(c -> c < 0x80), "ASCII JSON lines");

        // no --tools: a line without tools is an error line
        String[] noDefault = Cli.runWithInput("{\"query\":\"q\"}\n", "run", "--weights", weights, "--vocab", vocab,
                "--jsonl", "--no-constrain").ok().lines();
        assertEquals("error: missing field \"tools\" (or give --tools)", noDefault[0]);
    }

    /** One --jsonl line against the engine's result for the same request. */
    private static void check(String line, String query, String tools, int max) {
        RunResult expected = engine.run(query, tools, new RunOptions().maxNewTokens(max));
        Map<?, ?> o = (Map<?, ?>) Json.parse(line);
        assertEquals(List.of("text", "calls", "complete", "tokens", "timings"), List.copyOf(o.keySet()));
        assertEquals(expected.text, o.get("text"));
        assertEquals(expected.complete, o.get("complete"));
        assertEquals(Json.write(expected.tokens), Json.write(o.get("tokens")));
        assertEquals(expected.calls == null ? "null" : Json.write(expected.calls), Json.write(o.get("calls")));
        assertNotNull(o.get("timings"));
    }

    @Test
    void jsonlUsageErrors() {
        Cli.run("run", "--weights", weights, "--vocab", vocab, "--jsonl", "--query", "q")
                .fails(Main.EXIT_USAGE, "--query cannot be used");
        Cli.run("run", "--weights", weights, "--vocab", vocab, "--jsonl", "--stream")
                .fails(Main.EXIT_USAGE, "--stream cannot be used with --jsonl");
        Cli.runWithInput("[]", "run", "--weights", weights, "--vocab", vocab, "--jsonl", "--tools", "-")
                .fails(Main.EXIT_USAGE, "can be read only once");
        Cli.run("run", "--weights", weights, "--vocab", vocab, "--jsonl", "--max-new-tokens", "900")
                .fails(Main.EXIT_ERROR, "max_new_tokens must be between 0 and 511");
        // an empty input gives no output
        assertEquals("", Cli.run("run", "--weights", weights, "--vocab", vocab, "--jsonl").ok().out);
    }
}
