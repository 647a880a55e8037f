package io.needle.synthetic;

import io.needle.json.Json;
import io.needle.json.JsonNumber;
import io.needle.safetensors.DType;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Builds seeded random Needle weight files of any configuration, in the format and with the tensor
 * names of MODEL.md section 4, in the same tensor order as the parity fixtures: the models of the
 * tests, of {@code needle demo} and of {@code needle bench} (no download, no files). The output is
 * meaningless; only its shape and the work it takes are real. The same settings always give the
 * same bytes.
 *
 * <pre>
 * byte[] weights = ModelWriter.fullSize().seed(7).build();   // ~21 MB, the real model's shape
 * String vocab = TestVocab.make(8192, 7);
 * NeedleEngine engine = NeedleEngine.load(weights, vocab);
 * </pre>
 *
 * <p><b>Random values</b> ({@code java.util.Random(seed)}, drawn tensor by tensor in file order).
 * At the original init scale (every weight N(0, 0.02)) a random model answers eos at once or
 * repeats one token: attention adds almost nothing to the residual, so each position predicts its
 * own token. The defaults therefore make attention (and the FFN) matter, the same regime as the
 * parity fixtures, which decode varied sequences:
 * <ul>
 *   <li>embedding, q/k projections, contrastive layers: N(0, 0.02);</li>
 *   <li>v/o projections and FFN down: N(0, 0.3) (large residual contributions);</li>
 *   <li>FFN gate/up: N(0, 0.1) (the parity fixtures use 0.02, where the FFN adds almost nothing
 *       and drelu/swiglu/geglu models decode alike; at 0.1 the activation changes the output and
 *       sequences stay varied; at 0.3 swiglu/geglu models start repeating one token);</li>
 *   <li>norm scales γ: N(0, 0.1) (so 1 + γ ≈ 1); q/k norm γ: N(2, 0.1) (sharp attention);</li>
 *   <li>gates: N(0, 1); contrastive bias N(0, 0.02); contrastive log_temp N(0, 0.1).</li>
 * </ul>
 * Checked with an independent float64 forward pass (which reproduces the parity fixtures): tiny
 * models of several seeds, with and without FFN, and the full-size preset decode varied
 * 24-token sequences from random inputs of 1 to 60 ids, some stopping early with eos.
 * Each can be changed with its setter. Linears are quantized with {@link Int4Packing} when their
 * dtype is I4 (the default); plain linears are {@code X.weight} in F32/F16/BF16.
 *
 * <p>Presets: {@link #tiny()} (vocab 512, d 32, heads 4/2, layers 2/2) and {@link #fullSize()}
 * (vocab 8192, d 512, heads 8/4, layers 12/8, I4; about 21 MB).
 */
public final class ModelWriter {
    private long seed = 1;
    private int vocabSize = 512;
    private int dModel = 64;
    private int numHeads = 4;
    private int numKvHeads = 2;
    private int encoderLayers = 2;
    private int decoderLayers = 2;
    private int maxSeqLen = 1024;
    private double ropeTheta = 10000.0;
    private int padTokenId = 0;
    private boolean feedforward = false;
    private int dFf = 0;
    private String activation = "drelu";
    private boolean contrastive = false;
    private int contrastiveDim = 128;
    private int groupSize = 32;
    private boolean configAsJson = false;

    private DType embeddingDtype = DType.BF16;
    private DType linearDtype = DType.I4;
    private DType scalesDtype = DType.BF16;
    private DType normDtype = DType.BF16;
    private boolean gatesAsVector = false;
    private final Map<String, DType> linearOverrides = new HashMap<>();

    private double embeddingStd = 0.02;
    private double qkStd = 0.02;
    private double voStd = 0.3;
    private double ffnInStd = 0.1;
    private double ffnDownStd = 0.3;
    private double normStd = 0.1;
    private double qkNormMean = 2.0;
    private double qkNormStd = 0.1;
    private double gateStd = 1.0;
    private double contrastiveStd = 0.02;

    private Random random;

    /** A small model: vocab 512, d_model 32, heads 4/2 (head_dim 8), layers 2/2, no FFN. */
    public static ModelWriter tiny() {
        return new ModelWriter().vocabSize(512).dModel(32).heads(4, 2).layers(2, 2);
    }

    /** The real model's shape: vocab 8192, d_model 512, heads 8/4, layers 12/8, I4, no FFN. */
    public static ModelWriter fullSize() {
        return new ModelWriter().vocabSize(8192).dModel(512).heads(8, 4).layers(12, 8);
    }

    // ------------------------------------------------------------------ configuration

    public ModelWriter seed(long seed) {
        this.seed = seed;
        return this;
    }

    public ModelWriter vocabSize(int v) {
        this.vocabSize = v;
        return this;
    }

    public ModelWriter dModel(int d) {
        this.dModel = d;
        return this;
    }

    /** Query heads and key-value heads (head_dim = d_model / heads). */
    public ModelWriter heads(int heads, int kvHeads) {
        this.numHeads = heads;
        this.numKvHeads = kvHeads;
        return this;
    }

    public ModelWriter layers(int encoder, int decoder) {
        this.encoderLayers = encoder;
        this.decoderLayers = decoder;
        return this;
    }

    public ModelWriter ropeTheta(double theta) {
        this.ropeTheta = theta;
        return this;
    }

    public ModelWriter maxSeqLen(int n) {
        this.maxSeqLen = n;
        return this;
    }

    public ModelWriter padTokenId(int id) {
        this.padTokenId = id;
        return this;
    }

    /** Adds feed-forward blocks of width {@code dFf} with "drelu", "swiglu" or "geglu". */
    public ModelWriter ffn(int dFf, String activation) {
        this.feedforward = true;
        this.dFf = dFf;
        this.activation = activation;
        return this;
    }

    /** No feed-forward blocks; {@code dFf} and {@code activation} are still written as metadata. */
    public ModelWriter noFfn(int dFf, String activation) {
        this.feedforward = false;
        this.dFf = dFf;
        this.activation = activation;
        return this;
    }

    /** Adds the contrastive head (contrastive.hidden, .hidden.bias, .proj, .log_temp). */
    public ModelWriter contrastive(int dim) {
        this.contrastive = true;
        this.contrastiveDim = dim;
        return this;
    }

    /** No contrastive head; {@code dim} is still written as the contrastive_dim metadata. */
    public ModelWriter noContrastive(int dim) {
        this.contrastive = false;
        this.contrastiveDim = dim;
        return this;
    }

    public ModelWriter groupSize(int g) {
        this.groupSize = g;
        return this;
    }

    /** Writes the config as one {@code config} JSON metadata key instead of one key per field. */
    public ModelWriter configAsJson(boolean b) {
        this.configAsJson = b;
        return this;
    }

    public ModelWriter embeddingDtype(DType t) {
        this.embeddingDtype = t;
        return this;
    }

    /** Dtype of every linear: I4 (qweight + scales, the default) or F32/F16/BF16 (.weight). */
    public ModelWriter linearDtype(DType t) {
        this.linearDtype = t;
        return this;
    }

    /**
     * Dtype of one linear, by its name without suffix, e.g.
     * {@code encoder.layers.0.self_attn.o_proj} or {@code contrastive.proj}.
     */
    public ModelWriter linearDtype(String linear, DType t) {
        linearOverrides.put(linear, t);
        return this;
    }

    /** Dtype of I4 scales: F32, F16 or BF16 (default BF16). */
    public ModelWriter scalesDtype(DType t) {
        this.scalesDtype = t;
        return this;
    }

    /** Dtype of norm scales, gates, the contrastive bias and log_temp: BF16 (default) or F32/F16. */
    public ModelWriter normDtype(DType t) {
        this.normDtype = t;
        return this;
    }

    /** Gates of shape {@code [1]} instead of {@code []}. */
    public ModelWriter gatesAsVector(boolean b) {
        this.gatesAsVector = b;
        return this;
    }

    public ModelWriter embeddingStd(double s) {
        this.embeddingStd = s;
        return this;
    }

    /** Standard deviation of q and k projections. */
    public ModelWriter qkStd(double s) {
        this.qkStd = s;
        return this;
    }

    /** Standard deviation of v and o projections. */
    public ModelWriter voStd(double s) {
        this.voStd = s;
        return this;
    }

    /** Standard deviations of FFN gate/up and of FFN down. */
    public ModelWriter ffnStd(double inStd, double downStd) {
        this.ffnInStd = inStd;
        this.ffnDownStd = downStd;
        return this;
    }

    /** Standard deviation of the (zero-centred) norm scales γ. */
    public ModelWriter normStd(double s) {
        this.normStd = s;
        return this;
    }

    /** Mean and standard deviation of the q/k norm scales γ (the norm multiplies by 1 + γ). */
    public ModelWriter qkNorm(double mean, double std) {
        this.qkNormMean = mean;
        this.qkNormStd = std;
        return this;
    }

    public ModelWriter gateStd(double s) {
        this.gateStd = s;
        return this;
    }

    public ModelWriter contrastiveStd(double s) {
        this.contrastiveStd = s;
        return this;
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int dModel() {
        return dModel;
    }

    public int headDim() {
        return dModel / numHeads;
    }

    /**
     * A one-line description, e.g. {@code "vocab 1024, d_model 64, heads 4/2, layers 2+2, INT4, no FFN"}
     * (the linear dtype is INT4 for I4, else its name; overrides of single linears are not shown).
     */
    public String describe() {
        return "vocab " + vocabSize + ", d_model " + dModel + ", heads " + numHeads + "/" + numKvHeads
                + ", layers " + encoderLayers + "+" + decoderLayers + ", "
                + (linearDtype == DType.I4 ? "INT4" : linearDtype.name()) + ", "
                + (feedforward ? "FFN " + dFf + " " + activation : "no FFN")
                + (contrastive ? ", contrastive head" : "");
    }

    // ------------------------------------------------------------------ output

    /**
     * The config values as strings, in metadata order (what {@code __metadata__} holds in the
     * one-key-per-field form).
     */
    public Map<String, String> config() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("vocab_size", Integer.toString(vocabSize));
        c.put("d_model", Integer.toString(dModel));
        c.put("num_heads", Integer.toString(numHeads));
        c.put("num_kv_heads", Integer.toString(numKvHeads));
        c.put("num_encoder_layers", Integer.toString(encoderLayers));
        c.put("num_decoder_layers", Integer.toString(decoderLayers));
        c.put("max_seq_len", Integer.toString(maxSeqLen));
        c.put("rope_theta", Double.toString(ropeTheta));
        c.put("pad_token_id", Integer.toString(padTokenId));
        c.put("no_feedforward", feedforward ? "false" : "true");
        c.put("d_ff", Integer.toString(dFf));
        c.put("activation", activation);
        c.put("contrastive_dim", Integer.toString(contrastiveDim));
        c.put("group_size", Integer.toString(groupSize));
        return c;
    }

    /** The config as the JSON text of the single {@code config} key (numbers and booleans as JSON). */
    public String configJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : config().entrySet()) {
            String k = e.getKey();
            String v = e.getValue();
            if (k.equals("activation")) {
                m.put(k, v);
            } else if (k.equals("no_feedforward")) {
                m.put(k, Boolean.valueOf(v));
            } else {
                m.put(k, new JsonNumber(v));
            }
        }
        return Json.write(m);
    }

    /** The model as a file. */
    public byte[] build() {
        return writer().toBytes();
    }

    /** A writer holding the whole model, for tests that alter it (remove a tensor, edit metadata). */
    public SafeTensorsWriter writer() {
        if (dModel <= 0 || numHeads <= 0 || numKvHeads <= 0 || dModel % numHeads != 0
                || numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("d_model must divide into heads, heads into kv heads");
        }
        random = new Random(seed);
        SafeTensorsWriter w = new SafeTensorsWriter();
        if (configAsJson) {
            w.metadata("config", configJson());
        } else {
            for (Map.Entry<String, String> e : config().entrySet()) {
                w.metadata(e.getKey(), e.getValue());
            }
        }
        int d = dModel;
        int hd = d / numHeads;
        w.addFloats("embedding", embeddingDtype, new int[] {vocabSize, d},
                gaussian(vocabSize * d, 0, embeddingStd));
        for (int i = 0; i < encoderLayers; i++) {
            String p = "encoder.layers." + i + ".";
            norm(w, p + "attn_norm.scale", d, 0, normStd);
            gate(w, p + "attn_gate");
            attention(w, p + "self_attn", d, hd);
            ffnBlock(w, p, d);
        }
        norm(w, "encoder.final_norm.scale", d, 0, normStd);
        for (int i = 0; i < decoderLayers; i++) {
            String p = "decoder.layers." + i + ".";
            norm(w, p + "self_attn_norm.scale", d, 0, normStd);
            gate(w, p + "self_attn_gate");
            attention(w, p + "self_attn", d, hd);
            norm(w, p + "cross_attn_norm.scale", d, 0, normStd);
            gate(w, p + "cross_attn_gate");
            attention(w, p + "cross_attn", d, hd);
            ffnBlock(w, p, d);
        }
        norm(w, "decoder.final_norm.scale", d, 0, normStd);
        if (contrastive) {
            int h = d / 4;
            linear(w, "contrastive.hidden", d, h, contrastiveStd);
            norm(w, "contrastive.hidden.bias", h, 0, contrastiveStd);
            linear(w, "contrastive.proj", h, contrastiveDim, contrastiveStd);
            w.addFloats("contrastive.log_temp", normDtype, new int[0], gaussian(1, 0, 0.1));
        }
        return w;
    }

    private void attention(SafeTensorsWriter w, String p, int d, int hd) {
        linear(w, p + ".q_proj", d, numHeads * hd, qkStd);
        linear(w, p + ".k_proj", d, numKvHeads * hd, qkStd);
        linear(w, p + ".v_proj", d, numKvHeads * hd, voStd);
        linear(w, p + ".o_proj", numHeads * hd, d, voStd);
        norm(w, p + ".q_norm.scale", hd, qkNormMean, qkNormStd);
        norm(w, p + ".k_norm.scale", hd, qkNormMean, qkNormStd);
    }

    private void ffnBlock(SafeTensorsWriter w, String p, int d) {
        if (!feedforward) {
            return;
        }
        norm(w, p + "ffn_norm.scale", d, 0, normStd);
        gate(w, p + "ffn_gate");
        linear(w, p + "ffn.gate_proj", d, dFf, ffnInStd);
        linear(w, p + "ffn.up_proj", d, dFf, ffnInStd);
        linear(w, p + "ffn.down_proj", dFf, d, ffnDownStd);
    }

    private void norm(SafeTensorsWriter w, String name, int n, double mean, double std) {
        w.addFloats(name, normDtype, new int[] {n}, gaussian(n, mean, std));
    }

    private void gate(SafeTensorsWriter w, String name) {
        w.addFloats(name, normDtype, gatesAsVector ? new int[] {1} : new int[0], gaussian(1, 0, gateStd));
    }

    private void linear(SafeTensorsWriter w, String name, int in, int out, double std) {
        float[] values = gaussian(in * out, 0, std);
        DType t = linearOverrides.containsKey(name) ? linearOverrides.get(name) : linearDtype;
        if (t == DType.I4) {
            Int4Packing.Quantized q = Int4Packing.quantize(values, in, out, groupSize);
            w.add(name + ".qweight", DType.I4, new int[] {in, out}, q.packed);
            w.addFloats(name + ".scales", scalesDtype, new int[] {q.groups, out}, q.scales);
        } else {
            w.addFloats(name + ".weight", t, new int[] {in, out}, values);
        }
    }

    private float[] gaussian(int n, double mean, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + std * random.nextGaussian());
        }
        return v;
    }
}
