package io.needle.model;

/**
 * Independent pieces of one computation that a host may run at the same time: the JVM's {@link
 * Kernels} can run them on several threads (needle-jvm's ParallelKernels); the portable engine, and
 * so the Wasm build, runs them one after another ({@link #SEQUENTIAL}). The model splits work into
 * tasks that write disjoint data (the encoder: a share of the sequence's rows each), so the floats
 * do not depend on how, or in which order, the tasks run.
 */
public interface Tasks {
    /** One piece of the work, by its index. */
    interface Task {
        void run(int index);
    }

    /** How many tasks this host runs at once (1: one after another). */
    int parallelism();

    /**
     * Runs {@code task(0) .. task(count - 1)}, each once, and returns when all have finished. An
     * exception of a task is thrown here, after the others have stopped.
     */
    void run(int count, Task task);

    /** One task after another, in order, on the caller's thread. */
    Tasks SEQUENTIAL = new Tasks() {
        @Override
        public int parallelism() {
            return 1;
        }

        @Override
        public void run(int count, Task task) {
            for (int i = 0; i < count; i++) {
                task.run(i);
            }
        }
    };
}
