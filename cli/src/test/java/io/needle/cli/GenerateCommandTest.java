package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code generate}: raw ids in, ids out, single and JSONL, constrained and not. */
class GenerateCommandTest {
    static final String TOOLS = "[{\"name\":\"get_weather\",\"description\":\"Get the weather\","
            + "\"parameters\":{\"location\":{\"type\":\"string\",\"description\":\"City\",\"required\":true}}}]";

    @TempDir
    static Path tmp;
    static String weights;
    static String vocab;
    static NeedleEngine engine;

    @BeforeAll
    static void model() throws IOException {
        Path[] m = Cli.tinyModel(tmp, 7);
        weights = m[0].toString();
        vocab = m[1].toString();
        engine = NeedleEngine.load(Files.readAllBytes(m[0]), Files.readString(m[1], StandardCharsets.UTF_8));
    }

    @Test
    void unconstrainedMatchesTheEngine() {
        int[] input = {10, 200, 33, 7, 5, 90, 91};
        String got = Cli.run("generate", "--weights", weights, "--input-ids", "10,200,33,7,5,90,91",
                "--max-new-tokens", "12", "--no-constrain").ok().line();
        assertEquals(TokenizeCommand.ids(engine.generate(input, 12)), got);
        assertTrue(got.isEmpty() || got.split(" ").length <= 12);
        // The vocabulary is optional without constraints.
        assertEquals(got, Cli.run("generate", "--weights", weights, "--vocab", vocab, "--input-ids",
                "10, 200, 33, 7, 5, 90, 91", "--max-new-tokens=12", "--no-constrain").ok().line());
    }

    /** The fastest kernels (the default) and --portable give the same ids, constrained or not, for generate and run. */
    @Test
    void portableKernelsGiveTheSameAnswers() {
        String[] gen = {"generate", "--weights", weights, "--input-ids", "10,200,33,7,5,90,91", "--max-new-tokens", "16",
            "--no-constrain"};
        String fast = Cli.run(gen).ok().line();
        String[] portable = java.util.Arrays.copyOf(gen, gen.length + 1);
        portable[gen.length] = "--portable";
        assertEquals(fast, Cli.run(portable).ok().line());
        String runFast = Cli.run("run", "--weights", weights, "--vocab", vocab, "--query", "weather in Paris", "--tools", TOOLS,
                "--json").ok().line();
        String runPortable = Cli.run("run", "--weights", weights, "--vocab", vocab, "--query", "weather in Paris", "--tools",
                TOOLS, "--json", "--portable").ok().line();
        assertEquals(Json.write(((java.util.Map<?, ?>) Json.parse(runFast)).get("tokens")),
                Json.write(((java.util.Map<?, ?>) Json.parse(runPortable)).get("tokens")));
        assertEquals(((java.util.Map<?, ?>) Json.parse(runFast)).get("text"), ((java.util.Map<?, ?>) Json.parse(runPortable)).get("text"));
    }

    @Test
    void maxNewTokensZeroGivesAnEmptyLine() {
        assertEquals("", Cli.run("generate", "--weights", weights, "--input-ids", "10,11", "--max-new-tokens", "0",
                "--no-constrain").ok().line());
    }

    @Test
    void constrainedMatchesTheEngine() {
        int[] input = engine.prompt("weather in Paris", TOOLS);
        String ids = TokenizeCommand.ids(input).replace(' ', ',');
        String got = Cli.run("generate", "--weights", weights, "--vocab", vocab, "--tools", TOOLS, "--input-ids", ids,
                "--max-new-tokens", "20").ok().line();
        int[] expected = engine.generate(input, TOOLS, new RunOptions().maxNewTokens(20));
        assertEquals(TokenizeCommand.ids(expected), got);
    }

    @Test
    void constrainedNeedsVocabAndTools() {
        Cli.run("generate", "--weights", weights, "--input-ids", "5").fails(Main.EXIT_USAGE, "needs --vocab and --tools");
        Cli.run("generate", "--weights", weights, "--vocab", vocab, "--input-ids", "5")
                .fails(Main.EXIT_USAGE, "needs --tools");
        Cli.run("generate", "--weights", weights, "--jsonl").fails(Main.EXIT_USAGE, "needs --vocab");
    }

    @Test
    void badInputIds() {
        Cli.run("generate", "--weights", weights, "--no-constrain").fails(Main.EXIT_USAGE, "needs --input-ids");
        Cli.run("generate", "--weights", weights, "--no-constrain", "--input-ids", "1", "--jsonl")
                .fails(Main.EXIT_USAGE, "not both");
        Cli.run("generate", "--weights", weights, "--no-constrain", "--input-ids", "")
                .fails(Main.EXIT_ERROR, "no input ids");
        Cli.run("generate", "--weights", weights, "--no-constrain", "--input-ids", "1,x")
                .fails(Main.EXIT_ERROR, "'x' is not a token id");
        Cli.run("generate", "--weights", weights, "--no-constrain", "--input-ids", "1,-3")
                .fails(Main.EXIT_ERROR, "is negative");
        Cli r = Cli.run("generate", "--weights", weights, "--no-constrain", "--input-ids", "1,512");
        assertEquals(Main.EXIT_ERROR, r.status, r.err);
        assertTrue(r.err.startsWith("needle: error: ") && r.err.contains("512"), r.err);
        Cli.run("generate", "--weights", weights + ".missing", "--no-constrain", "--input-ids", "1")
                .fails(Main.EXIT_ERROR, "no such file");
    }

    @Test
    void jsonlOneLinePerInput() {
        String in = "{\"input_ids\":[10,20,30],\"max_new_tokens\":5}\n"
                + "{\"input_ids\":[40,41]}\n"
                + "{\"max_new_tokens\":3}\n"
                + "{\"input_ids\":[1,\"a\"]}\n"
                + "{\"input_ids\":[10,20,30],\"max_new_tokens\":-1}\n"
                + "[1,2]\n"
                + "{\"input_ids\":[10,20,30],\"max_new_tokens\":2}";
        String[] lines = Cli.runWithInput(in, "generate", "--weights", weights, "--jsonl", "--no-constrain",
                "--max-new-tokens", "9").ok().lines();
        assertEquals(7, lines.length, String.join("|", lines));
        assertEquals(TokenizeCommand.ids(engine.generate(new int[] {10, 20, 30}, 5)), lines[0]);
        assertEquals(TokenizeCommand.ids(engine.generate(new int[] {40, 41}, 9)), lines[1]);
        assertEquals("error: missing field \"input_ids\"", lines[2]);
        assertEquals("error: input_ids[1] must be an integer, got a string", lines[3]);
        assertEquals("error: max_new_tokens must be >= 0, got -1", lines[4]);
        assertEquals("error: expected a JSON object, got an array", lines[5]);
        assertEquals(TokenizeCommand.ids(engine.generate(new int[] {10, 20, 30}, 2)), lines[6]);
    }

    @Test
    void jsonlConstrainedUsesEachLinesTools() {
        int[] input = engine.prompt("weather in Paris", TOOLS);
        String line = "{\"input_ids\":" + Json.write(input) + ",\"max_new_tokens\":20,\"tools\":" + Json.quote(TOOLS)
                + "}\n";
        String noTools = "{\"input_ids\":" + Json.write(input) + "}\n";
        String[] lines = Cli.runWithInput(line + noTools, "generate", "--weights", weights, "--vocab", vocab,
                "--jsonl").ok().lines();
        String expected = TokenizeCommand.ids(engine.generate(input, TOOLS, new RunOptions().maxNewTokens(20)));
        assertEquals(2, lines.length);
        assertEquals(expected, lines[0]);
        assertTrue(lines[1].startsWith("error: missing field \"tools\""), lines[1]);
        // --tools is the default for lines without "tools"
        String[] withDefault = Cli.runWithInput(noTools.replace("}", ",\"max_new_tokens\":20}"), "generate",
                "--weights", weights, "--vocab", vocab, "--tools", TOOLS, "--jsonl").ok().lines();
        assertEquals(expected, withDefault[0]);
    }

    @Test
    void aWeightFileInAnotherLayoutIsOneLineNamingTheLayoutRead() {
        io.needle.synthetic.ModelWriter w = io.needle.synthetic.ModelWriter.tiny().seed(7);
        for (byte[] file : new byte[][] {io.needle.jvm.RetiredLayout.renamed(w), io.needle.jvm.RetiredLayout.asWritten(w)}) {
            Path f = Cli.write(tmp, "other-layout.safetensors", file);
            Cli.run("generate", "--weights", f.toString(), "--input-ids", "5,17,42", "--no-constrain")
                    .fails(Main.EXIT_ERROR, "this file is in another tensor layout: needle-java-wasm reads the"
                            + " needle-rs layout of MODEL.md section 4");
            Cli.run("run", "--weights", f.toString(), "--vocab", vocab, "--query", "hi", "--tools", TOOLS)
                    .fails(Main.EXIT_ERROR, "this file is in another tensor layout");
        }
    }
}
