package io.needle.engine;

import io.needle.decoding.Generation;
import io.needle.grammar.DecodeConstraint;
import io.needle.tools.ToolCatalog;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import io.needle.testing.ParityRule;
import io.needle.testing.Shared;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * With constraints off, the grammar hook must not change decoding: every path of the engine
 * ({@code generate(ids, max)}, {@code generate(ids, tools, options)}, {@code run}, with and without
 * a listener, through a pass-through constraint) gives the same ids, and those match the parity
 * fixtures.
 */
class UnconstrainedPathsTest {
    static final String TOOLS = "[{\"name\":\"getWeather\",\"description\":\"Get the weather\",\"parameters\":"
            + "{\"location\":{\"type\":\"string\",\"required\":true}}}]";

    /** A constraint that masks nothing. */
    static final class PassThrough implements DecodeConstraint {
        int masks;
        int accepts;

        @Override
        public void mask(float[] logits) {
            masks++;
        }

        @Override
        public void accept(int tokenId) {
            accepts++;
        }
    }

    @Test
    void everyUnconstrainedPathMatchesTheParityFixtures() {
        List<String> failures = new ArrayList<>();
        int cases = 0;
        for (String m : Shared.parityModels()) {
            Map<?, ?> fixture = Shared.parityCases(m);
            Map<?, ?> model = (Map<?, ?>) fixture.get("model");
            byte[] weights = Shared.bytes("parity/" + model.get("file"));
            NeedleEngine engine = NeedleEngine.load(weights, vocabFor(weights));
            double tieEps = Double.parseDouble(fixture.get("tie_eps").toString());
            for (Object c : (List<?>) fixture.get("cases")) {
                Map<?, ?> tc = (Map<?, ?>) c;
                int[] input = ParityRule.ints(tc.get("input_ids"));
                int max = Integer.parseInt(tc.get("max_new_tokens").toString());
                int[] plain = engine.generate(input, max);
                String mismatch = ParityRule.mismatch(tc, tieEps, plain);
                if (mismatch != null) {
                    failures.add(m + " " + tc.get("id") + " generate(ids, max): " + mismatch);
                }
                RunOptions off = new RunOptions().maxNewTokens(max).constrain(false);
                assertArrayEquals(plain, engine.generate(input, TOOLS, off), m + " generate(ids, tools, off)");
                assertArrayEquals(plain, engine.generate(input, null, off), m + " generate(ids, null, off)");
                PassThrough pass = new PassThrough();
                Generation g = Generation.run(engine.model(), input, max, pass, null);
                assertArrayEquals(plain, g.ids, m + " through a pass-through constraint");
                assertEquals(g.steps, pass.masks);
                assertEquals(plain.length, pass.accepts);
                cases++;
            }
        }
        assertTrue(cases >= 11, "parity cases: " + cases);
        assertEquals(List.of(), failures);
    }

    /** The fixture vocabulary for an 8192 model, a generated one of the model's size otherwise (p4 has no metadata: the size is the file's). */
    static String vocabFor(byte[] weights) {
        int size = NeedleEngine.load(weights, null).config().vocabSize;
        return size == 8192 ? Shared.vocab() : TestVocab.make(size, size);
    }

    @Test
    void runWithConstraintsOffDecodesThePromptPlainly() {
        String[] queries = {"What's the weather in Paris?", "", "東京の天気 ☀️", "hello hello hello"};
        String[] tools = {TOOLS, "[]", "not json at all is rejected", "[{\"type\":\"function\",\"function\":{\"name\":"
                + "\"SendSMS\",\"parameters\":{\"type\":\"object\",\"properties\":{\"to\":{\"type\":\"string\"}}}}}]"};
        int runs = 0;
        for (String m : Shared.parityModels()) {
            Map<?, ?> model = (Map<?, ?>) Shared.parityCases(m).get("model");
            byte[] weights = Shared.bytes("parity/" + model.get("file"));
            NeedleEngine engine = NeedleEngine.load(weights, vocabFor(weights));
            runs += checkRuns(engine, queries, tools);
        }
        // and random models of the fixture vocabulary
        for (long seed = 1; seed <= 3; seed++) {
            NeedleEngine engine = NeedleEngine.load(new ModelWriter().seed(seed).vocabSize(8192).dModel(32).heads(4, 2)
                    .layers(1, 1).build(), Shared.vocab());
            runs += checkRuns(engine, queries, tools);
        }
        assertTrue(runs >= 80, "runs: " + runs);
    }

    private static int checkRuns(NeedleEngine engine, String[] queries, String[] tools) {
        int runs = 0;
        Random r = new Random(7);
        for (String q : queries) {
            for (String t : tools) {
                if (t.startsWith("not json")) {
                    continue;
                }
                int max = 1 + r.nextInt(40);
                int[] plain = engine.generate(engine.prompt(q, t), max);
                StringBuilder streamed = new StringBuilder();
                RunOptions off = new RunOptions().maxNewTokens(max).constrain(false);
                RunResult a = engine.run(q, t, off);
                RunResult b = engine.run(q, t, new RunOptions().maxNewTokens(max).constrain(false)
                        .listener(new TokenListener() {
                            @Override
                            public void onToken(int tokenId, String piece) {
                                streamed.append(piece);
                            }

                            @Override
                            public void onFinish(String tail) {
                                streamed.append(tail);
                            }
                        }));
                RunResult c = engine.run(q, t, new RunOptions().maxNewTokens(max).constrain(false).wrapper(inner -> {
                    assertNull(inner, "no grammar when constraints are off");
                    return new PassThrough();
                }));
                assertArrayEquals(plain, a.tokens, "run");
                assertArrayEquals(plain, b.tokens, "run with a listener");
                assertArrayEquals(plain, c.tokens, "run through a pass-through constraint");
                assertEquals(a.text, b.text);
                assertEquals(a.text, streamed.toString(), "streamed pieces");
                assertEquals(ToolCatalog.parse(t).restoreNames(engine.outputText(plain)), a.text, "text of the ids");
                assertEquals(plain.length < max, a.complete, "complete = stopped at eos");
                runs++;
            }
        }
        return runs;
    }
}
