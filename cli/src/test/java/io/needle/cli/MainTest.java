package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Help, version, command dispatch and the error contract of {@link Main}. */
class MainTest {

    @Test
    void helpPrintsUsageOnStdout() {
        for (String h : new String[] {"--help", "help", "-h"}) {
            Cli r = Cli.run(h).ok();
            assertTrue(r.out.startsWith("Usage: needle"), r.out);
            for (String command : new String[] {"run", "tokenize", "detokenize", "generate", "prompt", "inspect"}) {
                assertTrue(r.out.contains("\n  " + command + " "), "usage mentions " + command);
            }
        }
    }

    @Test
    void commandHelpPrintsUsage() {
        Cli r = Cli.run("tokenize", "--help").ok();
        assertTrue(r.out.startsWith("Usage: needle"));
        assertTrue(Cli.run("generate", "-h").ok().out.startsWith("Usage: needle"));
    }

    @Test
    void noArgumentsIsAUsageError() {
        Cli r = Cli.run();
        assertEquals(Main.EXIT_USAGE, r.status);
        assertEquals("", r.out);
        assertTrue(r.err.startsWith("Usage: needle"));
    }

    @Test
    void version() {
        assertTrue(Cli.run("--version").ok().line().startsWith("needle "));
    }

    @Test
    void benchRejectsUnknownOptions() {
        Cli.run("bench", "--bogus").fails(Main.EXIT_USAGE, "unknown option");
    }

    @Test
    void unknownCommandAndOptions() {
        Cli.run("frobnicate").fails(Main.EXIT_USAGE, "unknown command 'frobnicate'");
        Cli.run("a", "b", "c").fails(Main.EXIT_USAGE, "unknown command 'a'");
        Cli.run("--frob").fails(Main.EXIT_USAGE, "unknown option '--frob'");
        Cli.run("tokenize", "--vocab", "v", "--frob", "x").fails(Main.EXIT_USAGE, "unknown option '--frob'");
        Cli.run("tokenize", "--vocab").fails(Main.EXIT_USAGE, "--vocab needs a value");
        Cli.run("tokenize", "--vocab", "a", "--vocab", "b", "x").fails(Main.EXIT_USAGE, "more than once");
        Cli.run("tokenize", "x").fails(Main.EXIT_USAGE, "needs --vocab");
        Cli.run("tokenize", "--vocab", "v").fails(Main.EXIT_USAGE, "needs a TEXT");
        Cli.run("tokenize", "--vocab", "v", "a", "b").fails(Main.EXIT_USAGE, "unexpected argument 'b'");
        Cli.run("run", "--weights", "w", "--vocab", "v", "--query", "q").fails(Main.EXIT_USAGE, "needs --tools");
        Cli.run("run", "--weights", "w", "--vocab", "v", "--query", "q", "--tools", "[]", "--max-new-tokens", "x")
                .fails(Main.EXIT_USAGE, "--max-new-tokens must be a non-negative integer");
        Cli.run("run", "--weights", "w", "--vocab", "v", "--query", "q", "--tools", "[]", "--json", "--stream")
                .fails(Main.EXIT_USAGE, "cannot be used together");
        Cli.run("inspect").fails(Main.EXIT_USAGE, "needs a weights file");
        Cli.run("tokenize", "--json=1", "--vocab", "v", "x").fails(Main.EXIT_USAGE, "unknown option '--json'");
    }

    @Test
    void missingFilesGiveOneClearLine() {
        Cli.run("tokenize", "--vocab", "/no/such/vocab.txt", "hi")
                .fails(Main.EXIT_ERROR, "cannot read vocab file '/no/such/vocab.txt': no such file");
        Cli.run("inspect", "/no/such/w.safetensors")
                .fails(Main.EXIT_ERROR, "cannot read weights file '/no/such/w.safetensors': no such file");
        Cli.run("/no/w", "/no/v", "q", "[]").fails(Main.EXIT_ERROR, "cannot read weights file '/no/w'");
        Cli.run("inspect", System.getProperty("java.io.tmpdir")).fails(Main.EXIT_ERROR, "is a directory");
    }

    @Test
    void debugAddsTheStackTrace() {
        Cli r = Cli.run("--debug", "tokenize", "--vocab", "/no/such/vocab.txt", "hi");
        assertEquals(Main.EXIT_ERROR, r.status);
        assertTrue(r.err.startsWith("needle: error: cannot read vocab file"), r.err);
        assertTrue(r.err.contains("\tat io.needle.cli."), r.err);
        Cli r2 = Cli.run("tokenize", "--vocab", "/no/such/vocab.txt", "hi", "--debug");
        assertTrue(r2.err.contains("\tat "), r2.err);
    }
}
