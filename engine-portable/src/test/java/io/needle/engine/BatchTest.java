package io.needle.engine;

import io.needle.base.NeedleException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.json.Json;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import io.needle.testing.Shared;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link NeedleEngine#runBatch} gives exactly the one-by-one results, in order. */
class BatchTest {
    static final String[] QUERIES = ConstrainedPropertyTest.QUERIES;

    static void assertSame(RunResult expected, RunResult got, String where) {
        assertEquals(expected.text, got.text, where + " text");
        assertArrayEquals(expected.tokens, got.tokens, where + " tokens");
        assertEquals(expected.complete, got.complete, where + " complete");
        assertEquals(expected.calls == null ? null : Json.write(expected.calls),
                got.calls == null ? null : Json.write(got.calls), where + " calls");
        assertEquals(expected.timings.prefillTokens, got.timings.prefillTokens, where + " prefill tokens");
        assertEquals(expected.timings.decodeTokens, got.timings.decodeTokens, where + " decode steps");
    }

    @Test
    void batchEqualsSequentialRuns() {
        NeedleEngine[] engines = {
            NeedleEngine.load(new ModelWriter().seed(81).vocabSize(8192).dModel(32).heads(4, 2).layers(1, 1).build(),
                    Shared.vocab()),
            NeedleEngine.load(ModelWriter.tiny().seed(82).build(), TestVocab.make(512, 82)),
        };
        Random r = new Random(83);
        int compared = 0;
        for (NeedleEngine engine : engines) {
            List<BatchItem> items = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                items.add(new BatchItem(QUERIES[r.nextInt(QUERIES.length)], RandomCatalog.make(r).json));
            }
            items.add(new BatchItem(null, null)); // no query, no tools: counts as "" and []
            for (RunOptions options : new RunOptions[] {new RunOptions().maxNewTokens(40),
                new RunOptions().maxNewTokens(3), new RunOptions().maxNewTokens(30).constrain(false)}) {
                List<RunResult> batch = engine.runBatch(items, options);
                assertEquals(items.size(), batch.size());
                for (int i = 0; i < items.size(); i++) {
                    RunResult one = engine.run(items.get(i).query, items.get(i).tools, options);
                    assertSame(one, batch.get(i), "item " + i);
                    compared++;
                }
            }
        }
        assertEquals(78, compared);
    }

    @Test
    void theListenerSeesEveryItemInOrder() {
        NeedleEngine engine = NeedleEngine.load(ModelWriter.tiny().seed(84).build(), TestVocab.make(512, 84));
        List<BatchItem> items = new ArrayList<>();
        Random r = new Random(85);
        for (int i = 0; i < 5; i++) {
            items.add(new BatchItem(QUERIES[i], RandomCatalog.make(r).json));
        }
        StringBuilder streamed = new StringBuilder();
        int[] finishes = {0};
        List<RunResult> results = engine.runBatch(items, new RunOptions().maxNewTokens(20).listener(new TokenListener() {
            @Override
            public void onToken(int tokenId, String piece) {
                streamed.append(piece);
            }

            @Override
            public void onFinish(String tail) {
                streamed.append(tail).append('\n');
                finishes[0]++;
            }
        }));
        StringBuilder expected = new StringBuilder();
        for (RunResult res : results) {
            expected.append(res.text).append('\n');
        }
        assertEquals(5, finishes[0]);
        assertEquals(expected.toString(), streamed.toString());
    }

    @Test
    void aBadItemNamesItsIndex() {
        NeedleEngine engine = NeedleEngine.load(ModelWriter.tiny().seed(86).build(), TestVocab.make(512, 86));
        List<BatchItem> items = new ArrayList<>();
        items.add(new BatchItem("a", "[]"));
        items.add(new BatchItem("b", "{not json"));
        NeedleException e = assertThrows(NeedleException.class, () -> engine.runBatch(items, new RunOptions()));
        assertEquals(NeedleException.Kind.JSON, e.kind());
        assertTrue(e.getMessage().startsWith("batch item 1: "), e.getMessage());
        assertEquals(0, engine.runBatch(new ArrayList<>(), new RunOptions()).size());
    }
}
