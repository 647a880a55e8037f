package io.needle.model;

/**
 * Weights of one decoder layer: gated causal self-attention, gated cross-attention over the
 * encoder output (no RoPE), then the optional gated FFN.
 */
public final class DecoderLayer {
    final ZcRmsNorm selfAttnNorm;
    final float selfAttnGate; // sigmoid(stored gate)
    final Attention selfAttn;
    final ZcRmsNorm crossAttnNorm;
    final float crossAttnGate;
    final Attention crossAttn;
    final ZcRmsNorm ffnNorm; // null without FFN
    final float ffnGate;
    final FeedForward ffn;

    public DecoderLayer(ZcRmsNorm selfAttnNorm, float selfAttnGate, Attention selfAttn,
            ZcRmsNorm crossAttnNorm, float crossAttnGate, Attention crossAttn,
            ZcRmsNorm ffnNorm, float ffnGate, FeedForward ffn) {
        this.selfAttnNorm = selfAttnNorm;
        this.selfAttnGate = selfAttnGate;
        this.selfAttn = selfAttn;
        this.crossAttnNorm = crossAttnNorm;
        this.crossAttnGate = crossAttnGate;
        this.crossAttn = crossAttn;
        this.ffnNorm = ffnNorm;
        this.ffnGate = ffnGate;
        this.ffn = ffn;
    }
}
