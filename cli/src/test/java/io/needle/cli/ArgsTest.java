package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The small argument parser. */
class ArgsTest {
    private static final List<String> VALUES = List.of("vocab", "max-new-tokens");
    private static final List<String> FLAGS = List.of("jsonl");

    private static Args parse(String... argv) {
        return Args.parse("cmd", argv, 0, VALUES, FLAGS);
    }

    @Test
    void valuesFlagsAndPositionals() {
        Args a = parse("--vocab", "v.txt", "x", "--jsonl", "-", "--max-new-tokens=7");
        assertEquals("v.txt", a.value("vocab"));
        assertEquals("v.txt", a.required("vocab"));
        assertTrue(a.flag("jsonl"));
        assertFalse(a.flag("debug"));
        assertEquals(List.of("x", "-"), a.positionals());
        assertEquals(7, a.nonNegativeInt("max-new-tokens", 511));
        assertEquals(511, parse().nonNegativeInt("max-new-tokens", 511));
        assertNull(parse().value("vocab"));
    }

    @Test
    void doubleDashEndsOptions() {
        Args a = parse("--vocab", "v", "--", "--jsonl", "-h");
        assertFalse(a.flag("jsonl"));
        assertEquals(List.of("--jsonl", "-h"), a.positionals());
    }

    @Test
    void valuesMayBeEmptyOrStartWithADash() {
        assertEquals("", parse("--vocab", "").value("vocab"));
        assertEquals("-", parse("--vocab", "-").value("vocab"));
        assertEquals("--x", parse("--vocab", "--x").value("vocab"));
        assertEquals("a=b", parse("--vocab=a=b").value("vocab"));
    }

    @Test
    void debugAndHelpAreAlwaysAccepted() {
        Args a = parse("--debug", "-h");
        assertTrue(a.flag("debug"));
        assertTrue(a.flag("help"));
        assertTrue(Args.hasDebug(new String[] {"x", "--debug"}));
        assertFalse(Args.hasDebug(new String[] {"--", "--debug"}));
    }

    @Test
    void errors() {
        assertUsage("unknown option '--nope'", "--nope");
        assertUsage("unknown option '-x'", "-x");
        assertUsage("option --vocab needs a value", "--vocab");
        assertUsage("option --vocab needs a value (got option --jsonl)", "--vocab", "--jsonl");
        assertUsage("more than once", "--vocab", "a", "--vocab", "b");
        assertUsage("takes no value", "--jsonl=yes");
        CliException e = assertThrows(CliException.class, () -> parse().required("vocab"));
        assertEquals("'cmd' needs --vocab (see needle --help)", e.getMessage());
        assertThrows(CliException.class, () -> parse("--max-new-tokens", "-1").nonNegativeInt("max-new-tokens", 0));
        assertThrows(CliException.class, () -> parse("--max-new-tokens", "1e3").nonNegativeInt("max-new-tokens", 0));
        assertThrows(CliException.class, () -> parse("a", "b").expectPositionals(1, "one"));
        assertThrows(CliException.class, () -> parse().expectPositionals(1, "one"));
    }

    private static void assertUsage(String messagePart, String... argv) {
        CliException e = assertThrows(CliException.class, () -> parse(argv));
        assertEquals(Main.EXIT_USAGE, e.exitCode());
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
    }
}
