package io.needle.model;

import java.util.concurrent.atomic.AtomicReference;

/**
 * One object kept for reuse between requests: {@link #take} hands it out at most once until it is
 * given back. Requests may run on several threads at once on the JVM (the engine is shared), so
 * the object is swapped atomically; in the Wasm build (one request at a time) TeaVM's
 * AtomicReference is a plain field. Not {@code synchronized}: TeaVM's monitors in the Wasm build
 * make V8's heap snapshots of the isolate hang (workerd's inspector never answers).
 */
final class Spare<T> {
    private final AtomicReference<T> kept = new AtomicReference<>();

    /** The kept object, now no longer kept, or null when there is none (another request has it). */
    T take() {
        return kept.getAndSet(null);
    }

    /** Keeps {@code t} for the next {@link #take} (replacing any kept one). */
    void give(T t) {
        kept.set(t);
    }
}
