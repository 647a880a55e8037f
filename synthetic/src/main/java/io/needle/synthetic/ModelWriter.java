package io.needle.synthetic;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Builds seeded random Needle weight files of any configuration in the needle-rs layout (docs/spec/MODEL.md
 * section 4), byte for byte what needle-rs's {@code tools/export.py} writes for the same weights:
 * {@code __metadata__} first with Python {@code str()} values, tensors in its order, BF16 embedding
 * (float32 truncated), F32 norms and gates {@code [1]}, INT4 linears {@code X} {@code [in_pad/2, out]}
 * + {@code X.scale} F32 {@code [in_pad/32, out]} floored at 1e-8, F32 contrastive head, header not
 * padded. The models of the tests, of {@code needle demo} and of {@code needle bench} (no download,
 * no files). The output is meaningless; only its shape and the work it takes are real. The same
 * settings always give the same bytes. Every variation a real file may hold is a setting: metadata
 * as export.py, an older export or none; norm and gate dtypes; gates {@code []}; plain float
 * linears; FFN widths that need padding; contrastive heads of any width.
 *
 * <pre>
 * byte[] weights = ModelWriter.fullSize().seed(7).build();   // ~22.3 MB, the real model's shape
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
 *   <li>FFN gate/up: N(0, 0.1) (at 0.02 the FFN adds almost nothing and drelu/swiglu/geglu
 *       models decode alike; at 0.1 the activation changes the output and sequences stay varied;
 *       at 0.3 swiglu/geglu models start repeating one token);</li>
 *   <li>norm scales γ: N(0, 0.1) (so 1 + γ ≈ 1); q/k norm γ: N(2, 0.1) (sharp attention);</li>
 *   <li>gates: N(0, 1); contrastive bias N(0, 0.02).</li>
 * </ul>
 * Each can be changed with its setter. Linears are quantized with {@link Int4Packing} when their
 * dtype is I4 (the default).
 *
 * <p>Presets: {@link #tiny()} (vocab 512, d 32, heads 4/2, layers 2/2) and {@link #fullSize()}
 * (vocab 8192, d 512, heads 8/4, layers 12/8, I4; 22,259,304 bytes).
 */
public final class ModelWriter {
    /** Which {@code __metadata__} the file gets. */
    public enum Metadata {
        /** export.py's 12 keys with Python {@code str()} values ({@code max_enc_len}, {@code ffn_dim}, {@code "True"}). */
        EXPORT,
        /** An older export's spellings: {@code max_seq_len}, {@code d_ff}, {@code "true"}/{@code "false"}. */
        LEGACY,
        /** No {@code __metadata__} at all (the first export): the config is inferred from the tensors. */
        NONE
    }

    private long seed = 1;
    private int vocabSize = 512;
    private int dModel = 64;
    private int numHeads = 4;
    private int numKvHeads = 2;
    private int encoderLayers = 2;
    private int decoderLayers = 2;
    private int maxEncLen = 1024;
    private int maxDecLen = 512;
    private double ropeTheta = 10000.0;
    private boolean feedforward = false;
    private int ffnDim = -1; // -1: 4 * d_model in the metadata
    private String activation = "drelu";
    private boolean contrastive = false;
    private int contrastiveHidden = -1; // -1: d_model / 4
    private int contrastiveDim = 128;
    private Metadata metadata = Metadata.EXPORT;
    private boolean padHeader = false;

    private TensorType embeddingDtype = TensorType.BF16;
    private TensorType linearDtype = TensorType.I4;
    private TensorType scalesDtype = TensorType.F32;
    private TensorType normDtype = TensorType.F32;
    private boolean scalarGates = false;
    private final Map<String, TensorType> linearOverrides = new HashMap<>();

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

    /** The metadata's {@code max_enc_len} (legacy: {@code max_seq_len}); default 1024. */
    public ModelWriter maxEncLen(int n) {
        this.maxEncLen = n;
        return this;
    }

    /** The metadata's {@code max_dec_len}; default 512. */
    public ModelWriter maxDecLen(int n) {
        this.maxDecLen = n;
        return this;
    }

    /** Adds feed-forward blocks of width {@code ffnDim} with "drelu", "swiglu" or "geglu". */
    public ModelWriter ffn(int ffnDim, String activation) {
        this.feedforward = true;
        this.ffnDim = ffnDim;
        this.activation = activation;
        return this;
    }

    /** No feed-forward blocks; {@code ffnDim} and {@code activation} are still written as metadata (as export.py does). */
    public ModelWriter noFfn(int ffnDim, String activation) {
        this.feedforward = false;
        this.ffnDim = ffnDim;
        this.activation = activation;
        return this;
    }

    /** Adds the contrastive head with hidden width d_model / 4 (the trained model's) and embeddings of {@code dim}. */
    public ModelWriter contrastive(int dim) {
        return contrastive(-1, dim);
    }

    /** Adds the contrastive head with hidden width {@code hidden} (-1: d_model / 4) and embeddings of {@code dim}. */
    public ModelWriter contrastive(int hidden, int dim) {
        this.contrastive = true;
        this.contrastiveHidden = hidden;
        this.contrastiveDim = dim;
        return this;
    }

    /** No contrastive head. */
    public ModelWriter noContrastive() {
        this.contrastive = false;
        return this;
    }

    /** Which {@code __metadata__} to write: export.py's (default), an older export's, or none. */
    public ModelWriter metadata(Metadata m) {
        this.metadata = m;
        return this;
    }

    /**
     * Pads the header with spaces to a multiple of 8 bytes (the Rust/Python {@code safetensors}
     * libraries do; export.py does not, and neither does this writer by default).
     */
    public ModelWriter padHeader(boolean b) {
        this.padHeader = b;
        return this;
    }

    /** Dtype of the embedding: BF16 (default; float32 truncated to its upper 16 bits, as export.py), F16 or F32. */
    public ModelWriter embeddingDtype(TensorType t) {
        this.embeddingDtype = t;
        return this;
    }

    /** Dtype of every linear: I4 (X + X.scale, the default) or F32/F16/BF16 (X alone, [in, out]). */
    public ModelWriter linearDtype(TensorType t) {
        this.linearDtype = t;
        return this;
    }

    /**
     * Dtype of one linear, by its tensor name, e.g. {@code encoder.0.self_attn.wo} or
     * {@code contrastive_proj_kernel} (the contrastive head is F32 unless overridden).
     */
    public ModelWriter linearDtype(String linear, TensorType t) {
        linearOverrides.put(linear, t);
        return this;
    }

    /** Dtype of the I4 group scales {@code X.scale}: F32 (default, export.py), F16 or BF16. */
    public ModelWriter scalesDtype(TensorType t) {
        this.scalesDtype = t;
        return this;
    }

    /** Dtype of norms, final norms and gates: F32 (default, export.py), BF16 (the model card's "BF16 norms") or F16. */
    public ModelWriter normDtype(TensorType t) {
        this.normDtype = t;
        return this;
    }

    /** Gates of shape {@code []} instead of export.py's {@code [1]}. */
    public ModelWriter scalarGates(boolean b) {
        this.scalarGates = b;
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

    private int ffnDimValue() {
        return ffnDim >= 0 ? ffnDim : 4 * dModel;
    }

    private int contrastiveHiddenValue() {
        return contrastiveHidden > 0 ? contrastiveHidden : Math.max(1, dModel / 4);
    }

    /**
     * A one-line description, e.g. {@code "vocab 1024, d_model 64, heads 4/2, layers 2+2, INT4, no FFN"}
     * (the linear dtype is INT4 for I4, else its name; overrides of single linears are not shown).
     */
    public String describe() {
        return "vocab " + vocabSize + ", d_model " + dModel + ", heads " + numHeads + "/" + numKvHeads
                + ", layers " + encoderLayers + "+" + decoderLayers + ", "
                + (linearDtype == TensorType.I4 ? "INT4" : linearDtype.name()) + ", "
                + (feedforward ? "FFN " + ffnDimValue() + " " + activation : "no FFN")
                + (contrastive ? ", contrastive head" : "");
    }

    // ------------------------------------------------------------------ output

    /**
     * The {@code __metadata__} entries in export.py's order, values as Python's {@code str()} writes
     * them (empty for {@link Metadata#NONE}).
     */
    public Map<String, String> config() {
        Map<String, String> c = new LinkedHashMap<>();
        if (metadata == Metadata.NONE) {
            return c;
        }
        boolean legacy = metadata == Metadata.LEGACY;
        c.put("d_model", Integer.toString(dModel));
        c.put("num_heads", Integer.toString(numHeads));
        c.put("num_kv_heads", Integer.toString(numKvHeads));
        c.put("num_encoder_layers", Integer.toString(encoderLayers));
        c.put("num_decoder_layers", Integer.toString(decoderLayers));
        c.put("vocab_size", Integer.toString(vocabSize));
        c.put(legacy ? "max_seq_len" : "max_enc_len", Integer.toString(maxEncLen));
        c.put("max_dec_len", Integer.toString(maxDecLen));
        c.put(legacy ? "d_ff" : "ffn_dim", Integer.toString(ffnDimValue()));
        c.put("no_feedforward", legacy ? (feedforward ? "false" : "true") : (feedforward ? "False" : "True"));
        c.put("activation", activation);
        c.put("rope_theta", pythonStr(ropeTheta));
        return c;
    }

    /** Python's {@code str()} of a float: {@code 10000.0}, {@code 0.5}, {@code 1e+16}. */
    static String pythonStr(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e16) {
            return Long.toString((long) v) + ".0";
        }
        String s = Double.toString(v); // the shortest round-trip digits, as Python's repr
        int e = s.indexOf('E');
        if (e < 0) {
            return s;
        }
        String mantissa = s.substring(0, e);
        if (mantissa.endsWith(".0")) {
            mantissa = mantissa.substring(0, mantissa.length() - 2);
        }
        int exp = Integer.parseInt(s.substring(e + 1));
        return mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }

    /** The model as a file. */
    public byte[] build() {
        return writer().toBytes();
    }

    /**
     * A writer holding the whole model, for tests that alter it (remove a tensor, edit metadata):
     * tensors in export.py's order (embedding, final norms, contrastive head, encoder layers,
     * decoder layers).
     */
    public SafeTensorsWriter writer() {
        if (dModel <= 0 || numHeads <= 0 || numKvHeads <= 0 || dModel % numHeads != 0
                || numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("d_model must divide into heads, heads into kv heads");
        }
        random = new Random(seed);
        SafeTensorsWriter w = new SafeTensorsWriter().padHeader(padHeader);
        for (Map.Entry<String, String> e : config().entrySet()) {
            w.metadata(e.getKey(), e.getValue());
        }
        int d = dModel;
        int hd = d / numHeads;
        float[] emb = gaussian(vocabSize * d, 0, embeddingStd);
        if (embeddingDtype == TensorType.BF16) {
            w.add("embedding", TensorType.BF16, new int[] {vocabSize, d}, SafeTensorsWriter.encodeBf16Truncated(emb));
        } else {
            w.addFloats("embedding", embeddingDtype, new int[] {vocabSize, d}, emb);
        }
        norm(w, "encoder_final_norm", d, 0, normStd);
        norm(w, "decoder_final_norm", d, 0, normStd);
        if (contrastive) {
            int h = contrastiveHiddenValue();
            linear(w, "contrastive_hidden_kernel", d, h, contrastiveStd, TensorType.F32);
            w.addFloats("contrastive_hidden_bias", TensorType.F32, new int[] {h}, gaussian(h, 0, contrastiveStd));
            linear(w, "contrastive_proj_kernel", h, contrastiveDim, contrastiveStd, TensorType.F32);
        }
        for (int i = 0; i < encoderLayers; i++) {
            String p = "encoder." + i + ".";
            norm(w, p + "norm", d, 0, normStd);
            gate(w, p + "self_attn_gate");
            attention(w, p + "self_attn", d, hd);
            ffnBlock(w, p, d);
        }
        for (int i = 0; i < decoderLayers; i++) {
            String p = "decoder." + i + ".";
            norm(w, p + "self_attn_norm", d, 0, normStd);
            norm(w, p + "cross_attn_norm", d, 0, normStd);
            gate(w, p + "self_attn_gate");
            gate(w, p + "cross_attn_gate");
            attention(w, p + "self_attn", d, hd);
            attention(w, p + "cross_attn", d, hd);
            ffnBlock(w, p, d);
        }
        return w;
    }

    private void attention(SafeTensorsWriter w, String p, int d, int hd) {
        linear(w, p + ".wq", d, numHeads * hd, qkStd, linearDtype);
        linear(w, p + ".wk", d, numKvHeads * hd, qkStd, linearDtype);
        linear(w, p + ".wv", d, numKvHeads * hd, voStd, linearDtype);
        linear(w, p + ".wo", numHeads * hd, d, voStd, linearDtype);
        norm(w, p + ".q_norm", hd, qkNormMean, qkNormStd);
        norm(w, p + ".k_norm", hd, qkNormMean, qkNormStd);
    }

    private void ffnBlock(SafeTensorsWriter w, String p, int d) {
        if (!feedforward) {
            return;
        }
        int ff = ffnDimValue();
        gate(w, p + "ffn_gate");
        norm(w, p + "ffn_norm", d, 0, normStd);
        linear(w, p + "ffn.gate_proj", d, ff, ffnInStd, linearDtype);
        linear(w, p + "ffn.up_proj", d, ff, ffnInStd, linearDtype);
        linear(w, p + "ffn.down_proj", ff, d, ffnDownStd, linearDtype);
    }

    private void norm(SafeTensorsWriter w, String name, int n, double mean, double std) {
        w.addFloats(name, normDtype, new int[] {n}, gaussian(n, mean, std));
    }

    private void gate(SafeTensorsWriter w, String name) {
        w.addFloats(name, normDtype, scalarGates ? new int[0] : new int[] {1}, gaussian(1, 0, gateStd));
    }

    /** X as I4 [in_pad/2, out] + X.scale [in_pad/g, out] (export.py), or a plain float X [in, out]. */
    private void linear(SafeTensorsWriter w, String name, int in, int out, double std, TensorType dflt) {
        float[] values = gaussian(in * out, 0, std);
        TensorType t = linearOverrides.containsKey(name) ? linearOverrides.get(name) : dflt;
        if (t == TensorType.I4) {
            Int4Packing.Quantized q = Int4Packing.quantize(values, in, out);
            w.add(name, TensorType.I4, new int[] {q.rows, out}, q.packed);
            w.addFloats(name + ".scale", scalesDtype, new int[] {q.groups, out}, q.scales);
        } else {
            w.addFloats(name, t, new int[] {in, out}, values);
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
