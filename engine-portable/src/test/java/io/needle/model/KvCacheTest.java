package io.needle.model;

import io.needle.base.SpecialTokens;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.decoding.Generation;
import io.needle.engine.NeedleEngine;
import io.needle.synthetic.ModelWriter;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** KV-cached decoding gives exactly what re-running the full decoder every step gives. */
class KvCacheTest {

    private static ModelWriter[] configs() {
        return new ModelWriter[] {
            ModelWriter.tiny().seed(11),
            ModelWriter.tiny().seed(12).heads(4, 4),
            ModelWriter.tiny().seed(13).heads(4, 1).ffn(48, "swiglu"),
            ModelWriter.tiny().seed(14).ffn(40, "geglu").layers(1, 3),
            ModelWriter.tiny().seed(15).ffn(64, "drelu").ropeTheta(500),
        };
    }

    @Test
    void cachedStepsEqualFullRecomputation() {
        Random r = new Random(7);
        int compared = 0;
        for (ModelWriter w : configs()) {
            NeedleModel model = NeedleEngine.load(w.build(), null).model();
            for (int trial = 0; trial < 3; trial++) {
                int[] input = randomIds(r, model.config.vocabSize, 3 + r.nextInt(30));
                NeedleModel.EncoderOutput enc = model.encode(input);
                int steps = 24;
                DecoderState cached = model.startDecoder(enc, steps);
                int[] seq = new int[steps];
                int token = SpecialTokens.EOS;
                for (int i = 0; i < steps; i++) {
                    seq[i] = token;
                    float[] a = cached.step(token);
                    FullDecoder.assertStep(model, enc, seq, i, a);
                    token = Generation.argmax(a);
                    compared++;
                }
            }
        }
        assertTrue(compared >= 300);
    }

    @Test
    void generatedIdsEqualGreedyOverTheFullDecoder() {
        Random r = new Random(8);
        for (ModelWriter w : configs()) {
            NeedleEngine engine = NeedleEngine.load(w.build(), null);
            NeedleModel model = engine.model();
            int[] input = randomIds(r, model.config.vocabSize, 20);
            int[] fast = engine.generate(input, 30);
            // greedy over the reference path, same stopping rule
            NeedleModel.EncoderOutput enc = model.encode(input);
            int[] seq = new int[31];
            seq[0] = SpecialTokens.EOS;
            int n = 0;
            while (n < 30) {
                int[] prefix = new int[n + 1];
                System.arraycopy(seq, 0, prefix, 0, n + 1);
                int next = Generation.argmax(FullDecoder.logits(model, enc, prefix));
                if (next == SpecialTokens.EOS) {
                    break;
                }
                seq[++n] = next;
            }
            int[] slow = new int[n];
            System.arraycopy(seq, 1, slow, 0, n);
            assertArrayEquals(slow, fast);
        }
    }

    @Test
    void randomTestModelsGiveVariedSequences() {
        // the writer's default scales must make tests meaningful: not eos at once, not one repeated id
        Random r = new Random(9);
        Set<Integer> distinct = new HashSet<>();
        int longOutputs = 0;
        for (ModelWriter w : configs()) {
            NeedleEngine engine = NeedleEngine.load(w.build(), null);
            for (int trial = 0; trial < 4; trial++) {
                int[] out = engine.generate(randomIds(r, engine.config().vocabSize, 16), 20);
                if (out.length >= 5) {
                    longOutputs++;
                }
                for (int id : out) {
                    distinct.add(id);
                }
            }
        }
        assertTrue(longOutputs >= 10, "most random generations should run on, got " + longOutputs);
        assertTrue(distinct.size() >= 30, "random models should produce varied ids, got " + distinct.size());
    }

    static int[] randomIds(Random r, int vocab, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 2 + r.nextInt(vocab - 2);
        }
        return ids;
    }
}
