package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.engine.ToolScore;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code needle retrieve}: one line per result, {@code index<TAB>score}, best first. */
class RetrieveCommandTest {
    static final String[] DESCRIPTIONS = {"Get the current weather for a city", "Set an alarm at a given time",
        "Send a text message to a contact", "Play a song, artist or genre", "Search for flights",
        "Météo à Paris ☀️", "Book a table at a restaurant"};

    @TempDir
    static Path tmp;
    static String weights;
    static String vocab;
    static NeedleEngine engine;

    @BeforeAll
    static void model() {
        ModelWriter w = ModelWriter.tiny().seed(21).contrastive(16).contrastiveStd(0.5);
        String v = TestVocab.make(w.vocabSize(), 21);
        byte[] file = w.build();
        weights = Cli.write(tmp, "head.safetensors", file).toString();
        vocab = Cli.write(tmp, "head-vocab.txt", v).toString();
        engine = NeedleEngine.load(file, v);
    }

    private static String[] args(String query, String... extra) {
        String[] base = {"retrieve", "--weights", weights, "--vocab", vocab, "--query", query};
        String[] all = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    private static String expected(String query, List<String> descriptions, int k) {
        StringBuilder sb = new StringBuilder();
        for (ToolScore s : engine.retrieveTools(query, descriptions, k)) {
            sb.append(s.index).append('\t').append(RetrieveCommand.score(s.score)).append('\n');
        }
        return sb.toString();
    }

    @Test
    void printsIndexTabScoreBestFirst() {
        for (String q : new String[] {"what's the weather", "wake me up at seven", "東京"}) {
            Cli r = Cli.run(args(q, DESCRIPTIONS)).ok();
            assertEquals(expected(q, Arrays.asList(DESCRIPTIONS), 5), r.out);
            String[] lines = r.lines();
            assertEquals(5, lines.length, "default top-k");
            double previous = Double.MAX_VALUE;
            for (String line : lines) {
                assertTrue(line.matches("[0-6]\t-?[01]\\.\\d{6}"), line);
                double score = Double.parseDouble(line.split("\t")[1]);
                assertTrue(score <= previous, "best first");
                previous = score;
            }
        }
        // the same description as the query ranks first with score 1
        assertEquals("3\t1.000000", Cli.run(args(DESCRIPTIONS[3], DESCRIPTIONS)).ok().lines()[0]);
    }

    @Test
    void topK() {
        String q = "weather";
        assertEquals(expected(q, Arrays.asList(DESCRIPTIONS), 2),
                Cli.run(concat(args(q, "--top-k", "2"), DESCRIPTIONS)).ok().out);
        assertEquals("", Cli.run(concat(args(q, "--top-k", "0"), DESCRIPTIONS)).ok().out);
        assertEquals(3, Cli.run(args(q, "--top-k=10", "a", "b", "c")).ok().lines().length);
        Cli.run(concat(args(q, "--top-k", "-1"), DESCRIPTIONS)).fails(Main.EXIT_USAGE, "non-negative integer");
        Cli.run(concat(args(q, "--top-k", "x"), DESCRIPTIONS)).fails(Main.EXIT_USAGE, "--top-k");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void descriptionsAndQueryFromStdinAndFiles() {
        Path d = Cli.write(tmp, "desc.txt", DESCRIPTIONS[5] + "\n");
        Path q = Cli.write(tmp, "query.txt", "météo\n");
        String expected = expected("météo", Arrays.asList(DESCRIPTIONS[0], DESCRIPTIONS[5], DESCRIPTIONS[1]), 5);
        assertEquals(expected, Cli.runWithInput(DESCRIPTIONS[1] + "\n", args("@" + q, DESCRIPTIONS[0], "@" + d, "-"))
                .ok().out);
        Cli.runWithInput("x", args("-", "-")).fails(Main.EXIT_USAGE, "can be read only once");
        // a description starting with '-' after '--'
        assertEquals(2, Cli.run(args("q", "--", "-starts with a dash", "other")).ok().lines().length);
    }

    @Test
    void errors() {
        Cli.run(args("weather")).fails(Main.EXIT_USAGE, "needs at least one DESCRIPTION");
        Cli.run("retrieve", "--weights", weights, "--vocab", vocab, "a").fails(Main.EXIT_USAGE, "needs --query");
        Cli.run("retrieve", "--weights", weights, "--query", "q", "a").fails(Main.EXIT_USAGE, "needs both --weights and --vocab");
        Cli.run(args("q", "--bogus", "a")).fails(Main.EXIT_USAGE, "unknown option '--bogus'");
        Cli.run(args("q", "@" + tmp.resolve("missing.txt"))).fails(Main.EXIT_ERROR, "cannot read description 1 file");
        // a model without the contrastive head
        Path[] plain = Cli.tinyModel(tmp, 22);
        Cli.run("retrieve", "--weights", plain[0].toString(), "--vocab", plain[1].toString(), "--query", "q", "a", "b")
                .fails(Main.EXIT_ERROR, "no contrastive head");
    }

    @Test
    void scoreFormat() {
        assertEquals("0.500000", RetrieveCommand.score(0.5f));
        assertEquals("1.000000", RetrieveCommand.score(1f));
        assertEquals("-0.250000", RetrieveCommand.score(-0.25f));
        assertEquals("0.000000", RetrieveCommand.score(-1e-9f));
        assertEquals("0.000000", RetrieveCommand.score(0f));
        assertEquals("0.123457", RetrieveCommand.score(0.1234567f));
        assertEquals("-0.999999", RetrieveCommand.score(-0.999999f));
    }
}
