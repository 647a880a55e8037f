package io.needle.model;

import io.needle.base.SpecialTokens;
import java.util.ArrayList;
import java.util.List;

/**
 * The Needle encoder–decoder (MODEL.md section 2): plain weights plus the forward pass.
 * Stateless; a request's decoder state lives in {@link DecoderState}.
 */
public final class NeedleModel {
    public final Config config;
    final Embedding embedding;
    final EncoderLayer[] encoderLayers;
    final ZcRmsNorm encoderFinalNorm;
    final DecoderLayer[] decoderLayers;
    final ZcRmsNorm decoderFinalNorm;
    final ContrastiveHead contrastive; // null when the file has no head
    final Rope rope;
    final float embedScale;

    public NeedleModel(Config config, Embedding embedding, EncoderLayer[] encoderLayers,
            ZcRmsNorm encoderFinalNorm, DecoderLayer[] decoderLayers, ZcRmsNorm decoderFinalNorm,
            ContrastiveHead contrastive) {
        this.config = config;
        this.embedding = embedding;
        this.encoderLayers = encoderLayers;
        this.encoderFinalNorm = encoderFinalNorm;
        this.decoderLayers = decoderLayers;
        this.decoderFinalNorm = decoderFinalNorm;
        this.contrastive = contrastive;
        this.rope = new Rope(config.headDim(), config.ropeTheta);
        this.embedScale = (float) Math.sqrt(config.dModel);
    }

    public boolean hasContrastiveHead() {
        return contrastive != null;
    }

    /**
     * Installs a host's faster kernels (see {@link Kernels}) in every INT4 linear, attention block
     * and the output projection; null restores the portable kernels everywhere. Returns how many
     * layers took a host kernel (the others keep the portable one). Not to be called while a
     * request runs.
     */
    public int useKernels(Kernels kernels) {
        int n = 0;
        for (Linear l : linears()) {
            if (l instanceof Int4Linear) {
                Int4Linear q = (Int4Linear) l;
                Int4Kernel k = kernels == null ? null : kernels.int4(q);
                q.kernel(k);
                n += k == null ? 0 : 1;
            }
        }
        for (Attention a : attentions()) {
            AttentionKernel k = kernels == null ? null : kernels.attention(a);
            a.kernel(k);
            n += k == null ? 0 : 1;
        }
        LogitsKernel k = kernels == null ? null : kernels.logits(embedding);
        embedding.kernel(k);
        return n + (k == null ? 0 : 1);
    }

    /** Every attention block of the model, encoder first, in a fixed order. */
    public List<Attention> attentions() {
        List<Attention> out = new ArrayList<>();
        for (EncoderLayer layer : encoderLayers) {
            out.add(layer.selfAttn);
        }
        for (DecoderLayer layer : decoderLayers) {
            out.add(layer.selfAttn);
            out.add(layer.crossAttn);
        }
        return out;
    }

    /** The embedding table (shared by the encoder input, the decoder input and the logits). */
    public Embedding embedding() {
        return embedding;
    }

    /** Every linear layer of the model, encoder first, in a fixed order. */
    public List<Linear> linears() {
        List<Linear> out = new ArrayList<>();
        for (EncoderLayer layer : encoderLayers) {
            addAttention(out, layer.selfAttn);
            addFeedForward(out, layer.ffn);
        }
        for (DecoderLayer layer : decoderLayers) {
            addAttention(out, layer.selfAttn);
            addAttention(out, layer.crossAttn);
            addFeedForward(out, layer.ffn);
        }
        if (contrastive != null) {
            out.add(contrastive.hidden);
            out.add(contrastive.proj);
        }
        return out;
    }

    private static void addAttention(List<Linear> out, Attention a) {
        out.add(a.q);
        out.add(a.k);
        out.add(a.v);
        out.add(a.o);
    }

    private static void addFeedForward(List<Linear> out, FeedForward f) {
        if (f != null) {
            out.add(f.gate);
            out.add(f.up);
            out.add(f.down);
        }
    }

    /** The encoder output of one request: enc [length, d] and which positions are not padding. */
    public static final class EncoderOutput {
        public final float[] enc;
        public final int length;
        public final boolean[] valid;

        EncoderOutput(float[] enc, int length, boolean[] valid) {
            this.enc = enc;
            this.length = length;
            this.valid = valid;
        }
    }

    /** Runs the bidirectional encoder on token ids; pad ids are masked out as keys. */
    public EncoderOutput encode(int[] ids) {
        int T = ids.length;
        int d = config.dModel;
        boolean[] valid = new boolean[T];
        float[] x = new float[T * d];
        for (int t = 0; t < T; t++) {
            checkId(ids[t]);
            valid[t] = ids[t] != SpecialTokens.PAD;
            embedding.lookup(ids[t], embedScale, x, t * d);
        }
        Scratch scratch = new Scratch();
        float[] xn = new float[T * d];
        float[] branch = new float[T * d];
        Attention.KeyValues kv = null;
        for (EncoderLayer layer : encoderLayers) {
            Attention a = layer.selfAttn;
            if (kv == null) {
                kv = a.newKeyValues(T); // every layer has the same shape: one store, reused
            }
            layer.attnNorm.apply(x, xn, T);
            a.keysValues(xn, T, rope, 0, kv, scratch);
            float[] q = scratch.floats(Scratch.QUERIES, T * a.qDim());
            a.queries(xn, T, rope, 0, q, scratch);
            a.attend(q, T, 0, kv, T, valid, false, branch, scratch);
            addScaled(x, branch, T * d, layer.attnGate);
            if (layer.ffn != null) {
                layer.ffnNorm.apply(x, xn, T);
                layer.ffn.forward(xn, T, branch, scratch);
                addScaled(x, branch, T * d, layer.ffnGate);
            }
        }
        encoderFinalNorm.apply(x, x, T);
        return new EncoderOutput(x, T, valid);
    }

    /** Decoder state for one request: cross-attention K/V computed once from enc, an empty self-attention cache. */
    public DecoderState startDecoder(EncoderOutput enc, int maxSteps) {
        return new DecoderState(this, enc, maxSteps);
    }

    /** Throws a WEIGHTS error naming the missing tensors when the file has no contrastive head. */
    public void requireContrastiveHead() {
        if (contrastive == null) {
            throw new io.needle.base.NeedleException(io.needle.base.NeedleException.Kind.WEIGHTS,
                    "this model has no contrastive head (tensors contrastive_hidden_kernel, contrastive_hidden_bias, contrastive_proj_kernel), so it cannot retrieve tools");
        }
    }

    /** The contrastive embedding of ids (encoder run on them alone). */
    public float[] contrastiveEmbedding(int[] ids) {
        requireContrastiveHead();
        EncoderOutput e = encode(ids);
        return contrastive.embed(e.enc, e.length, e.valid);
    }

    /**
     * Reference path without a KV cache: runs the decoder over the whole token sequence (causal)
     * and returns the logits of its last position. Used to check the cached path.
     */
    public float[] decodeFull(EncoderOutput enc, int[] tokens) {
        int T = tokens.length;
        int d = config.dModel;
        float[] x = new float[T * d];
        for (int t = 0; t < T; t++) {
            checkId(tokens[t]);
            embedding.lookup(tokens[t], embedScale, x, t * d);
        }
        Scratch scratch = new Scratch();
        float[] xn = new float[T * d];
        float[] branch = new float[T * d];
        for (DecoderLayer layer : decoderLayers) {
            layer.selfAttnNorm.apply(x, xn, T);
            Attention sa = layer.selfAttn;
            Attention.KeyValues self = sa.newKeyValues(T);
            sa.keysValues(xn, T, rope, 0, self, scratch);
            float[] q = scratch.floats(Scratch.QUERIES, T * sa.qDim());
            sa.queries(xn, T, rope, 0, q, scratch);
            sa.attend(q, T, 0, self, T, null, true, branch, scratch);
            addScaled(x, branch, T * d, layer.selfAttnGate);

            layer.crossAttnNorm.apply(x, xn, T);
            Attention ca = layer.crossAttn;
            Attention.KeyValues cross = ca.newKeyValues(enc.length);
            ca.keysValues(enc.enc, enc.length, null, 0, cross, scratch);
            float[] cq = scratch.floats(Scratch.QUERIES, T * ca.qDim());
            ca.queries(xn, T, null, 0, cq, scratch);
            ca.attend(cq, T, 0, cross, enc.length, enc.valid, false, branch, scratch);
            addScaled(x, branch, T * d, layer.crossAttnGate);
            if (layer.ffn != null) {
                layer.ffnNorm.apply(x, xn, T);
                layer.ffn.forward(xn, T, branch, scratch);
                addScaled(x, branch, T * d, layer.ffnGate);
            }
        }
        float[] last = new float[d];
        System.arraycopy(x, (T - 1) * d, last, 0, d);
        decoderFinalNorm.apply(last, last, 1);
        float[] logits = new float[config.vocabSize];
        embedding.logits(last, logits);
        return logits;
    }

    void checkId(int id) {
        if (id < 0 || id >= config.vocabSize) {
            throw new io.needle.base.NeedleException(io.needle.base.NeedleException.Kind.INPUT,
                    "token id " + id + " is out of range for vocab_size " + config.vocabSize);
        }
    }

    /** x[i] += gate * branch[i] for i in [0, n). */
    static void addScaled(float[] x, float[] branch, int n, float gate) {
        for (int i = 0; i < n; i++) {
            x[i] += gate * branch[i];
        }
    }
}
