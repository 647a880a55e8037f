package io.needle.engine;

/** Wall-clock timings of one request, in milliseconds, plus token counts. */
public final class Timings {
    /** Time to load the engine (parse weights and vocab); 0 when not measured for this request. */
    public final double loadMs;
    /** Encoder time (prompt building, tokenization and encoder forward pass, cross K/V). */
    public final double encodeMs;
    /** Decoder time for all generated tokens. */
    public final double decodeMs;
    /** Encoder input length. */
    public final int prefillTokens;
    /** Decoder steps run (generated tokens, plus the final eos step when there was one). */
    public final int decodeTokens;

    public Timings(double loadMs, double encodeMs, double decodeMs, int prefillTokens, int decodeTokens) {
        this.loadMs = loadMs;
        this.encodeMs = encodeMs;
        this.decodeMs = decodeMs;
        this.prefillTokens = prefillTokens;
        this.decodeTokens = decodeTokens;
    }
}
