package io.needle.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.needle.engine.BatchItem;
import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.model.Kernels;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * One engine serving several threads at once (as `needle serve` does), with the multi-core kernels
 * and their tasks: every request gets the tokens it gets alone, whatever runs beside it (the
 * buffers the model keeps between requests, the RoPE tables, the kernels' threads).
 */
class ConcurrentRequestsTest {
    private static final String[] QUERIES = {
        "text Ana that the meeting moved to five and that I will bring the slides and the notes",
        "alarm at six",
        "send Bo a message that dinner is at eight and set an alarm for seven thirty tomorrow",
        "hi",
    };

    @Test
    void concurrentRequestsGetTheirOwnTokens() throws Exception {
        byte[] file = new ModelWriter().seed(31).vocabSize(2100).dModel(64).heads(4, 2).layers(2, 2).build();
        String vocab = TestVocab.make(2100, 31);
        String tools = PortableReference.TOOLS;
        RunOptions options = new RunOptions().maxNewTokens(30).ignoreEos(true);
        NeedleEngine alone = NeedleEngine.load(file, vocab);
        List<int[]> expected = new ArrayList<>();
        for (String q : QUERIES) {
            expected.add(alone.run(q, tools, options).tokens);
        }
        List<BatchItem> items = new ArrayList<>();
        for (String q : QUERIES) {
            items.add(new BatchItem(q, tools));
        }
        Kernels[] kernelSets = VectorKernels.available()
                ? new Kernels[] {new ParallelKernels(2), new ParallelKernels(2, VectorKernels.create())}
                : new Kernels[] {new ParallelKernels(2)};
        for (Kernels kernels : kernelSets) {
            NeedleEngine shared = NeedleEngine.load(file, vocab, kernels);
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < 4; c++) {
                    int caller = c;
                    done.add(callers.submit(() -> {
                        for (int i = 0; i < 12; i++) {
                            int k = (caller + i) % QUERIES.length;
                            if (i % 4 == 3) {
                                List<RunResult> batch = shared.runBatch(items, options);
                                for (int j = 0; j < QUERIES.length; j++) {
                                    assertArrayEquals(expected.get(j), batch.get(j).tokens, "batch item " + j);
                                }
                            } else {
                                assertArrayEquals(expected.get(k), shared.run(QUERIES[k], tools, options).tokens,
                                        QUERIES[k]);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                callers.shutdownNow();
                ((ParallelKernels) kernels).close();
            }
        }
    }
}
