package io.needle.model;

/** Weights of one encoder layer: pre-norm gated self-attention, then the optional gated FFN. */
public final class EncoderLayer {
    final ZcRmsNorm attnNorm;
    final float attnGate; // sigmoid(stored gate)
    final Attention selfAttn;
    final ZcRmsNorm ffnNorm; // null without FFN
    final float ffnGate;
    final FeedForward ffn; // null without FFN

    public EncoderLayer(ZcRmsNorm attnNorm, float attnGate, Attention selfAttn, ZcRmsNorm ffnNorm,
            float ffnGate, FeedForward ffn) {
        this.attnNorm = attnNorm;
        this.attnGate = attnGate;
        this.selfAttn = selfAttn;
        this.ffnNorm = ffnNorm;
        this.ffnGate = ffnGate;
        this.ffn = ffn;
    }
}
