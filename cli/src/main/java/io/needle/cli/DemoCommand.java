package io.needle.cli;

import io.needle.engine.NeedleEngine;
import io.needle.engine.RunResult;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code needle demo}: a smoke test of the installation that needs no network and no files. It
 * builds a small model with RANDOM weights and a generated vocabulary in memory
 * ({@link ModelWriter}, {@link TestVocab#wordPrefixes}), then runs the whole pipeline (tools
 * normalization, prompt, tokenizer, encoder, decoder, constrained decoding, detokenization) on the
 * needle-rs example tools and prints each query's calls and timings. The weights are random, so
 * the calls are meaningless; they are still always valid JSON calls to the declared tools, which is
 * what the constrained decoder guarantees.
 */
final class DemoCommand {
    /** The seed of the demo model and vocabulary. */
    static final long SEED = 19;
    /** The demo vocabulary size (the model's vocab_size). */
    static final int VOCAB_SIZE = 1024;

    /** needle-rs's example tools (its CLI quick start: get_weather; its usage text: book_flight), JSON-Schema form. */
    static final String TOOLS = "[{\"name\":\"get_weather\",\"description\":\"Get current weather for a city\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{"
            + "\"location\":{\"type\":\"string\",\"description\":\"City name\"},"
            + "\"unit\":{\"type\":\"string\",\"description\":\"celsius or fahrenheit\"}},\"required\":[\"location\"]}},"
            + "{\"name\":\"book_flight\",\"description\":\"Book flight\",\"parameters\":{\"type\":\"object\","
            + "\"properties\":{\"origin\":{\"type\":\"string\",\"description\":\"Departure city\"},"
            + "\"destination\":{\"type\":\"string\",\"description\":\"Arrival city\"},"
            + "\"date\":{\"type\":\"string\",\"description\":\"Day of travel\"}}}}]";

    /** The demo queries (needle-rs's examples first). */
    static final List<String> QUERIES = List.of(
            "What's the weather in Paris?",
            "Book a flight",
            "Book a flight from London to New York tomorrow");

    private DemoCommand() {
    }

    static int run(String[] argv, int from, PrintStream out) {
        Args a = Args.parse("demo", argv, from, List.of(), List.of());
        a.expectPositionals(0, "no arguments");
        long t0 = System.nanoTime();
        ModelWriter model = model();
        NeedleEngine engine = NeedleEngine.load(model.build(), TestVocab.wordPrefixes(VOCAB_SIZE, SEED));
        double buildMs = (System.nanoTime() - t0) / 1e6;

        out.print("needle demo: a smoke test with RANDOM weights; the calls below are meaningless.\n"
                + "model: random, generated in memory with its vocabulary: " + model.describe() + ", seed " + SEED
                + "\n"
                + "It runs the whole pipeline on the needle-rs example tools: tools normalization, prompt,\n"
                + "tokenizer, encoder, decoder and constrained decoding, which keeps every answer a valid\n"
                + "call list even from random weights. For real answers: needle QUERY TOOLS (downloads the\n"
                + "model on first use).\n\n");
        out.print("tools: " + TOOLS + "\n");
        for (String query : QUERIES) {
            RunResult r = engine.run(query, TOOLS);
            out.print("\nquery: " + query + "\n");
            out.print("calls: " + r.text + "\n");
            if (!r.complete) {
                out.print("(incomplete: the token budget ran out)\n");
            }
            out.print(RunCommand.timingsLine(r.timings, engine.loadMs()) + "\n");
            out.flush();
        }
        out.print("\nneedle demo: OK - random model built and loaded in " + Math.round(buildMs) + " ms; Java "
                + System.getProperty("java.version") + " on " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ". The weights were random.\n");
        out.flush();
        return Main.EXIT_OK;
    }

    /** The demo model: small and quick, the real model's layout. */
    static ModelWriter model() {
        return new ModelWriter().seed(SEED).vocabSize(VOCAB_SIZE).dModel(64).heads(4, 2).layers(2, 2);
    }
}
