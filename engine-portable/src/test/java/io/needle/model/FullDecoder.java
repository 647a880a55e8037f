package io.needle.model;

/**
 * The test oracle of the decoder's KV cache: the decoder run over a whole token sequence at once,
 * causal attention over all its rows, no cache (docs/spec/MODEL.md section 2). The cached steps
 * ({@link DecoderState}, {@link DecoderBatch}) must give its logits for the last position.
 */
public final class FullDecoder {
    private FullDecoder() {
    }

    /**
     * Asserts that {@code stepLogits}, a cached step's logits after the tokens {@code seq[0..i]},
     * are this oracle's (to 1e-4 relative) and pick the same token.
     */
    public static void assertStep(NeedleModel model, NeedleModel.EncoderOutput enc, int[] seq, int i,
            float[] stepLogits) {
        int[] prefix = new int[i + 1];
        System.arraycopy(seq, 0, prefix, 0, i + 1);
        float[] b = logits(model, enc, prefix);
        for (int v = 0; v < stepLogits.length; v++) {
            org.junit.jupiter.api.Assertions.assertEquals(b[v], stepLogits[v], 1e-4f * Math.max(1f, Math.abs(b[v])),
                    "step " + i + " logit " + v);
        }
        org.junit.jupiter.api.Assertions.assertEquals(io.needle.decoding.Generation.argmax(b),
                io.needle.decoding.Generation.argmax(stepLogits), "step " + i);
    }

    /** The logits of the last position of {@code tokens} (the first being eos). */
    public static float[] logits(NeedleModel model, NeedleModel.EncoderOutput enc, int[] tokens) {
        int T = tokens.length;
        int d = model.config.dModel;
        float[] x = new float[T * d];
        for (int t = 0; t < T; t++) {
            model.checkId(tokens[t]);
            model.embedding.lookup(tokens[t], model.embedScale, x, t * d);
        }
        Scratch scratch = new Scratch();
        float[] xn = new float[T * d];
        float[] branch = new float[T * d];
        for (DecoderLayer layer : model.decoderLayers) {
            layer.selfAttnNorm.apply(x, xn, T);
            layer.selfAttn.causal(xn, T, model.rope, layer.selfAttn.newKeyValues(T), branch, scratch);
            add(x, branch, layer.selfAttnGate);
            layer.crossAttnNorm.apply(x, xn, T);
            Attention ca = layer.crossAttn;
            Attention.KeyValues memory = ca.newKeyValues(enc.length);
            ca.keysValues(enc.enc, enc.length, null, 0, memory, scratch);
            float[] qs = new float[T * ca.qDim()];
            ca.queries(xn, T, null, 0, qs, scratch);
            ca.attend(qs, T, 0, memory, enc.length, enc.valid, false, branch, scratch);
            add(x, branch, layer.crossAttnGate);
            if (layer.ffn != null) {
                layer.ffnNorm.apply(x, xn, T);
                layer.ffn.forward(xn, T, branch, scratch);
                add(x, branch, layer.ffnGate);
            }
        }
        float[] last = new float[d];
        System.arraycopy(x, (T - 1) * d, last, 0, d);
        model.decoderFinalNorm.apply(last, last, 1);
        float[] logits = new float[model.config.vocabSize];
        model.embedding.logits(last, logits);
        return logits;
    }

    private static void add(float[] x, float[] branch, float gate) {
        for (int i = 0; i < x.length; i++) {
            x[i] += gate * branch[i];
        }
    }
}
