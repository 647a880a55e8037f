package io.needle.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.BatchItem;
import io.needle.engine.NeedleEngine;
import io.needle.engine.RunResult;
import io.needle.engine.RunOptions;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The work cut into shares that a host's {@link Tasks} may run at the same time: the encoder in
 * shares of rows ({@code NeedleModel.encode}), a batch step in shares of requests ({@link
 * DecoderBatch#step}). Whatever the number of shares and the order the tasks run in, the encoder
 * output is the one of the whole sequence at once, bit for bit, and the tokens are the same.
 */
class TaskSharesTest {
    private static final String TOOLS = "[{\"name\":\"send_message\",\"description\":\"Send a text\","
            + "\"parameters\":{\"to\":{\"type\":\"string\",\"required\":true},\"text\":{\"type\":\"string\"}}}]";

    /** Runs the tasks one after another, last first; records how many ran in each call. */
    static final class ReversedTasks implements Tasks {
        final int parallelism;
        final List<Integer> counts = new ArrayList<>();

        ReversedTasks(int parallelism) {
            this.parallelism = parallelism;
        }

        @Override
        public int parallelism() {
            return parallelism;
        }

        @Override
        public void run(int count, Task task) {
            counts.add(count);
            for (int i = count - 1; i >= 0; i--) {
                task.run(i);
            }
        }
    }

    /** No kernels of their own: only the tasks. */
    static Kernels withTasks(Tasks tasks) {
        return new Kernels() {
            @Override
            public Int4Kernel int4(Int4Linear linear) {
                return null;
            }

            @Override
            public LogitsKernel logits(Embedding embedding) {
                return null;
            }

            @Override
            public Tasks tasks() {
                return tasks;
            }
        };
    }

    @Test
    void sharesGiveTheWholeSequencesFloats() {
        byte[] file = new ModelWriter().seed(12).vocabSize(600).dModel(64).heads(4, 2).layers(3, 1)
                .ffn(96, "swiglu").build();
        NeedleModel whole = NeedleEngine.load(file, null).model();
        Random random = new Random(5);
        for (int parallelism : new int[] {2, 3, 8}) {
            ReversedTasks tasks = new ReversedTasks(parallelism);
            NeedleModel split = NeedleEngine.load(file, null, withTasks(tasks)).model();
            assertEquals(tasks, split.tasks());
            for (int length : new int[] {1, 15, 16, 31, 32, 33, 47, 100, 129}) {
                int[] ids = new int[length];
                for (int t = 0; t < length; t++) {
                    ids[t] = random.nextInt(600);
                }
                ids[length - 1] = io.needle.base.SpecialTokens.PAD; // a masked key too
                tasks.counts.clear();
                NeedleModel.EncoderOutput expected = whole.encode(ids);
                NeedleModel.EncoderOutput actual = split.encode(ids);
                int shares = Math.max(1, Math.min(parallelism, length / NeedleModel.MIN_SHARE_ROWS));
                assertEquals(2 * 3, tasks.counts.size(), "two meeting points per layer");
                for (int c : tasks.counts) {
                    assertEquals(shares, c, "shares of " + length + " rows, parallelism " + parallelism);
                }
                assertEquals(expected.length, actual.length);
                assertArrayEquals(expected.valid, actual.valid);
                for (int i = 0; i < expected.enc.length; i++) {
                    assertEquals(Float.floatToIntBits(expected.enc[i]), Float.floatToIntBits(actual.enc[i]),
                            "value " + i + " of " + length + " rows in " + shares + " shares");
                }
            }
        }
    }

    @Test
    void sameTokensWithShares() {
        byte[] file = new ModelWriter().seed(13).vocabSize(2100).dModel(64).heads(4, 2).layers(2, 2).build();
        String vocab = TestVocab.make(2100, 13);
        String query = "text Ana that the meeting moved to five and that I will bring the slides and the notes";
        NeedleEngine whole = NeedleEngine.load(file, vocab);
        ReversedTasks tasks = new ReversedTasks(2);
        NeedleEngine split = NeedleEngine.load(file, vocab, withTasks(tasks));
        RunOptions options = new RunOptions().maxNewTokens(20).ignoreEos(true);
        int[] expected = whole.run(query, TOOLS, options).tokens;
        tasks.counts.clear();
        assertArrayEquals(expected, split.run(query, TOOLS, options).tokens);
        assertTrue(tasks.counts.stream().allMatch(c -> c == 2), "the prompt was encoded in 2 shares: " + tasks.counts);
    }

    @Test
    void batchStepsInSharesGiveTheSameTokens() {
        byte[] file = new ModelWriter().seed(14).vocabSize(2100).dModel(64).heads(4, 2).layers(2, 2).build();
        String vocab = TestVocab.make(2100, 14);
        List<BatchItem> items = new ArrayList<>();
        String[] queries = {"text Ana that I am late", "send Bo the slides", "tell Cy hello", "message Di about dinner at eight",
            "text Ed", "send a note to Flo that the meeting moved"};
        for (String q : queries) {
            items.add(new BatchItem(q, TOOLS));
        }
        RunOptions options = new RunOptions().maxNewTokens(18).ignoreEos(true);
        List<RunResult> expected = NeedleEngine.load(file, vocab).runBatch(items, options);
        RunOptions full = new RunOptions().maxNewTokens(12).ignoreEos(true).constrain(false);
        List<RunResult> expectedFull = NeedleEngine.load(file, vocab).runBatch(items, full);
        for (int parallelism : new int[] {2, 3, 8}) {
            ReversedTasks tasks = new ReversedTasks(parallelism);
            NeedleEngine split = NeedleEngine.load(file, vocab, withTasks(tasks));
            List<RunResult> actual = split.runBatch(items, options);
            assertTrue(tasks.counts.contains(Math.min(parallelism, items.size())),
                    "the batch steps ran in shares: " + tasks.counts);
            List<RunResult> actualFull = split.runBatch(items, full);
            for (int i = 0; i < items.size(); i++) {
                assertArrayEquals(expected.get(i).tokens, actual.get(i).tokens, "item " + i + ", constrained");
                assertArrayEquals(expectedFull.get(i).tokens, actualFull.get(i).tokens, "item " + i + ", full logits");
            }
        }
    }
}
