package io.needle.model;

import io.needle.base.NeedleException;
import io.needle.json.JsonNumber;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The model's hyper-parameters (docs/spec/MODEL.md sections 1 and 4): a plain record. {@link ConfigReader}
 * makes one from a weight file (its {@code __metadata__}, checked against the tensors, or the
 * tensors alone).
 */
public final class Config {
    /** Rows of a linear that share one INT4 scale (needle-rs: {@code min(32, in)}; not stored in files). */
    public static final int GROUP_SIZE = 32;

    /** Where the values came from. */
    public enum Source {
        /** Every structural value was in {@code __metadata__} (and agrees with the tensors). */
        METADATA("__metadata__"),
        /** Some values were in {@code __metadata__}, the others were inferred from the tensors. */
        METADATA_AND_TENSORS("__metadata__, the rest inferred from the tensors"),
        /** The file has no usable {@code __metadata__}: everything was inferred from the tensors. */
        TENSORS("inferred from the tensors (no __metadata__)");

        private final String description;

        Source(String description) {
            this.description = description;
        }

        /** How {@code needle inspect} says it. */
        public String description() {
            return description;
        }
    }

    public final int vocabSize;
    public final int dModel;
    public final int numHeads;
    public final int numKvHeads;
    public final int numEncoderLayers;
    public final int numDecoderLayers;
    /** Longest encoder input (metadata {@code max_enc_len}, older files {@code max_seq_len}). */
    public final int maxEncLen;
    /** The decoder's position buffer (metadata {@code max_dec_len}; informational: generation stops after 511). */
    public final int maxDecLen;
    public final float ropeTheta;
    public final boolean noFeedforward;
    /** FFN width (metadata {@code ffn_dim}, older files {@code d_ff}); as stored even without FFN. */
    public final int ffnDim;
    /** {@code drelu}, {@code swiglu} or {@code geglu}. */
    public final String activation;
    /** Width of the contrastive head's hidden layer (the bias length), 0 without a head. */
    public final int contrastiveHidden;
    /** Size of a contrastive embedding, 0 without a head. */
    public final int contrastiveDim;
    public final Source source;

    public Config(int vocabSize, int dModel, int numHeads, int numKvHeads, int numEncoderLayers,
            int numDecoderLayers, int maxEncLen, int maxDecLen, float ropeTheta, boolean noFeedforward,
            int ffnDim, String activation, int contrastiveHidden, int contrastiveDim, Source source) {
        this.vocabSize = vocabSize;
        this.dModel = dModel;
        this.numHeads = numHeads;
        this.numKvHeads = numKvHeads;
        this.numEncoderLayers = numEncoderLayers;
        this.numDecoderLayers = numDecoderLayers;
        this.maxEncLen = maxEncLen;
        this.maxDecLen = maxDecLen;
        this.ropeTheta = ropeTheta;
        this.noFeedforward = noFeedforward;
        this.ffnDim = ffnDim;
        this.activation = activation;
        this.contrastiveHidden = contrastiveHidden;
        this.contrastiveDim = contrastiveDim;
        this.source = source;
        validate();
    }

    /** d_model / num_heads. */
    public int headDim() {
        return dModel / numHeads;
    }

    public boolean hasContrastiveHead() {
        return contrastiveDim > 0;
    }

    private void validate() {
        positive("vocab_size", vocabSize);
        positive("d_model", dModel);
        positive("num_heads", numHeads);
        positive("num_kv_heads", numKvHeads);
        positive("num_encoder_layers", numEncoderLayers);
        positive("num_decoder_layers", numDecoderLayers);
        if (dModel % numHeads != 0) {
            throw bad("num_heads (" + numHeads + ") must divide d_model (" + dModel + ")");
        }
        if (numHeads % numKvHeads != 0) {
            throw bad("num_kv_heads (" + numKvHeads + ") must divide num_heads (" + numHeads + ")");
        }
        if (headDim() % 2 != 0) {
            throw bad("head_dim (" + headDim() + ") must be even for RoPE");
        }
        if (!noFeedforward) {
            positive("ffn_dim", ffnDim);
        }
        if (ffnDim < 0) {
            throw bad("ffn_dim must not be negative, got " + ffnDim);
        }
        if (!activation.equals("drelu") && !activation.equals("swiglu") && !activation.equals("geglu")) {
            throw bad("activation must be drelu, swiglu or geglu, got " + show(activation));
        }
        if (maxEncLen < 2) {
            throw bad("max_enc_len must be at least 2 (a query token, <tools>), got " + maxEncLen);
        }
        if (maxDecLen < 1) {
            throw bad("max_dec_len must be a positive integer, got " + maxDecLen);
        }
        if (contrastiveHidden < 0 || contrastiveDim < 0 || (contrastiveHidden == 0) != (contrastiveDim == 0)) {
            throw bad("contrastive head sizes must both be positive or both 0, got hidden "
                    + contrastiveHidden + " and dim " + contrastiveDim);
        }
        atMost("vocab_size", vocabSize, 1 << 20);
        atMost("d_model", dModel, 1 << 16);
        atMost("num_encoder_layers", numEncoderLayers, 1024);
        atMost("num_decoder_layers", numDecoderLayers, 1024);
        atMost("ffn_dim", ffnDim, 1 << 18);
        atMost("max_enc_len", maxEncLen, 1 << 16);
        atMost("max_dec_len", maxDecLen, 1 << 16);
        if (!(ropeTheta > 0) || Float.isInfinite(ropeTheta)) {
            throw bad("rope_theta must be a positive number");
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw bad(name + " must be a positive integer, got " + v);
        }
    }

    private static void atMost(String name, int v, int max) {
        if (v > max) {
            throw bad(name + " " + v + " is implausibly large (at most " + max + ")");
        }
    }

    /** A value from the file for a one-line message: in single quotes, control characters escaped, long ones cut. */
    static String show(String v) {
        String t = v.length() > 60 ? v.substring(0, 60) + "..." : v;
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                String hex = "0123456789abcdef";
                sb.append("\\u00").append(hex.charAt(c >> 4)).append(hex.charAt(c & 15));
            } else {
                sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }

    static NeedleException bad(String msg) {
        return new NeedleException(NeedleException.Kind.CONFIG, "bad model config: " + msg);
    }

    /**
     * The config as ordered key/value pairs with export.py's metadata names, then the derived
     * values (for {@code needle inspect}, the npm package's {@code config} and JSON).
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("d_model", dModel);
        m.put("num_heads", numHeads);
        m.put("num_kv_heads", numKvHeads);
        m.put("num_encoder_layers", numEncoderLayers);
        m.put("num_decoder_layers", numDecoderLayers);
        m.put("vocab_size", vocabSize);
        m.put("max_enc_len", maxEncLen);
        m.put("max_dec_len", maxDecLen);
        m.put("ffn_dim", ffnDim);
        m.put("no_feedforward", noFeedforward);
        m.put("activation", activation);
        m.put("rope_theta", new JsonNumber(Float.toString(ropeTheta)));
        m.put("head_dim", headDim());
        m.put("contrastive_hidden", contrastiveHidden);
        m.put("contrastive_dim", contrastiveDim);
        m.put("source", source == Source.TENSORS ? "tensors"
                : source == Source.METADATA ? "metadata" : "metadata+tensors");
        return m;
    }
}
