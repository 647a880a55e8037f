package io.needle.jvm;

import io.needle.model.Attention;
import io.needle.model.AttentionKernel;
import io.needle.model.Embedding;
import io.needle.model.Int4Kernel;
import io.needle.model.Int4Linear;
import io.needle.model.Kernels;
import io.needle.model.LogitsKernel;
import io.needle.model.Scratch;
import io.needle.model.Tasks;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The JVM's multi-core kernels ({@link Kernels}): the portable kernels themselves, with the work
 * split between threads. An INT4 linear over several input rows (the encoder, the decoder's
 * cross-attention keys and values) and the encoder's attention give each thread a share of the
 * rows; the full output projection gives each thread a share of the vocabulary. Every output value is computed by the
 * portable code, whole, on one thread, so the floats, and the tokens, are exactly the portable
 * kernels' (tests: ParallelKernelsTest). One-row linears (a decoder step) are too small to split
 * and run on the caller's thread. Given inner kernels ({@link #ParallelKernels(int, Kernels)},
 * for example {@link VectorKernels}), each share runs those instead of the portable code: the
 * same floats again, as the inner kernels compute the portable ones.
 *
 * <p>They also run the model's independent tasks ({@link #tasks()}) on their threads: the encoder
 * gives each thread a share of the sequence's rows for whole layers ({@code NeedleModel.encode}),
 * which hands over far less often than splitting call by call. Inside a task every kernel runs on
 * the task's own thread (the threads are busy with the other tasks).
 *
 * <pre>
 * NeedleEngine engine = NeedleEngine.load(weights, vocab, ParallelKernels.shared());
 * </pre>
 * {@link Needle} loads with {@link #shared()} by default.
 * One instance may serve several engines and threads; {@link #close()} stops its worker threads
 * (the engines then must not run with it any more).
 */
public final class ParallelKernels implements Kernels, AutoCloseable {
    /** Fewest input rows a thread is given (smaller shares cost more in handing over than they save). */
    static final int MIN_ROWS = 4;
    /** Fewest vocabulary rows a thread is given. */
    static final int MIN_VOCAB = 1024;

    private final int threads;
    private final Kernels inner; // the one-thread kernels run on each share (null: the portable ones)
    private final ExecutorService pool; // threads - 1 workers; the caller's thread takes shares too
    private final ThreadLocal<Work> work = ThreadLocal.withInitial(Work::new);

    /** Per thread: work buffers of the portable kernels and the copied input and output rows. */
    private static final class Work {
        final Scratch scratch = new Scratch();
        float[] x = new float[0];
        float[] y = new float[0];
        final Attention.CoreWork attention = new Attention.CoreWork();
        float[] q = new float[0];
        float[] ctx = new float[0];
        boolean inTask; // running one of tasks()'s tasks: the kernels do not split their work
    }

    private static ParallelKernels shared;
    private static ParallelKernels sharedVector;

    /**
     * The process's kernels: one thread per core, at most 2 (this project's machines; more threads
     * gain little on the one-row decoder steps), daemon threads that live as long as the process.
     * With one core they are the portable kernels.
     */
    public static synchronized ParallelKernels shared() {
        if (shared == null) {
            shared = new ParallelKernels(Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors())));
        }
        return shared;
    }

    /**
     * The process's Vector API kernels ({@link VectorKernels}) split over up to 2 cores like
     * {@link #shared()}; only when {@link VectorKernels#available()}.
     */
    public static synchronized ParallelKernels sharedVector() {
        if (sharedVector == null) {
            sharedVector = new ParallelKernels(Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors())),
                    VectorKernels.create());
        }
        return sharedVector;
    }

    /** Kernels splitting the work between {@code threads} threads (1: the portable kernels as they are). */
    public ParallelKernels(int threads) {
        this(threads, null);
    }

    /**
     * Kernels splitting the work between {@code threads} threads, each share computed by
     * {@code inner}'s INT4 and logits kernels (which must be safe to call from several threads at
     * once, as {@link VectorKernels} is) where it has one for the layer, by the portable code
     * otherwise. With one thread these are {@code inner}'s kernels themselves.
     */
    public ParallelKernels(int threads, Kernels inner) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.inner = inner;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "needle-kernels");
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /** The kernels each share runs (null: the portable ones). */
    public Kernels inner() {
        return inner;
    }

    @Override
    public void prepare(io.needle.model.NeedleModel model) {
        if (inner != null) {
            inner.prepare(model);
        }
    }

    @Override
    public Int4Kernel int4(Int4Linear linear) {
        Int4Kernel base = inner == null ? null : inner.int4(linear);
        if (threads == 1) {
            return base;
        }
        if (base == null) {
            // the portable kernels on the same packed bytes and scales (no copy), without a host kernel
            Int4Linear portable = new Int4Linear(linear.in(), linear.out(), linear.groupSize(),
                    linear.packedBytes(), linear.packedOffset(), linear.scales());
            base = (x, y, rows) -> portable.forward(x, y, rows, work.get().scratch);
        }
        Int4Kernel one = base;
        return (x, y, rows) -> forward(one, linear.in(), linear.out(), x, y, rows);
    }

    @Override
    public AttentionKernel attention(Attention attention) {
        AttentionKernel base = inner == null ? null : inner.attention(attention);
        if (threads == 1) {
            return base;
        }
        int qd = attention.heads() * attention.headDim();
        return (qs, rows, pos0, keysT, kStride, values, keyCount, keyValid, causal, ctx) -> {
            if (rows < 2 * MIN_ROWS || work.get().inTask) { // on this thread: the inner kernel, or the portable loops
                return base != null && base.attend(qs, rows, pos0, keysT, kStride, values, keyCount, keyValid, causal, ctx);
            }
            split(rows, MIN_ROWS, (t0, t1) -> {
                Work w = work.get();
                if (base != null) {
                    int n = t1 - t0;
                    if (w.q.length < n * qd) {
                        w.q = new float[n * qd];
                        w.ctx = new float[n * qd];
                    }
                    System.arraycopy(qs, t0 * qd, w.q, 0, n * qd);
                    if (base.attend(w.q, n, pos0 + t0, keysT, kStride, values, keyCount, keyValid, causal, w.ctx)) {
                        System.arraycopy(w.ctx, 0, ctx, t0 * qd, n * qd);
                        return;
                    }
                }
                attention.core(qs, t0, t1, pos0, keysT, kStride, values, keyCount, keyValid, causal, ctx, w.attention);
            });
            return true;
        };
    }

    @Override
    public LogitsKernel logits(Embedding embedding) {
        LogitsKernel base = inner == null ? null : inner.logits(embedding);
        if (threads == 1) {
            return base;
        }
        if (base == null && embedding.format() == Embedding.Format.F32) {
            return null;
        }
        LogitsKernel one = base != null ? base : portableLogits(embedding);
        return new LogitsKernel() {
            @Override
            public void logits(float[] h, float[] logits, int from, int to) {
                split(to - from, MIN_VOCAB, (a, b) -> one.logits(h, logits, from + a, from + b));
            }

            @Override
            public void logitsAt(float[] h, float[] logits, int[] ids, int count) {
                one.logitsAt(h, logits, ids, count);
            }
        };
    }

    /** The portable loops over the same 16-bit table (no copy), without a host kernel. */
    private static LogitsKernel portableLogits(Embedding embedding) {
        Embedding portable = Embedding.ofHalf(embedding.vocab(), embedding.dim(), embedding.format(),
                embedding.bytes(), embedding.offset());
        return new LogitsKernel() {
            @Override
            public void logits(float[] h, float[] logits, int from, int to) {
                portable.logits(h, logits, from, to);
            }

            @Override
            public void logitsAt(float[] h, float[] logits, int[] ids, int count) {
                portable.logitsAt(h, logits, ids, count);
            }
        };
    }

    private void forward(Int4Kernel one, int in, int out, float[] x, float[] y, int rows) {
        if (rows < 2 * MIN_ROWS || work.get().inTask) {
            one.forward(x, y, rows);
            return;
        }
        split(rows, MIN_ROWS, (r0, r1) -> {
            Work w = work.get();
            int n = r1 - r0;
            if (w.x.length < n * in) {
                w.x = new float[n * in];
            }
            if (w.y.length < n * out) {
                w.y = new float[n * out];
            }
            System.arraycopy(x, r0 * in, w.x, 0, n * in);
            one.forward(w.x, w.y, n);
            System.arraycopy(w.y, 0, y, r0 * out, n * out);
        });
    }

    /** A share [from, to) of the work. */
    private interface Share {
        void run(int from, int to);
    }

    /** Runs [0, n) in up to {@code threads} shares of at least {@code min}, this thread taking some of them. */
    private void split(int n, int min, Share share) {
        int parts = Math.max(1, Math.min(threads, n / min));
        if (parts == 1 || work.get().inTask) {
            share.run(0, n);
            return;
        }
        runTasks(parts, p -> share.run((int) ((long) n * p / parts), (int) ((long) n * (p + 1) / parts)));
    }

    /**
     * Runs the model's tasks on up to {@code threads} threads, this one included: each thread takes
     * the next task not yet taken until none is left, and the call returns when every task has
     * finished. Tasks started inside one of several tasks run one after another on that task's
     * thread (the other threads are busy). A lone task (count 1) is the caller's own work: it runs
     * on the caller's thread, and its kernels and its own tasks may use all the threads.
     */
    @Override
    public Tasks tasks() {
        if (threads == 1) {
            return null;
        }
        return new Tasks() {
            @Override
            public int parallelism() {
                return threads;
            }

            @Override
            public void run(int count, Task task) {
                if (count <= 1 || work.get().inTask) {
                    for (int i = 0; i < count; i++) {
                        task.run(i);
                    }
                    return;
                }
                runTasks(count, task);
            }
        };
    }

    /**
     * Runs task(0 .. count-1) on up to {@code threads} threads, this one included, each thread
     * taking the next task not yet taken; returns when all have ended, then rethrows the first
     * failure. Used by the model's tasks and by the kernels' own shares ({@link #split}).
     */
    private void runTasks(int count, Tasks.Task task) {
        TaskRun run = new TaskRun(count, task);
        List<Future<?>> others = new ArrayList<>(threads - 1);
        for (int p = 1; p < Math.min(threads, count); p++) {
            others.add(pool.submit(() -> run.take(work.get())));
        }
        run.take(work.get());
        run.awaitAll();
        for (Future<?> f : others) {
            f.cancel(false); // a taker that has not started would find nothing left
        }
        run.rethrow();
    }

    /** One {@code Tasks.run} call: the next task to take, how many have ended, the first failure. */
    private static final class TaskRun {
        final int count;
        final Tasks.Task task;
        final AtomicInteger next = new AtomicInteger();
        private int ended; // guarded by this
        private Throwable failure; // guarded by this

        TaskRun(int count, Tasks.Task task) {
            this.count = count;
            this.task = task;
        }

        /** Takes and runs tasks until none is left; after a failure the rest are dropped (ended unrun). */
        void take(Work w) {
            w.inTask = true;
            try {
                for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                    Throwable failed = null;
                    try {
                        task.run(i);
                    } catch (RuntimeException | Error e) {
                        failed = e;
                    }
                    int dropped = 0;
                    if (failed != null) {
                        while (next.getAndIncrement() < count) {
                            dropped++;
                        }
                    }
                    synchronized (this) {
                        if (failed != null && failure == null) {
                            failure = failed;
                        }
                        ended += 1 + dropped;
                        if (ended == count) {
                            notifyAll();
                        }
                    }
                }
            } finally {
                w.inTask = false;
            }
        }

        synchronized void awaitAll() {
            boolean interrupted = false;
            while (ended < count) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true; // the tasks write the caller's arrays: wait for them all the same
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        synchronized void rethrow() {
            if (failure instanceof RuntimeException) {
                throw (RuntimeException) failure;
            }
            if (failure instanceof Error) {
                throw (Error) failure;
            }
        }
    }

    /** Stops the worker threads ({@link #shared()} and {@link #sharedVector()} ignore this: other engines use them). */
    @Override
    public void close() {
        if (pool != null && this != shared && this != sharedVector) {
            pool.shutdownNow();
        }
    }
}
