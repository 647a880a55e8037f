package io.needle.base;

/** Milliseconds for timings (System.nanoTime works on the JVM and under TeaVM). */
public final class Clock {
    private Clock() {
    }

    public static double nowMs() {
        return System.nanoTime() / 1e6;
    }
}
