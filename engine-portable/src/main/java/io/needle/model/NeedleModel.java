package io.needle.model;

import io.needle.base.SpecialTokens;
import java.util.ArrayList;
import java.util.List;

/**
 * The Needle encoder–decoder (docs/spec/MODEL.md section 2): plain weights plus the forward pass.
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
    private Tasks tasks = Tasks.SEQUENTIAL; // how the host runs independent tasks (Kernels.tasks), set at load
    private final Spare<EncoderWork> spareEncoderWork = new Spare<>(); // kept between requests
    private final Spare<Attention.KeyValues[]> spareCross = new Spare<>(); // DecoderState.release
    private final Spare<Attention.KeyValues[]> spareSelf = new Spare<>(); // DecoderState.release

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
     * and the output projection; null: the portable kernels everywhere. Returns how many layers
     * took a host kernel (the others keep the portable one). Called once, while the model is
     * loaded ({@link WeightLoader#load(io.needle.safetensors.SafeTensors, Kernels)}); the model
     * is not changed afterwards.
     */
    int installKernels(Kernels kernels) {
        if (kernels != null) {
            kernels.prepare(this);
            Tasks t = kernels.tasks();
            tasks = t == null ? Tasks.SEQUENTIAL : t;
        }
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

    /** How the host runs independent tasks of one computation ({@link Tasks#SEQUENTIAL} without one). */
    public Tasks tasks() {
        return tasks;
    }

    /** How many layers (INT4 linears, attention blocks, the output projection) run a host's kernel. */
    public int hostKernelCount() {
        int n = embedding.kernel() == null ? 0 : 1;
        for (Linear l : linears()) {
            n += l instanceof Int4Linear && ((Int4Linear) l).kernel() != null ? 1 : 0;
        }
        for (Attention a : attentions()) {
            n += a.kernel() == null ? 0 : 1;
        }
        return n;
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

    /** Fewest rows of a sequence a share of the encoder gets (smaller shares are not worth a thread). */
    static final int MIN_SHARE_ROWS = 16;

    /**
     * Runs the bidirectional encoder on token ids; pad ids are masked out as keys.
     *
     * <p>With a host that runs tasks at the same time ({@link #tasks()}), the sequence is cut into
     * shares of consecutive rows: every step of a layer but the attention's look at the other rows
     * is a row's own (norms, projections, RoPE, FFN, residuals), so each share runs the layer on its
     * rows, with two meeting points per layer: after every share has stored its keys and values,
     * and after the layer. Each value is computed as the whole sequence would compute it, so the
     * floats do not depend on the number of shares.
     */
    public EncoderOutput encode(int[] ids) {
        int T = ids.length;
        int d = config.dModel;
        EncoderWork work = takeWork();
        boolean[] valid = valid(ids);
        EncoderWork.Share[] shares = encode(ids, valid, work);
        float[] x = new float[T * d];
        for (EncoderWork.Share s : shares) {
            System.arraycopy(s.x, 0, x, s.from * d, s.rows * d);
        }
        giveBack(work);
        return new EncoderOutput(x, T, valid);
    }

    /**
     * Encodes ids and starts their decoder, as {@code startDecoder(encode(ids), maxSteps)} does,
     * straight from the encoder's shares: the encoder output stays in the model's kept buffers.
     */
    public DecoderState encodeAndStart(int[] ids, int maxSteps) {
        EncoderWork work = takeWork();
        boolean[] valid = valid(ids);
        DecoderState state = start(encode(ids, valid, work), ids.length, valid, maxSteps);
        giveBack(work);
        return state;
    }

    /** Decoder state for one request: cross-attention K/V computed once from enc, an empty self-attention cache. */
    public DecoderState startDecoder(EncoderOutput enc, int maxSteps) {
        int T = enc.length;
        int d = config.dModel;
        EncoderWork work = takeWork();
        int count = shareCount(T);
        EncoderWork.Share[] shares = new EncoderWork.Share[count];
        for (int p = 0; p < count; p++) {
            shares[p] = work.share(p, count, T, d);
            System.arraycopy(enc.enc, shares[p].from * d, shares[p].x, 0, shares[p].rows * d);
        }
        DecoderState state = start(shares, T, enc.valid, maxSteps);
        giveBack(work);
        return state;
    }

    /** A decoder state over the encoder output held by the shares: each share's rows' cross-attention K/V. */
    private DecoderState start(EncoderWork.Share[] shares, int T, boolean[] valid, int maxSteps) {
        Attention.KeyValues[] cross = crossStores(T);
        tasks.run(shares.length, p -> {
            EncoderWork.Share s = shares[p];
            for (int l = 0; l < decoderLayers.length; l++) {
                // no RoPE across attention
                decoderLayers[l].crossAttn.keysValues(s.x, s.rows, null, s.from, cross[l], s.scratch);
            }
        });
        return new DecoderState(this, T, valid, maxSteps, cross);
    }

    /** Which positions are not padding (the ids checked). */
    private boolean[] valid(int[] ids) {
        boolean[] valid = new boolean[ids.length];
        for (int t = 0; t < ids.length; t++) {
            checkId(ids[t]);
            valid[t] = ids[t] != SpecialTokens.PAD;
        }
        return valid;
    }

    /** How many shares a sequence of T rows is cut into. */
    private int shareCount(int T) {
        return Math.max(1, Math.min(tasks.parallelism(), T / MIN_SHARE_ROWS));
    }

    /** The encoder with the buffers of {@code work}: returns the shares, holding the output rows. */
    private EncoderWork.Share[] encode(int[] ids, boolean[] valid, EncoderWork work) {
        int T = ids.length;
        int d = config.dModel;
        int count = shareCount(T);
        EncoderWork.Share[] shares = new EncoderWork.Share[count];
        for (int p = 0; p < count; p++) {
            EncoderWork.Share s = work.share(p, count, T, d);
            for (int t = 0; t < s.rows; t++) {
                embedding.lookup(ids[s.from + t], embedScale, s.x, t * d);
            }
            shares[p] = s;
        }
        // every layer has the same shape: one store, reused layer after layer
        Attention.KeyValues kv = work.keyValues(encoderLayers[0].selfAttn, T);
        for (EncoderLayer layer : encoderLayers) {
            tasks.run(count, p -> {
                EncoderWork.Share s = shares[p];
                layer.keysValues(s.x, s.rows, s.from, rope, kv, s.scratch);
            });
            tasks.run(count, p -> {
                EncoderWork.Share s = shares[p];
                layer.attendAndFeedForward(s.x, s.rows, s.from, T, valid, rope, kv, s.scratch);
            });
        }
        for (EncoderWork.Share s : shares) {
            encoderFinalNorm.apply(s.x, s.x, s.rows);
        }
        return shares;
    }

    /** The kept work buffers, or new ones when another request has them (or none are kept yet). */
    private EncoderWork takeWork() {
        EncoderWork work = spareEncoderWork.take();
        return work != null ? work : new EncoderWork();
    }

    private void giveBack(EncoderWork work) {
        if (work.keep()) {
            spareEncoderWork.give(work);
        }
    }

    /**
     * The cross-attention stores of every decoder layer for at least T positions (contents
     * unspecified): those a finished request gave back ({@link DecoderState#release}) when they
     * are large enough, else new ones, sized in steps of 32 positions so that they serve the next
     * prompts of about the same length too.
     */
    Attention.KeyValues[] crossStores(int T) {
        Attention.KeyValues[] stores = spareCross.take();
        if (stores != null && (stores.length == 0 || stores[0].capacity >= T)) {
            return stores;
        }
        return newStores(true, (T + 31) / 32 * 32);
    }

    /**
     * The self-attention caches of every decoder layer at their first size ({@link
     * DecoderState#INITIAL_CACHE} positions; contents unspecified): a finished request's, or new ones.
     */
    Attention.KeyValues[] selfStores() {
        Attention.KeyValues[] stores = spareSelf.take();
        if (stores != null) {
            return stores;
        }
        return newStores(false, DecoderState.INITIAL_CACHE);
    }

    /** Empty key/value stores of every decoder layer's cross- or self-attention for {@code capacity} positions. */
    private Attention.KeyValues[] newStores(boolean cross, int capacity) {
        Attention.KeyValues[] stores = new Attention.KeyValues[decoderLayers.length];
        for (int l = 0; l < stores.length; l++) {
            stores[l] = (cross ? decoderLayers[l].crossAttn : decoderLayers[l].selfAttn).newKeyValues(capacity);
        }
        return stores;
    }

    /**
     * Keeps a finished request's stores for the next one: the cross-attention stores up to {@link
     * EncoderWork#KEEP_ROWS} positions, the self-attention caches when they did not grow.
     */
    void giveBack(Attention.KeyValues[] cross, Attention.KeyValues[] self) {
        if (cross.length == 0 || cross[0].capacity <= EncoderWork.KEEP_ROWS) {
            spareCross.give(cross);
        }
        if (self.length == 0 || self[0].capacity == DecoderState.INITIAL_CACHE) {
            spareSelf.give(self);
        }
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

    void checkId(int id) {
        if (id < 0 || id >= config.vocabSize) {
            throw new io.needle.base.NeedleException(io.needle.base.NeedleException.Kind.INPUT,
                    "token id " + id + " is out of range for vocab_size " + config.vocabSize);
        }
    }
}
