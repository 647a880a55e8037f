package io.needle.engine;

import io.needle.base.SpecialTokens;
import io.needle.tools.SnakeCase;
import io.needle.tools.ToolCatalog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.json.Json;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import io.needle.testing.Shared;
import io.needle.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The constrained decoder's guarantee (docs/spec/DECODING.md) as a property over many seeded random models and
 * random tool catalogues: every output of {@link NeedleEngine#run} is a valid JSON array of calls to
 * declared tools (original names restored) with declared keys, each once, typed values, required keys
 * present, or it is flagged incomplete and is then a prefix of such an output. Checked by an
 * independent parser ({@link OutputChecker}) and by {@link Json#parse}.
 *
 * <p>Random models mostly answer {@code []} at once, so most runs go through {@link Perturbation}
 * (seeded noise on the allowed logits, {@code ]} held back for a while), which makes the outputs
 * contain calls with arguments of every kind; the grammar still decides what is allowed. Every run
 * also checks streaming: the pieces plus the tail are exactly the text.
 */
class ConstrainedPropertyTest {
    static final int GENERATIONS = 1000;

    static final String[] QUERIES = {"What's the weather in Paris?", "", "hello",
        "Quel temps fait-il à Paris ? ☀️", "東京の天気を教えて", "Set an alarm for 7 am and send a message to Bob",
        "Play some jazz in the kitchen, volume 30", "Convert 100 USD to EUR 💶", "book a table for 2 at 8pm"};

    /** One loaded random model and what the perturbation needs of its vocabulary. */
    static final class Subject {
        final String label;
        final NeedleEngine engine;
        final Perturbation.Classes classes;

        Subject(String label, NeedleEngine engine) {
            this.label = label;
            this.engine = engine;
            this.classes = new Perturbation.Classes(engine.tokenizer());
        }
    }

    /** Random models: with the fixture vocabulary (8192) and with small generated vocabularies. */
    static List<Subject> subjects() {
        List<Subject> s = new ArrayList<>();
        String fixtureVocab = Shared.vocab();
        s.add(subject("v8192 d32 L1/1", new ModelWriter().seed(101).vocabSize(8192).dModel(32).heads(4, 2).layers(1, 1), fixtureVocab));
        s.add(subject("v8192 d64 L1/2", new ModelWriter().seed(102).vocabSize(8192).dModel(64).heads(4, 2).layers(1, 2), fixtureVocab));
        s.add(subject("v8192 d48 L2/1 ffn", new ModelWriter().seed(103).vocabSize(8192).dModel(48).heads(4, 4).layers(2, 1)
                .ffn(96, "swiglu"), fixtureVocab));
        int[] sizes = {TestVocab.MIN_SIZE, 400, 512, 700, 1000};
        for (int i = 0; i < sizes.length; i++) {
            // small vocabularies make long prompts: one encoder layer (its cost grows with the square)
            ModelWriter w = new ModelWriter().seed(200 + i).vocabSize(sizes[i]).dModel(i == 3 ? 64 : 32)
                    .heads(4, i % 2 == 0 ? 2 : 4).layers(1, 1 + i % 2);
            s.add(subject("v" + sizes[i] + " d" + w.dModel(), w, TestVocab.make(sizes[i], 300 + i)));
        }
        return s;
    }

    static Subject subject(String label, ModelWriter w, String vocab) {
        return new Subject(label, NeedleEngine.load(w.build(), vocab));
    }

    /** What one run is checked against, and the statistics. */
    static final class Stats {
        int runs;
        int complete;
        int incomplete;
        int withCall;
        int calls;
        int renamedRestored;
        int splitMultiByte;
        int emptyArray;
        double encodeMs;
        double decodeMs;
        long prefill;
        long steps;
        final Map<RandomCatalog.Kind, Integer> args = new EnumMap<>(RandomCatalog.Kind.class);

        @Override
        public String toString() {
            return runs + " runs: " + complete + " complete, " + incomplete + " incomplete; " + withCall
                    + " with >= 1 call (" + calls + " calls), " + emptyArray + " answered [], " + renamedRestored
                    + " with a restored (renamed) name, " + splitMultiByte
                    + " with a multi-byte character split over byte tokens; arguments by kind: " + args
                    + "; encode " + Math.round(encodeMs) + " ms (" + prefill + " tokens), decode " + Math.round(decodeMs)
                    + " ms (" + steps + " steps)";
        }
    }

    @Test
    void everyOutputIsValidOrFlaggedIncomplete() {
        List<Subject> subjects = subjects();
        Random r = new Random(20240611L);
        Stats stats = new Stats();
        List<String> failures = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int g = 0; g < GENERATIONS; g++) {
            Subject subject = subjects.get(r.nextInt(subjects.size()));
            RandomCatalog catalog = RandomCatalog.make(r);
            String query = QUERIES[r.nextInt(QUERIES.length)];
            int max = r.nextInt(5) == 0 ? r.nextInt(12) : 30 + r.nextInt(170);
            boolean perturb = r.nextInt(8) != 0;
            long seed = r.nextLong();
            float noise = r.nextInt(6) == 0 ? 0.5f : 50f;
            int hold = r.nextInt(80);
            double structure = 0.2 + 0.6 * r.nextDouble();
            String where = "run " + g + " on " + subject.label + " (perturb " + perturb + ", max " + max
                    + ", seed " + seed + "), query " + Json.quote(query) + ", tools " + catalog.json;
            try {
                runOnce(subject, catalog, query, max, perturb
                        ? inner -> new Perturbation(inner, subject.classes, seed, noise, hold, structure) : null,
                        stats);
            } catch (AssertionError | RuntimeException e) {
                failures.add(where + ": " + e + " " + lastTokens(subject));
            }
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(failures.size() + " of " + GENERATIONS + " runs failed; the first ones:\n"
                    + String.join("\n", failures.subList(0, Math.min(5, failures.size()))));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.println("[constrained property] " + stats + " in " + Math.round(seconds * 10) / 10.0 + " s");
        assertEquals(GENERATIONS, stats.runs);
        // the perturbation must make the property test meaningful: calls and arguments of every kind
        assertTrue(stats.withCall > GENERATIONS / 3, stats.toString());
        for (RandomCatalog.Kind k : RandomCatalog.Kind.values()) {
            assertTrue(stats.args.getOrDefault(k, 0) >= 20, "too few " + k + " arguments: " + stats);
        }
        assertTrue(stats.incomplete > 50 && stats.complete > 300, stats.toString());
        assertTrue(stats.renamedRestored > 20, stats.toString());
        assertTrue(stats.splitMultiByte > 5, stats.toString());
    }

    /** The tokens of the last run (for failure messages), null when it failed before producing them. */
    static int[] lastTokens;

    static String lastTokens(Subject s) {
        if (lastTokens == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder("tokens:");
        for (int id : lastTokens) {
            sb.append(' ').append(id).append('=').append(s.engine.tokenizer().piece(id));
        }
        return sb.toString();
    }

    /** One run with every check; returns its result. */
    static RunResult runOnce(Subject subject, RandomCatalog catalog, String query, int max,
            RunOptions.ConstraintWrapper wrapper, Stats stats) {
        lastTokens = null;
        NeedleEngine engine = subject.engine;
        Tokenizer tok = engine.tokenizer();
        StringBuilder streamed = new StringBuilder();
        int[] finishes = {0};
        RunOptions options = new RunOptions().maxNewTokens(max).listener(new TokenListener() {
            @Override
            public void onToken(int tokenId, String piece) {
                streamed.append(piece);
            }

            @Override
            public void onFinish(String tail) {
                streamed.append(tail);
                finishes[0]++;
            }
        });
        if (wrapper != null) {
            options.wrapper(wrapper);
        }
        RunResult res = engine.run(query, catalog.json, options);
        String text = res.text;
        int[] ids = res.tokens;
        lastTokens = ids;

        // streaming: the pieces and the tail are exactly the text
        assertEquals(1, finishes[0], "onFinish once");
        assertEquals(text, streamed.toString(), "streamed pieces");

        // the tokens: <tool_call> first, within the budget, the text is their decoding with names restored
        assertTrue(ids.length <= max, "budget");
        if (ids.length > 0) {
            assertEquals(SpecialTokens.TOOL_CALL, ids[0], "<tool_call> first");
        }
        assertEquals(ToolCatalog.parse(catalog.json).restoreNames(engine.outputText(ids)), text, "text of the tokens");

        Map<RandomCatalog.Kind, Integer> kinds = new EnumMap<>(RandomCatalog.Kind.class);
        int[] calls = {0};
        if (res.complete) {
            assertEquals(OutputChecker.Verdict.COMPLETE, OutputChecker.check(text, catalog, kinds, calls), text);
            OutputChecker.checkParsed(text, catalog);
            assertNotNull(res.calls, "calls of a complete output");
            assertEquals(Json.write(Json.parse(text)), Json.write(res.calls));
            assertTrue(!text.contains("\uFFFD"), "no replacement character in a complete output");
        } else {
            // the budget ran out (the grammar never leaves no token allowed)
            assertEquals(max, ids.length, "incomplete before the budget ran out");
            String prefix = text;
            if (ids.length > 0 && tok.isByte(ids[ids.length - 1])) {
                while (prefix.endsWith("\uFFFD")) { // bytes of an unfinished character
                    prefix = prefix.substring(0, prefix.length() - 1);
                }
            }
            assertEquals(OutputChecker.Verdict.PREFIX, OutputChecker.check(prefix, catalog, kinds, calls),
                    "an incomplete output must not be a complete one: " + text);
            assertNull(res.calls, "calls of an incomplete output");
        }

        if (stats != null) {
            stats.encodeMs += res.timings.encodeMs;
            stats.decodeMs += res.timings.decodeMs;
            stats.prefill += res.timings.prefillTokens;
            stats.steps += res.timings.decodeTokens;
            stats.runs++;
            if (res.complete) {
                stats.complete++;
            } else {
                stats.incomplete++;
            }
            if (calls[0] > 0) {
                stats.withCall++;
                stats.calls += calls[0];
            }
            if (res.complete && text.equals("[]")) {
                stats.emptyArray++;
            }
            for (Map.Entry<RandomCatalog.Kind, Integer> e : kinds.entrySet()) {
                stats.args.merge(e.getKey(), e.getValue(), Integer::sum);
            }
            if (res.calls != null) {
                for (Object c : res.calls) {
                    String name = (String) ((Map<?, ?>) c).get("name");
                    if (!name.equals(SnakeCase.of(name))) {
                        stats.renamedRestored++;
                        break;
                    }
                }
            }
            for (int i = 0; i + 1 < ids.length; i++) {
                // a UTF-8 lead byte token followed by a (continuation) byte token
                if (tok.isByte(ids[i]) && (tok.tokenBytes(ids[i])[0] & 0xff) >= 0xC2 && tok.isByte(ids[i + 1])) {
                    stats.splitMultiByte++;
                    break;
                }
            }
        }
        return res;
    }
}
