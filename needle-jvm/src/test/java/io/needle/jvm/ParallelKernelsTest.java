package io.needle.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.model.Int4Linear;
import io.needle.model.Tasks;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import org.junit.jupiter.api.Test;

/**
 * The multi-core kernels give the portable kernels' floats bit for bit, so the same tokens: the
 * encoder output, full logits, greedy and constrained runs and a batch, with 2 and 3 threads.
 */
class ParallelKernelsTest {
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
        PortableReference reference = new PortableReference(w.build(), TestVocab.make(2100, 41));
        for (int threads : new int[] {2, 3}) {
            try (ParallelKernels kernels = new ParallelKernels(threads)) {
                reference.assertSameWith(kernels);
            }
        }
        assertNull(((Int4Linear) reference.model.linears().get(0)).kernel(), "the portable engine keeps its kernels");
    }

    @Test
    void oneThreadKeepsThePortableKernels() {
        try (ParallelKernels kernels = new ParallelKernels(1)) {
            NeedleEngine engine = NeedleEngine.load(ModelWriter.tiny().seed(3).build(), null, kernels);
            assertEquals(0, engine.model().hostKernelCount());
        }
    }

    @Test
    void tasksRunEachIndexOnceOnTheThreadsAndNestedTasksInline() {
        try (ParallelKernels kernels = new ParallelKernels(2)) {
            Tasks tasks = kernels.tasks();
            assertEquals(2, tasks.parallelism());
            for (int count : new int[] {0, 1, 2, 3, 17}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(1, count));
                Set<String> threads = ConcurrentHashMap.newKeySet();
                tasks.run(count, i -> {
                    runs.incrementAndGet(i);
                    threads.add(Thread.currentThread().getName());
                    String outer = Thread.currentThread().getName();
                    if (count >= 2) {
                        // one of several tasks: its own tasks run on its thread, one after another
                        tasks.run(3, j -> assertEquals(outer, Thread.currentThread().getName()));
                    }
                    busy();
                });
                for (int i = 0; i < count; i++) {
                    assertEquals(1, runs.get(i), "task " + i + " of " + count);
                }
                assertTrue(threads.size() <= 2, threads.toString());
            }
        }
    }

    @Test
    void aLoneTaskRunsOnTheCallerAndItsOwnTasksMayUseTheThreads() {
        try (ParallelKernels kernels = new ParallelKernels(2)) {
            Tasks tasks = kernels.tasks();
            String caller = Thread.currentThread().getName();
            AtomicIntegerArray runs = new AtomicIntegerArray(16);
            Set<String> inner = ConcurrentHashMap.newKeySet();
            tasks.run(1, i -> {
                assertEquals(caller, Thread.currentThread().getName());
                // each inner task waits until a second thread has joined (or 2 s have passed): the
                // lone task does not keep its tasks to itself
                tasks.run(16, j -> {
                    runs.incrementAndGet(j);
                    inner.add(Thread.currentThread().getName());
                    long t = System.nanoTime();
                    while (inner.size() < 2 && System.nanoTime() - t < 2_000_000_000L) {
                        Thread.onSpinWait();
                    }
                });
            });
            for (int j = 0; j < 16; j++) {
                assertEquals(1, runs.get(j), "inner task " + j);
            }
            assertEquals(2, inner.size(), inner.toString());
        }
    }

    @Test
    void aFailingTaskFailsTheRunAndTheThreadsServeTheNext() {
        try (ParallelKernels kernels = new ParallelKernels(2)) {
            Tasks tasks = kernels.tasks();
            for (int bad : new int[] {0, 1, 5}) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> tasks.run(8, i -> {
                    busy();
                    if (i == bad) {
                        throw new IllegalStateException("task " + i + " failed");
                    }
                }));
                assertEquals("task " + bad + " failed", e.getMessage());
                AtomicIntegerArray runs = new AtomicIntegerArray(8);
                tasks.run(8, runs::incrementAndGet);
                for (int i = 0; i < 8; i++) {
                    assertEquals(1, runs.get(i));
                }
            }
        }
        assertNull(new ParallelKernels(1).tasks(), "one thread: the model's own one-after-another tasks");
    }

    private static void busy() {
        long t = System.nanoTime();
        while (System.nanoTime() - t < 200_000) {
            Thread.onSpinWait();
        }
    }
}
