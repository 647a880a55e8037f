package io.needle.jvm;

import io.needle.model.FullDecoder;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.needle.engine.BatchItem;
import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.model.Int4Linear;
import io.needle.model.NeedleModel;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The multi-core kernels give the portable kernels' floats bit for bit, so the same tokens: the
 * encoder output, full logits, greedy and constrained runs and a batch, with 2 and 3 threads.
 */
class ParallelKernelsTest {
    private static final String TOOLS = "[{\"name\":\"send_message\",\"description\":\"Send a text\","
            + "\"parameters\":{\"to\":{\"type\":\"string\",\"required\":true},\"text\":{\"type\":\"string\"}}},"
            + "{\"name\":\"set_alarm\",\"description\":\"Set an alarm\","
            + "\"parameters\":{\"time\":{\"type\":\"string\",\"required\":true}}}]";

    @Test
    void sameFloatsAndTokensAsThePortableKernels() {
        // vocab 2100: the logits split in shares of 1024 rows and a remainder; FFN width 72: down_proj's
        // 72 input rows padded to 96 (groups of 32)
        check(new ModelWriter().seed(41).vocabSize(2100).dModel(64).heads(4, 2).layers(2, 2).ffn(72, "geglu"));
    }

    @Test
    void sameFloatsWithAnOddGroupAndPlainLinears() {
        // FFN width 15: down_proj is one group of 15 rows (g = min(32, in), odd), 8 byte rows; one
        // wo stored as a plain F32 linear (not an Int4Linear: no kernel for it); no metadata
        check(new ModelWriter().seed(43).vocabSize(2100).dModel(64).heads(4, 2).layers(2, 1).ffn(15, "drelu")
                .linearDtype("decoder.0.self_attn.wo", io.needle.synthetic.TensorType.F32)
                .metadata(ModelWriter.Metadata.NONE));
    }

    private static void check(ModelWriter w) {
        byte[] file = w.build();
        String vocab = TestVocab.make(2100, 41);
        NeedleEngine engine = NeedleEngine.load(file, vocab);
        NeedleModel model = engine.model();
        String query = "text Ana that the meeting moved to five and set an alarm for four thirty";
        int[] prompt = engine.prompt(query, TOOLS);
        NeedleModel.EncoderOutput enc = model.encode(prompt);
        float[] logits = FullDecoder.logits(model, enc, new int[] {1, 7, 3}).clone();
        int[] plain = engine.generate(prompt, 30);
        RunOptions eosIgnored = new RunOptions().maxNewTokens(25).ignoreEos(true);
        RunResult constrained = engine.run(query, TOOLS, eosIgnored);
        List<BatchItem> batch = List.of(new BatchItem(query, TOOLS), new BatchItem("alarm at six", TOOLS));
        List<RunResult> batched = engine.runBatch(batch, new RunOptions().maxNewTokens(20));

        for (int threads : new int[] {2, 3}) {
            try (ParallelKernels kernels = new ParallelKernels(threads)) {
                NeedleEngine fast = NeedleEngine.load(file, vocab, kernels);
                NeedleModel fm = fast.model();
                long int4 = fm.linears().stream().filter(l -> l instanceof Int4Linear).count();
                assertEquals(int4 + fm.attentions().size() + 1, fm.hostKernelCount(),
                        "every INT4 linear, every attention block and the logits");
                NeedleModel.EncoderOutput enc2 = fm.encode(prompt);
                for (int i = 0; i < enc.enc.length; i++) {
                    assertEquals(Float.floatToIntBits(enc.enc[i]), Float.floatToIntBits(enc2.enc[i]), "enc " + i);
                }
                float[] logits2 = FullDecoder.logits(fm, enc2, new int[] {1, 7, 3});
                for (int v = 0; v < logits.length; v++) {
                    assertEquals(Float.floatToIntBits(logits[v]), Float.floatToIntBits(logits2[v]), "logit " + v);
                }
                assertArrayEquals(plain, fast.generate(prompt, 30));
                assertArrayEquals(constrained.tokens, fast.run(query, TOOLS, eosIgnored).tokens);
                List<RunResult> again = fast.runBatch(batch, new RunOptions().maxNewTokens(20));
                for (int i = 0; i < batch.size(); i++) {
                    assertArrayEquals(batched.get(i).tokens, again.get(i).tokens);
                }
            }
        }
        assertNull(((Int4Linear) model.linears().get(0)).kernel());
    }

    @Test
    void oneThreadKeepsThePortableKernels() {
        try (ParallelKernels kernels = new ParallelKernels(1)) {
            NeedleEngine engine = NeedleEngine.load(ModelWriter.tiny().seed(3).build(), null, kernels);
            assertEquals(0, engine.model().hostKernelCount());
        }
    }
}
