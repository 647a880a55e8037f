package io.needle.model;

import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import java.util.Map;

/**
 * Reads a {@link Config} from a weight file in the needle-rs layout (docs/spec/WEIGHTS.md).
 *
 * <p>Each value comes from {@code __metadata__} when the file has it, in any spelling an export
 * wrote ({@code max_enc_len} or {@code max_seq_len}; {@code ffn_dim} or {@code d_ff};
 * {@code True/true/1}, {@code False/false/0}; integers as {@code "512"} or {@code "512.0"}), and
 * is otherwise inferred from the tensors: vocab and d_model from {@code embedding}, the layer counts
 * from the names, head_dim from {@code q_norm}, the head counts from the widths of {@code wq} and
 * {@code wk}, the FFN from {@code ffn.gate_proj}, the contrastive sizes from its head. A metadata
 * value that contradicts the tensors refuses the file, naming both. Activation and rope_theta
 * cannot be inferred: drelu and 10000.
 */
public final class ConfigReader {
    private static final String[] STRUCTURAL = {
        "d_model", "num_heads", "num_kv_heads", "num_encoder_layers", "num_decoder_layers", "vocab_size",
    };
    private static final String[] KNOWN = {
        "d_model", "num_heads", "num_kv_heads", "num_encoder_layers", "num_decoder_layers", "vocab_size",
        "max_enc_len", "max_seq_len", "max_dec_len", "ffn_dim", "d_ff", "no_feedforward", "activation",
        "rope_theta",
    };

    private final SafeTensors st;
    private final Map<String, String> meta;

    private ConfigReader(SafeTensors st) {
        this.st = st;
        this.meta = st.metadata();
    }

    /** The config of a parsed weight file (metadata checked against the tensors, or inferred from them). */
    public static Config read(SafeTensors st) {
        return new ConfigReader(st).read();
    }

    private Config read() {
        TensorInfo emb = st.get("embedding");
        if (emb == null) {
            throw WeightLoader.missing(st, "embedding", "[vocab_size, d_model] BF16, F16 or F32");
        }
        if (emb.rank() != 2) {
            throw WeightLoader.bad("tensor 'embedding' has shape " + emb.shapeString()
                    + ", expected [vocab_size, d_model]");
        }
        int vocab = agree("vocab_size", metaInt("vocab_size"), emb.dim(0), "embedding", emb);
        int d = agree("d_model", metaInt("d_model"), emb.dim(1), "embedding", emb);

        int encLayers = layers("encoder", metaInt("num_encoder_layers"), "num_encoder_layers");
        int decLayers = layers("decoder", metaInt("num_decoder_layers"), "num_decoder_layers");

        TensorInfo qNorm = first("encoder.0.self_attn.q_norm", "decoder.0.self_attn.q_norm");
        Integer metaHeads = metaInt("num_heads");
        int heads;
        int hd;
        if (metaHeads != null) {
            heads = metaHeads;
            if (heads <= 0) {
                throw Config.bad("metadata 'num_heads' must be a positive integer, got " + heads);
            }
            hd = d / heads;
            if (qNorm != null && qNorm.rank() == 1 && qNorm.dim(0) != hd && d % heads == 0) {
                throw Config.bad("metadata num_heads " + show("num_heads") + " gives head_dim " + hd
                        + " (d_model " + d + " / " + heads + ") but tensor '" + qNorm.name() + "' has shape "
                        + qNorm.shapeString());
            }
        } else {
            hd = headDimFrom(qNorm);
            heads = width(first("encoder.0.self_attn.wq", "decoder.0.self_attn.wq"), hd, "num_heads");
        }
        Integer metaKv = metaInt("num_kv_heads");
        int kvHeads = metaKv != null ? metaKv
                : width(first("encoder.0.self_attn.wk", "decoder.0.self_attn.wk"), hd, "num_kv_heads");
        if (metaHeads != null && heads > 0 && d % heads == 0) { // else Config says what must divide what
            agreeWidth("num_heads", heads, hd, first("encoder.0.self_attn.wq", "decoder.0.self_attn.wq"));
        }
        if (metaKv != null && kvHeads > 0 && heads % kvHeads == 0 && d % heads == 0) {
            agreeWidth("num_kv_heads", kvHeads, hd, first("encoder.0.self_attn.wk", "decoder.0.self_attn.wk"));
        }

        TensorInfo ffnTensor = firstFfnTensor();
        Boolean metaNoFfn = metaBool("no_feedforward");
        boolean noFfn;
        if (metaNoFfn != null) {
            noFfn = metaNoFfn;
            if (noFfn && ffnTensor != null) {
                throw Config.bad("metadata no_feedforward " + show("no_feedforward")
                        + " says the model has no feed-forward blocks but the file has tensor '"
                        + ffnTensor.name() + "'");
            }
        } else {
            noFfn = ffnTensor == null;
        }
        TensorInfo gateProj = first("encoder.0.ffn.gate_proj", "decoder.0.ffn.gate_proj");
        Integer metaFfn = eitherInt("ffn_dim", "d_ff");
        int ffnDim;
        if (metaFfn != null) {
            ffnDim = metaFfn;
            if (!noFfn && gateProj != null && gateProj.rank() == 2 && gateProj.dim(1) != ffnDim) {
                throw Config.bad("metadata " + spelling("ffn_dim", "d_ff") + " gives " + ffnDim
                        + " but tensor '" + gateProj.name() + "' has shape " + gateProj.shapeString()
                        + " (output width " + gateProj.dim(1) + ")");
            }
        } else if (!noFfn) {
            if (gateProj == null) {
                throw WeightLoader.missing(st, "encoder.0.ffn.gate_proj",
                        "the FFN's [d_model, ffn_dim] linear (the file has feed-forward tensors)");
            }
            ffnDim = gateProj.rank() == 2 ? gateProj.dim(1) : 0;
        } else {
            ffnDim = 0;
        }

        Integer maxEnc = eitherInt("max_enc_len", "max_seq_len");
        Integer maxDec = metaInt("max_dec_len");
        String activation = meta.containsKey("activation") ? meta.get("activation").trim().toLowerCase() : "drelu";
        float theta = metaFloat("rope_theta", 10000f);

        int hidden = 0;
        int cdim = 0;
        TensorInfo bias = st.get("contrastive_hidden_bias");
        TensorInfo proj = st.get("contrastive_proj_kernel");
        if (bias != null && proj != null && bias.rank() == 1 && proj.rank() == 2) {
            hidden = bias.dim(0);
            cdim = proj.dim(1);
        }

        return new Config(vocab, d, heads, kvHeads, encLayers, decLayers,
                maxEnc != null ? maxEnc : 1024, maxDec != null ? maxDec : 512, theta, noFfn, ffnDim,
                activation, hidden, cdim, source());
    }

    private Config.Source source() {
        int known = 0;
        for (String k : KNOWN) {
            known += meta.containsKey(k) ? 1 : 0;
        }
        if (known == 0) {
            return Config.Source.TENSORS;
        }
        for (String k : STRUCTURAL) {
            if (!meta.containsKey(k)) {
                return Config.Source.METADATA_AND_TENSORS;
            }
        }
        return meta.containsKey("no_feedforward") ? Config.Source.METADATA : Config.Source.METADATA_AND_TENSORS;
    }

    /** The metadata value when given (checked against the tensor's), else the tensor's. */
    private int agree(String key, Integer fromMeta, int fromTensor, String tensor, TensorInfo t) {
        if (fromMeta != null && fromMeta != fromTensor) {
            throw Config.bad("metadata " + key + " " + show(key) + " contradicts tensor '" + tensor
                    + "' of shape " + t.shapeString() + " (" + key + " " + fromTensor + ")");
        }
        return fromTensor;
    }

    /** A metadata head count must give the output width of the first wq / wk (I4 and plain linears both store [.., out]). */
    private void agreeWidth(String key, int count, int hd, TensorInfo linear) {
        if (linear != null && linear.rank() == 2 && count > 0 && hd > 0 && linear.dim(1) != (long) count * hd) {
            throw Config.bad("metadata " + key + " " + show(key) + " gives an output width of " + count * hd + " ("
                    + count + " x head_dim " + hd + ") but tensor '" + linear.name() + "' has shape "
                    + linear.shapeString() + " (output width " + linear.dim(1) + ")");
        }
    }

    /** Layer count: the metadata's (no tensor of a later layer may exist) or 1 + the highest index in the names. */
    private int layers(String part, Integer fromMeta, String key) {
        int highest = -1;
        String highestName = null;
        String prefix = part + ".";
        for (TensorInfo t : st.tensors()) {
            String n = t.name();
            if (!n.startsWith(prefix)) {
                continue;
            }
            int i = prefix.length();
            int j = i;
            long v = 0;
            while (j < n.length() && j - i < 7 && n.charAt(j) >= '0' && n.charAt(j) <= '9') {
                v = v * 10 + (n.charAt(j) - '0');
                j++;
            }
            if (j > i && j < n.length() && n.charAt(j) == '.' && v > highest) {
                highest = (int) v;
                highestName = n;
            }
        }
        if (fromMeta != null) {
            if (highest >= fromMeta && fromMeta >= 0) {
                throw Config.bad("metadata " + key + " " + show(key) + " contradicts tensor '" + highestName
                        + "' (layer index " + highest + ")");
            }
            return fromMeta;
        }
        if (highest < 0) {
            throw WeightLoader.missing(st, part + ".0." + (part.equals("encoder") ? "norm" : "self_attn_norm"),
                    "the first " + part + " layer (no tensor named " + part + ".0.*)");
        }
        return highest + 1;
    }

    private int headDimFrom(TensorInfo qNorm) {
        if (qNorm == null) {
            throw WeightLoader.missing(st, "encoder.0.self_attn.q_norm", "[head_dim] (head_dim is read from it)");
        }
        if (qNorm.rank() != 1 || qNorm.dim(0) <= 0) {
            throw WeightLoader.bad("tensor '" + qNorm.name() + "' has shape " + qNorm.shapeString()
                    + ", expected [head_dim]");
        }
        return qNorm.dim(0);
    }

    /** Heads of width hd in a linear's output width (I4 and plain linears both store [.., out]). */
    private int width(TensorInfo linear, int hd, String key) {
        if (hd <= 0) {
            throw Config.bad("num_heads must be at most d_model (head_dim would be " + hd + ")");
        }
        if (linear == null) {
            throw WeightLoader.missing(st, "encoder.0.self_attn." + (key.equals("num_heads") ? "wq" : "wk"),
                    "a linear whose output width gives " + key);
        }
        if (linear.rank() != 2 || linear.dim(1) % hd != 0 || linear.dim(1) == 0) {
            throw WeightLoader.bad("tensor '" + linear.name() + "' has shape " + linear.shapeString()
                    + ": its output width must be a positive multiple of head_dim " + hd + " (to infer " + key + ")");
        }
        return linear.dim(1) / hd;
    }

    private TensorInfo first(String a, String b) {
        TensorInfo t = st.get(a);
        return t != null ? t : st.get(b);
    }

    /** A tensor of a feed-forward block, or null. */
    private TensorInfo firstFfnTensor() {
        for (TensorInfo t : st.tensors()) {
            String n = t.name();
            if ((n.startsWith("encoder.") || n.startsWith("decoder."))
                    && (n.contains(".ffn.") || n.endsWith(".ffn_norm") || n.endsWith(".ffn_gate"))) {
                return t;
            }
        }
        return null;
    }

    private Integer eitherInt(String key, String older) {
        Integer a = metaInt(key);
        Integer b = metaInt(older);
        if (a != null && b != null && !a.equals(b)) {
            throw Config.bad("metadata " + key + " " + show(key) + " and " + older + " " + show(older)
                    + " disagree");
        }
        return a != null ? a : b;
    }

    private String spelling(String key, String older) {
        return meta.containsKey(key) ? key + " " + show(key) : older + " " + show(older);
    }

    private String show(String key) {
        return Config.show(meta.get(key));
    }

    private Integer metaInt(String key) {
        if (!meta.containsKey(key)) {
            return null;
        }
        String t = meta.get(key).trim();
        try {
            return Integer.parseInt(t);
        } catch (NumberFormatException e) {
            try { // "512.0" when it is integral
                double v = Double.parseDouble(t);
                if (v == Math.rint(v) && Math.abs(v) < Integer.MAX_VALUE) {
                    return (int) v;
                }
            } catch (NumberFormatException ignored) {
                // fall through
            }
            throw Config.bad("metadata '" + key + "' must be an integer, got " + show(key));
        }
    }

    private Boolean metaBool(String key) {
        if (!meta.containsKey(key)) {
            return null;
        }
        String s = meta.get(key).trim();
        if (s.equals("True") || s.equals("true") || s.equals("1")) {
            return Boolean.TRUE;
        }
        if (s.equals("False") || s.equals("false") || s.equals("0")) {
            return Boolean.FALSE;
        }
        throw Config.bad("metadata '" + key + "' must be True or False (also true/false, 1/0), got " + show(key));
    }

    private float metaFloat(String key, float dflt) {
        if (!meta.containsKey(key)) {
            return dflt;
        }
        try {
            return (float) Double.parseDouble(meta.get(key).trim());
        } catch (NumberFormatException e) {
            throw Config.bad("metadata '" + key + "' must be a number, got " + show(key));
        }
    }

    /** Whether {@code key} is a metadata key this reader understands (others are ignored). */
    public static boolean isKnownKey(String key) {
        for (String k : KNOWN) {
            if (k.equals(key)) {
                return true;
            }
        }
        return false;
    }
}
