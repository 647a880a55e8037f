package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.json.Json;
import io.needle.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code prompt}: the encoder input of run, without weights. */
class PromptCommandTest {
    private static final String VOCAB = Cli.fixtureString("tokenizer/vocab.txt");
    private static final String TOOLS = GenerateCommandTest.TOOLS;

    @TempDir
    Path tmp;

    @Test
    void queryThenToolsSeparatorThenTools() {
        Tokenizer tok = TokenizeCommand.loadTokenizer(VOCAB);
        String line = Cli.run("prompt", "--vocab", VOCAB, "--query", "What's the weather in Paris?", "--tools", TOOLS)
                .ok().line();
        String q = TokenizeCommand.ids(tok.encode("What's the weather in Paris?"));
        assertTrue(line.startsWith(q + " 5 "), line);
        // the flat tools form is serialized unchanged (compact JSON) and tokenized after <tools>
        assertEquals(q + " 5 " + TokenizeCommand.ids(tok.encode(TOOLS)), line);
    }

    @Test
    void sameIdsAsTheEngineRunWouldUse() throws IOException {
        Path[] m = Cli.tinyModel(tmp, 3);
        NeedleEngine engine = NeedleEngine.load(Files.readAllBytes(m[0]), Files.readString(m[1]));
        String tools = "[{\"type\":\"function\",\"function\":{\"name\":\"getWeather\",\"parameters\":{\"type\":\"object\","
                + "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]";
        String line = Cli.run("prompt", "--vocab", m[1].toString(), "--query", "weather?", "--tools", tools).ok().line();
        assertEquals(TokenizeCommand.ids(engine.prompt("weather?", tools)), line);
    }

    @Test
    void inputsFromStdinAndFiles() {
        String expected = Cli.run("prompt", "--vocab", VOCAB, "--query", "hi there", "--tools", TOOLS).ok().line();
        Path toolsFile = Cli.write(tmp, "tools.json", TOOLS + "\n");
        assertEquals(expected, Cli.runWithInput("hi there\n", "prompt", "--vocab", VOCAB, "--query", "-", "--tools",
                "@" + toolsFile).ok().line());
        Cli.runWithInput("x", "prompt", "--vocab", VOCAB, "--query", "-", "--tools", "-")
                .fails(Main.EXIT_USAGE, "standard input ('-') can be read only once");
    }

    @Test
    void jsonl() {
        Tokenizer tok = TokenizeCommand.loadTokenizer(VOCAB);
        String in = "{\"query\":\"hi\",\"tools\":" + Json.quote(TOOLS) + "}\n"
                + "{\"query\":\"hi\",\"tools\":" + TOOLS + "}\n"
                + "{\"query\":\"hi\"}\n"
                + "{\"query\":3,\"tools\":\"[]\"}\n";
        String[] lines = Cli.runWithInput(in, "prompt", "--vocab", VOCAB, "--jsonl").ok().lines();
        assertEquals(4, lines.length);
        String expected = TokenizeCommand.ids(io.needle.decoding.Prompt.encoderInput(tok, "hi", TOOLS));
        assertEquals(expected, lines[0]);
        assertEquals(expected, lines[1]); // tools given as a JSON value rather than a string
        assertEquals("error: missing field \"tools\"", lines[2]);
        assertEquals("error: field \"query\" must be a string, got a number", lines[3]);
        Cli.run("prompt", "--vocab", VOCAB, "--jsonl", "--query", "x").fails(Main.EXIT_USAGE, "do not give --query");
    }

    @Test
    void longQueryIsTruncatedTo1024() {
        String longQuery = "word ".repeat(3000);
        String[] ids = Cli.run("prompt", "--vocab", VOCAB, "--query", longQuery, "--tools", TOOLS).ok().line().split(" ");
        assertEquals(1024, ids.length);
        assertEquals("5", ids[1022]);
    }
}
