package io.needle.engine;

/** Milliseconds for timings (System.nanoTime works on the JVM and under TeaVM). */
final class Clock {
    private Clock() {
    }

    static double nowMs() {
        return System.nanoTime() / 1e6;
    }
}
