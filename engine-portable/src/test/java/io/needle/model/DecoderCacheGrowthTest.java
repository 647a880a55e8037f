package io.needle.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.needle.base.SpecialTokens;
import io.needle.decoding.Generation;
import io.needle.engine.NeedleEngine;
import io.needle.synthetic.ModelWriter;
import org.junit.jupiter.api.Test;

/**
 * The self-attention cache of a {@link DecoderState} starts small and doubles as the request
 * decodes (a 511-token budget no longer allocates 511 positions per request): past each growth
 * the steps give what the full decoder gives, and the budget still ends the request.
 */
class DecoderCacheGrowthTest {

    @Test
    void theCacheGrowsByDoublingAndTheStepsStayExact() {
        NeedleModel model = NeedleEngine.load(ModelWriter.tiny().seed(21).heads(4, 2).build(), null).model();
        NeedleModel.EncoderOutput enc = model.encode(new int[] {9, 40, 41, 77, 120, 3});
        int steps = 80;
        DecoderState state = model.startDecoder(enc, steps);
        assertEquals(DecoderState.INITIAL_CACHE, state.self[0].capacity, "a small cache first");
        int[] seq = new int[steps];
        int token = SpecialTokens.EOS;
        for (int i = 0; i < steps; i++) {
            seq[i] = token;
            float[] a = state.step(token).clone();
            if (i == DecoderState.INITIAL_CACHE || i == 2 * DecoderState.INITIAL_CACHE || i == steps - 1 || i < 3) {
                FullDecoder.assertStep(model, enc, seq, i, a);
            }
            token = Generation.argmax(a);
        }
        // 32 -> 64 -> 80 (doubling, capped at the budget), every layer alike
        for (Attention.KeyValues kv : state.self) {
            assertEquals(steps, kv.capacity);
        }
        int last = token;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> state.step(last));
        assertEquals("decoder capacity " + steps + " exhausted", e.getMessage());
    }

    @Test
    void longGenerationsPastTheGrowthsAreTheFullDecodersGreedyIds() {
        int longest = 0;
        for (int seed = 30; seed < 36; seed++) {
            NeedleEngine engine = NeedleEngine.load(ModelWriter.tiny().seed(seed).ffn(40, "geglu").build(), null);
            NeedleModel model = engine.model();
            int[] input = {5, 99, 100, 101, 7, seed};
            int[] fast = engine.generate(input, 120);
            NeedleModel.EncoderOutput enc = model.encode(input);
            int[] seq = new int[fast.length + 1];
            seq[0] = SpecialTokens.EOS;
            for (int n = 0; n < fast.length; n++) {
                int[] prefix = new int[n + 1];
                System.arraycopy(seq, 0, prefix, 0, n + 1);
                seq[n + 1] = Generation.argmax(FullDecoder.logits(model, enc, prefix));
                assertEquals(seq[n + 1], fast[n], "seed " + seed + ", id " + n);
            }
            longest = Math.max(longest, fast.length);
        }
        org.junit.jupiter.api.Assertions.assertTrue(longest > 2 * DecoderState.INITIAL_CACHE,
                "some generation grew the cache twice (longest " + longest + " ids)");
    }
}
