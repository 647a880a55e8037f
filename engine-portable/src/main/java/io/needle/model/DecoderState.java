package io.needle.model;

/**
 * One request's decoder: cross-attention K/V per layer computed once from the encoder output,
 * and a growing self-attention KV cache. {@link #step} feeds one token and returns the logits
 * of its position.
 */
public final class DecoderState {
    private final NeedleModel model;
    private final NeedleModel.EncoderOutput enc;
    private final float[][] crossK;
    private final float[][] crossV;
    private final float[][] selfK;
    private final float[][] selfV;
    private final int capacity;
    private int position;

    DecoderState(NeedleModel model, NeedleModel.EncoderOutput enc, int maxSteps) {
        this.model = model;
        this.enc = enc;
        int layers = model.decoderLayers.length;
        this.capacity = Math.max(1, maxSteps);
        crossK = new float[layers][];
        crossV = new float[layers][];
        selfK = new float[layers][];
        selfV = new float[layers][];
        for (int l = 0; l < layers; l++) {
            Attention ca = model.decoderLayers[l].crossAttn;
            crossK[l] = new float[enc.length * ca.kvDim()];
            crossV[l] = new float[enc.length * ca.kvDim()];
            ca.keysValues(enc.enc, enc.length, null, 0, crossK[l], crossV[l], 0);
            Attention sa = model.decoderLayers[l].selfAttn;
            selfK[l] = new float[capacity * sa.kvDim()];
            selfV[l] = new float[capacity * sa.kvDim()];
        }
    }

    /** Positions fed so far. */
    public int position() {
        return position;
    }

    /** Feeds {@code token} at the next position and returns the vocab-sized logits there. */
    public float[] step(int token) {
        if (position >= capacity) {
            throw new IllegalStateException("decoder capacity " + capacity + " exhausted");
        }
        model.checkId(token);
        int d = model.config.dModel;
        int p = position;
        float[] x = new float[d];
        model.embedding.lookup(token, model.embedScale, x, 0);
        float[] xn = new float[d];
        for (int l = 0; l < model.decoderLayers.length; l++) {
            DecoderLayer layer = model.decoderLayers[l];
            layer.selfAttnNorm.apply(x, xn, 1);
            Attention sa = layer.selfAttn;
            sa.keysValues(xn, 1, model.rope, p, selfK[l], selfV[l], p);
            float[] q = sa.queries(xn, 1, model.rope, p);
            NeedleModel.addScaled(x, sa.attend(q, 1, p, selfK[l], selfV[l], p + 1, null, false), layer.selfAttnGate);

            layer.crossAttnNorm.apply(x, xn, 1);
            Attention ca = layer.crossAttn;
            float[] cq = ca.queries(xn, 1, null, 0);
            NeedleModel.addScaled(x, ca.attend(cq, 1, 0, crossK[l], crossV[l], enc.length, enc.valid, false),
                    layer.crossAttnGate);
            if (layer.ffn != null) {
                layer.ffnNorm.apply(x, xn, 1);
                NeedleModel.addScaled(x, layer.ffn.forward(xn, 1), layer.ffnGate);
            }
        }
        model.decoderFinalNorm.apply(x, x, 1);
        float[] logits = new float[model.config.vocabSize];
        model.embedding.logits(x, logits);
        position++;
        return logits;
    }
}
