package io.needle.model;

import io.needle.base.SpecialTokens;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.needle.engine.NeedleEngine;
import io.needle.synthetic.ModelWriter;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Decoders stepped together ({@link DecoderBatch}) give each request the logits of its own
 * {@link DecoderState#step}, bit for bit: different encoder lengths (and padding), positions,
 * tokens, full logits and allowed subsets, requests joining and leaving the batch.
 */
class DecoderBatchTest {

    @Test
    void batchedStepsEqualSingleSteps() {
        ModelWriter w = new ModelWriter().seed(91).vocabSize(700).dModel(64).heads(4, 2).layers(2, 3)
                .ffn(48, "swiglu");
        NeedleModel model = NeedleEngine.load(w.build(), null).model();
        Random r = new Random(92);
        int n = 5;
        DecoderState[] single = new DecoderState[n];
        DecoderState[] batched = new DecoderState[n];
        for (int k = 0; k < n; k++) {
            int[] ids = new int[3 + 7 * k];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = i == 4 ? SpecialTokens.PAD : 2 + r.nextInt(690);
            }
            NeedleModel.EncoderOutput enc = model.encode(ids);
            single[k] = model.startDecoder(enc, 40);
            batched[k] = model.startDecoder(enc, 40);
        }
        DecoderBatch batch = new DecoderBatch(model);
        int[] subset = {3, 17, 42, 699, 5};
        for (int step = 0; step < 12; step++) {
            // request k takes part from step k/2 on, and request 4 leaves after step 8
            DecoderState[] states = new DecoderState[n];
            int[] tokens = new int[n];
            int[][] subsets = new int[n][];
            int[] counts = new int[n];
            int[] who = new int[n];
            int count = 0;
            for (int k = 0; k < n; k++) {
                if (step < k / 2 || (k == 4 && step > 8)) {
                    continue;
                }
                who[count] = k;
                states[count] = batched[k];
                tokens[count] = r.nextInt(700);
                if (k % 2 == 1) {
                    subsets[count] = subset;
                    counts[count] = subset.length;
                }
                count++;
            }
            batch.step(states, tokens, subsets, counts, count);
            for (int c = 0; c < count; c++) {
                int k = who[c];
                float[] expected = subsets[c] == null ? single[k].step(tokens[c])
                        : single[k].step(tokens[c], subsets[c], counts[c]);
                float[] got = DecoderBatch.logits(states[c]);
                assertEquals(single[k].position(), batched[k].position());
                for (int v = 0; v < expected.length; v++) {
                    assertEquals(Float.floatToIntBits(expected[v]), Float.floatToIntBits(got[v]),
                            "step " + step + " request " + k + " logit " + v);
                }
            }
        }
    }
}
