package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.json.Json;
import io.needle.json.JsonNumber;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run} and the 4-argument needle-rs form. */
class RunCommandTest {
    static final String TOOLS = GenerateCommandTest.TOOLS;
    static final String QUERY = "What is the weather in Paris today?";

    @TempDir
    static Path tmp;
    static String weights;
    static String vocab;
    static NeedleEngine engine;

    @BeforeAll
    static void model() throws IOException {
        Path[] m = Cli.tinyModel(tmp, 11);
        weights = m[0].toString();
        vocab = m[1].toString();
        engine = NeedleEngine.load(Files.readAllBytes(m[0]), Files.readString(m[1], StandardCharsets.UTF_8));
    }

    private static String[] run(String... extra) {
        String[] base = {"run", "--weights", weights, "--vocab", vocab, "--query", QUERY, "--tools", TOOLS};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void printsTheResultText() {
        RunResult expected = engine.run(QUERY, TOOLS, new RunOptions().maxNewTokens(40));
        Cli r = Cli.run(run("--max-new-tokens", "40"));
        assertEquals(0, r.status, r.err);
        assertEquals(expected.text, r.line());
        if (expected.complete) {
            assertEquals("", r.err);
        } else {
            assertTrue(r.err.startsWith("needle: warning: the output is incomplete"), r.err);
        }
    }

    @Test
    void needleRsFormIsRunWithDefaults() {
        String expected = engine.run(QUERY, TOOLS).text;
        assertEquals(expected, Cli.run(weights, vocab, QUERY, TOOLS).line());
        Path toolsFile = Cli.write(tmp, "tools.json", TOOLS);
        assertEquals(expected, Cli.runWithInput(QUERY + "\n", weights, vocab, "-", "@" + toolsFile).line());
        Cli.run(weights, vocab, QUERY).fails(Main.EXIT_USAGE, "needs WEIGHTS VOCAB QUERY TOOLS, got 3");
        Cli.run(weights, vocab, QUERY, TOOLS, "extra").fails(Main.EXIT_USAGE, "needs WEIGHTS VOCAB QUERY TOOLS, got 5");
    }

    @Test
    void jsonObject() {
        RunResult expected = engine.run(QUERY, TOOLS, new RunOptions().maxNewTokens(30).constrain(false));
        Cli r = Cli.run(run("--json", "--max-new-tokens", "30", "--no-constrain")).ok();
        Map<?, ?> o = (Map<?, ?>) Json.parse(r.line());
        assertEquals(List.of("text", "calls", "complete", "tokens", "timings"), List.copyOf(o.keySet()));
        assertEquals(expected.text, o.get("text"));
        assertEquals(expected.calls == null ? null : Json.parse(Json.write(expected.calls)), o.get("calls"));
        assertEquals(expected.complete, o.get("complete"));
        assertEquals(Json.write(expected.tokens), Json.write(o.get("tokens")));
        Map<?, ?> t = (Map<?, ?>) o.get("timings");
        assertEquals(List.of("load_ms", "encode_ms", "decode_ms", "prefill_tokens", "decode_tokens"),
                List.copyOf(t.keySet()));
        for (Object v : t.values()) {
            assertTrue(v instanceof JsonNumber && ((JsonNumber) v).doubleValue() >= 0, String.valueOf(v));
        }
        assertEquals(Integer.toString(expected.timings.prefillTokens), ((JsonNumber) t.get("prefill_tokens")).text());
        assertEquals(Integer.toString(expected.timings.decodeTokens), ((JsonNumber) t.get("decode_tokens")).text());
        assertTrue(r.out.chars().allMatch(c -> c < 0x80), "ASCII JSON");
    }

    @Test
    void streamPrintsThePiecesThenANewline() {
        RunResult expected = engine.run(QUERY, TOOLS, new RunOptions().maxNewTokens(25));
        Cli r = Cli.run(run("--stream", "--max-new-tokens", "25"));
        assertEquals(0, r.status, r.err);
        // tool names here are already snake_case, so the streamed pieces spell the result text
        assertEquals(expected.text + "\n", r.out);
    }

    @Test
    void timingsOnStderr() {
        Cli r = Cli.run(run("--timings", "--max-new-tokens", "5"));
        assertEquals(0, r.status, r.err);
        String last = r.err.substring(r.err.lastIndexOf("timings: "));
        assertTrue(last.matches("timings: load_ms=[0-9.]+ encode_ms=[0-9.]+ decode_ms=[0-9.]+ prefill_tokens=\\d+"
                + " decode_tokens=\\d+( \\([0-9.]+ tokens/s\\))?\n"), last);
        assertEquals(engine.run(QUERY, TOOLS, new RunOptions().maxNewTokens(5)).text, r.line());
    }

    @Test
    void badFilesAndInputs() {
        Path garbage = Cli.write(tmp, "garbage.safetensors", "this is not a weight file at all");
        Cli.run("run", "--weights", garbage.toString(), "--vocab", vocab, "--query", "q", "--tools", "[]")
                .fails(Main.EXIT_ERROR, "");
        Cli.run("run", "--weights", weights, "--vocab", Cli.fixtureString("tokenizer/vocab.txt"), "--query", "q",
                "--tools", "[]").fails(Main.EXIT_ERROR, "vocab");
        Cli.run("run", "--weights", weights, "--vocab", vocab + ".nope", "--query", "q", "--tools", "[]")
                .fails(Main.EXIT_ERROR, "cannot read vocab file");
        Cli.run("run", "--weights", weights, "--vocab", vocab, "--query", "q", "--tools", "@" + tmp.resolve("none"))
                .fails(Main.EXIT_ERROR, "cannot read tools file");
        Path truncated = Cli.write(tmp, "truncated.safetensors", java.util.Arrays.copyOf(readAll(weights), 5000));
        Cli.run(truncated.toString(), vocab, "q", "[]").fails(Main.EXIT_ERROR, "");
    }

    private static byte[] readAll(String path) {
        try {
            return Files.readAllBytes(Path.of(path));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
