package io.needle.model;

/**
 * One object kept for reuse between requests: {@link #take} hands it out at most once until it is
 * given back. Requests may run on several threads at once on the JVM (the engine is shared), so
 * taking and giving back are synchronized; the Wasm build runs one request at a time.
 */
final class Spare<T> {
    private T kept;

    /** The kept object, now no longer kept, or null when there is none (another request has it). */
    synchronized T take() {
        T t = kept;
        kept = null;
        return t;
    }

    /** Keeps {@code t} for the next {@link #take} (replacing any kept one). */
    synchronized void give(T t) {
        kept = t;
    }
}
