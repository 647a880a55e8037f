package io.needle.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.needle.engine.BatchItem;
import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The buffers a model keeps between requests (the encoder's work buffers, the cross-attention
 * stores a finished request gives back): requests of any length in any order give what a fresh
 * engine gives, and a released decoder state cannot step.
 */
class WorkReuseTest {
    private static final String TOOLS = "[{\"name\":\"send_message\",\"description\":\"Send a text\","
            + "\"parameters\":{\"to\":{\"type\":\"string\",\"required\":true},\"text\":{\"type\":\"string\"}}}]";
    private static final String[] QUERIES = {
        "text Ana that the meeting moved to five and that I will bring the slides, the notes and the budget",
        "hi",
        "send Bo the slides",
        "text Ana that the meeting moved to five and that I will bring the slides, the notes and the budget",
        "tell Cy",
    };

    @Test
    void reusedBuffersGiveAFreshEnginesResults() {
        byte[] file = new ModelWriter().seed(21).vocabSize(2100).dModel(64).heads(4, 2).layers(2, 2).build();
        String vocab = TestVocab.make(2100, 21);
        RunOptions options = new RunOptions().maxNewTokens(24).ignoreEos(true);
        NeedleEngine reused = NeedleEngine.load(file, vocab);
        for (int round = 0; round < 2; round++) {
            for (String q : QUERIES) {
                NeedleEngine fresh = NeedleEngine.load(file, vocab);
                RunResult expected = fresh.run(q, TOOLS, options);
                RunResult actual = reused.run(q, TOOLS, options);
                assertArrayEquals(expected.tokens, actual.tokens, q);
                // the encoder output is the caller's own array: the next request does not change it
                int[] prompt = fresh.prompt(q, TOOLS);
                NeedleModel.EncoderOutput enc = reused.model().encode(prompt);
                float[] copy = enc.enc.clone();
                reused.run(QUERIES[0], TOOLS, options);
                assertArrayEquals(copy, enc.enc, 0f);
                assertArrayEquals(fresh.model().encode(prompt).enc, enc.enc, 0f);
            }
        }
        List<BatchItem> items = new ArrayList<>();
        for (String q : QUERIES) {
            items.add(new BatchItem(q, TOOLS));
        }
        List<RunResult> expected = NeedleEngine.load(file, vocab).runBatch(items, options);
        for (int round = 0; round < 2; round++) {
            List<RunResult> actual = reused.runBatch(items, options);
            for (int i = 0; i < items.size(); i++) {
                assertArrayEquals(expected.get(i).tokens, actual.get(i).tokens, "batch item " + i);
            }
        }
    }

    @Test
    void aReleasedStateCannotStep() {
        NeedleModel model = NeedleEngine.load(ModelWriter.tiny().seed(4).build(), null).model();
        DecoderState state = model.startDecoder(model.encode(new int[] {5, 6, 7}), 4);
        state.step(1);
        state.release();
        state.release(); // twice: nothing more
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> state.step(1));
        assertEquals("this decoder state was released", e.getMessage());
    }
}
