package io.needle.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.needle.engine.BatchItem;
import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.model.FullDecoder;
import io.needle.model.Int4Linear;
import io.needle.model.Kernels;
import io.needle.model.NeedleModel;
import java.util.List;

/**
 * What the portable kernels compute for one model on a two-tool request — the encoder output, the
 * full logits of a short sequence, a greedy run, a constrained run (eos ignored) and a batch — and
 * the check that a host's kernels compute the very same floats and tokens.
 */
final class PortableReference {
    static final String TOOLS = "[{\"name\":\"send_message\",\"description\":\"Send a text\","
            + "\"parameters\":{\"to\":{\"type\":\"string\",\"required\":true},\"text\":{\"type\":\"string\"}}},"
            + "{\"name\":\"set_alarm\",\"description\":\"Set an alarm\","
            + "\"parameters\":{\"time\":{\"type\":\"string\",\"required\":true}}}]";
    private static final String QUERY = "text Ana that the meeting moved to five and set an alarm for four thirty";
    private static final int[] SEQUENCE = {1, 7, 3};
    private static final RunOptions EOS_IGNORED = new RunOptions().maxNewTokens(25).ignoreEos(true);
    private static final List<BatchItem> BATCH = List.of(new BatchItem(QUERY, TOOLS), new BatchItem("alarm at six", TOOLS));

    private final byte[] file;
    private final String vocab;
    final NeedleModel model;
    private final int[] prompt;
    private final float[] enc;
    private final float[] logits;
    private final int[] plain;
    private final int[] constrained;
    private final List<RunResult> batched;

    PortableReference(byte[] file, String vocab) {
        this.file = file;
        this.vocab = vocab;
        NeedleEngine engine = NeedleEngine.load(file, vocab);
        model = engine.model();
        prompt = engine.prompt(QUERY, TOOLS);
        NeedleModel.EncoderOutput e = model.encode(prompt);
        enc = e.enc;
        logits = FullDecoder.logits(model, e, SEQUENCE).clone();
        plain = engine.generate(prompt, 30);
        constrained = engine.run(QUERY, TOOLS, EOS_IGNORED).tokens;
        batched = engine.runBatch(BATCH, new RunOptions().maxNewTokens(20));
    }

    /**
     * Loads the model with {@code kernels}: every INT4 linear, every attention block and the logits
     * take a host kernel, and the floats and tokens are the portable ones, bit for bit.
     */
    void assertSameWith(Kernels kernels) {
        NeedleEngine fast = NeedleEngine.load(file, vocab, kernels);
        NeedleModel fm = fast.model();
        long int4 = fm.linears().stream().filter(l -> l instanceof Int4Linear).count();
        assertEquals(int4 + fm.attentions().size() + 1, fm.hostKernelCount(),
                "every INT4 linear, every attention block and the logits");
        NeedleModel.EncoderOutput enc2 = fm.encode(prompt);
        assertBits(enc, enc2.enc, "encoder output");
        assertBits(logits, FullDecoder.logits(fm, enc2, SEQUENCE), "logits");
        assertArrayEquals(plain, fast.generate(prompt, 30));
        assertArrayEquals(constrained, fast.run(QUERY, TOOLS, EOS_IGNORED).tokens);
        List<RunResult> again = fast.runBatch(BATCH, new RunOptions().maxNewTokens(20));
        for (int i = 0; i < BATCH.size(); i++) {
            assertArrayEquals(batched.get(i).tokens, again.get(i).tokens);
        }
    }

    /** Fails unless the two arrays hold the same float bits, naming the first difference. */
    static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                throw new AssertionError(what + ": value " + i + " is " + actual[i] + ", the portable kernels give "
                        + expected[i]);
            }
        }
    }
}
