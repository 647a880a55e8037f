package io.needle.model;

import io.needle.engine.NeedleException;
import io.needle.json.Json;
import io.needle.safetensors.DType;
import io.needle.safetensors.Float16;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import java.util.List;

/**
 * Builds a {@link NeedleModel} from a parsed SafeTensors file. The tensor-name table of
 * MODEL.md section 4 lives here, in one place: a file with other names is a change of this class.
 * INT4 linears and the 16-bit embedding keep referencing the file's bytes; only small tensors
 * (norm scales, gates, group scales, biases) are decoded to float.
 */
public final class WeightLoader {
    private final SafeTensors st;
    private final Config config;

    private WeightLoader(SafeTensors st, Config config) {
        this.st = st;
        this.config = config;
    }

    /** Loads the model (config from the file's metadata). */
    public static NeedleModel load(SafeTensors st) {
        Config config = Config.fromMetadata(st.metadata());
        return new WeightLoader(st, config).build();
    }

    private NeedleModel build() {
        int d = config.dModel;
        Embedding embedding = embedding("embedding");
        EncoderLayer[] enc = new EncoderLayer[config.numEncoderLayers];
        for (int i = 0; i < enc.length; i++) {
            String p = "encoder.layers." + i + ".";
            ZcRmsNorm ffnNorm = config.noFeedforward ? null : norm(p + "ffn_norm.scale", d);
            enc[i] = new EncoderLayer(norm(p + "attn_norm.scale", d), gate(p + "attn_gate"),
                    attention(p + "self_attn."),
                    ffnNorm, config.noFeedforward ? 0f : gate(p + "ffn_gate"), ffn(p + "ffn."));
        }
        ZcRmsNorm encFinal = norm("encoder.final_norm.scale", d);
        DecoderLayer[] dec = new DecoderLayer[config.numDecoderLayers];
        for (int i = 0; i < dec.length; i++) {
            String p = "decoder.layers." + i + ".";
            ZcRmsNorm ffnNorm = config.noFeedforward ? null : norm(p + "ffn_norm.scale", d);
            dec[i] = new DecoderLayer(
                    norm(p + "self_attn_norm.scale", d), gate(p + "self_attn_gate"), attention(p + "self_attn."),
                    norm(p + "cross_attn_norm.scale", d), gate(p + "cross_attn_gate"), attention(p + "cross_attn."),
                    ffnNorm, config.noFeedforward ? 0f : gate(p + "ffn_gate"), ffn(p + "ffn."));
        }
        ZcRmsNorm decFinal = norm("decoder.final_norm.scale", d);
        ContrastiveHead head = null;
        if (hasLinear("contrastive.hidden") || hasLinear("contrastive.proj")) {
            int hid = d / 4;
            Linear hidden = linear("contrastive.hidden", d, hid);
            float[] bias = vector("contrastive.hidden.bias", hid);
            Linear proj = linear("contrastive.proj", hid, config.contrastiveDim);
            head = new ContrastiveHead(hidden, bias, proj);
        }
        return new NeedleModel(config, embedding, enc, encFinal, dec, decFinal, head);
    }

    private Attention attention(String p) {
        int d = config.dModel;
        int hd = config.headDim();
        int qd = config.numHeads * hd;
        int kvd = config.numKvHeads * hd;
        return new Attention(
                linear(p + "q_proj", d, qd), linear(p + "k_proj", d, kvd),
                linear(p + "v_proj", d, kvd), linear(p + "o_proj", qd, d),
                norm(p + "q_norm.scale", hd), norm(p + "k_norm.scale", hd),
                config.numHeads, config.numKvHeads, hd);
    }

    private FeedForward ffn(String p) {
        if (config.noFeedforward) {
            return null;
        }
        int d = config.dModel;
        int ff = config.dFf;
        return new FeedForward(linear(p + "gate_proj", d, ff), linear(p + "up_proj", d, ff),
                linear(p + "down_proj", ff, d), config.activation);
    }

    private boolean hasLinear(String name) {
        return st.has(name + ".qweight") || st.has(name + ".weight");
    }

    /** A linear X: X.qweight (I4 [in,out]) + X.scales ([ceil(in/g), out]), or X.weight (float [in,out]). */
    private Linear linear(String name, int in, int out) {
        TensorInfo q = st.get(name + ".qweight");
        if (q != null) {
            expectShape(q, in, out);
            if (q.dtype() != DType.I4) {
                throw bad("tensor '" + q.name() + "' must have dtype I4, has " + q.dtype());
            }
            int groups = (in + config.groupSize - 1) / config.groupSize;
            TensorInfo s = require(name + ".scales");
            expectShape(s, groups, out);
            return new Int4Linear(in, out, config.groupSize, st.bytes(), q.offset(), floats(s));
        }
        TensorInfo w = st.get(name + ".weight");
        if (w != null) {
            expectShape(w, in, out);
            return new DenseLinear(in, out, floats(w));
        }
        throw missing(name + ".qweight + " + name + ".scales (INT4) or " + name + ".weight (plain)");
    }

    private Embedding embedding(String name) {
        TensorInfo t = require(name);
        expectShape(t, config.vocabSize, config.dModel);
        checkFinite16(t);
        switch (t.dtype()) {
            case BF16:
                return Embedding.ofHalf(config.vocabSize, config.dModel, Embedding.Format.BF16, st.bytes(), t.offset());
            case F16:
                return Embedding.ofHalf(config.vocabSize, config.dModel, Embedding.Format.F16, st.bytes(), t.offset());
            case F32:
                return Embedding.ofFloat(config.vocabSize, config.dModel, floats(t));
            default:
                throw bad("tensor '" + name + "' must be BF16, F16 or F32, has " + t.dtype());
        }
    }

    private ZcRmsNorm norm(String name, int size) {
        return new ZcRmsNorm(vector(name, size));
    }

    private float[] vector(String name, int size) {
        TensorInfo t = require(name);
        if (t.rank() != 1 || t.dim(0) != size) {
            throw bad("tensor '" + name + "' has shape " + t.shapeString() + ", expected [" + size + "]");
        }
        return floats(t);
    }

    /** A gate is a stored scalar g (shape [] or [1]); the layer uses sigmoid(g). */
    private float gate(String name) {
        TensorInfo t = require(name);
        if (t.elementCount() != 1 || t.rank() > 1) {
            throw bad("tensor '" + name + "' has shape " + t.shapeString() + ", expected a scalar ([] or [1])");
        }
        double g = floats(t)[0];
        return (float) (1.0 / (1.0 + Math.exp(-g)));
    }

    private float[] floats(TensorInfo t) {
        if (t.dtype() == DType.I4) {
            throw bad("tensor '" + t.name() + "' must be F32, F16 or BF16, has I4");
        }
        float[] v = st.readFloats(t);
        for (int i = 0; i < v.length; i++) {
            if (Float.isNaN(v[i]) || Float.isInfinite(v[i])) {
                throw nonFinite(t, i, v[i]);
            }
        }
        return v;
    }

    /** Rejects NaN and infinite values in a 16-bit tensor read in place (exponent bits all ones). */
    private void checkFinite16(TensorInfo t) {
        int mask;
        if (t.dtype() == DType.BF16) {
            mask = 0x7f80;
        } else if (t.dtype() == DType.F16) {
            mask = 0x7c00;
        } else {
            return;
        }
        byte[] b = st.bytes();
        int n = (int) t.elementCount();
        int high = mask >> 8; // the exponent bits in the high byte: most values are ruled out by it alone
        for (int i = 0, p = t.offset(); i < n; i++, p += 2) {
            if ((b[p + 1] & high) != high) {
                continue;
            }
            int bits = (b[p] & 0xff) | (b[p + 1] & 0xff) << 8;
            if ((bits & mask) == mask) {
                float v = t.dtype() == DType.BF16 ? Float.intBitsToFloat(bits << 16)
                        : Float16.f16ToFloat((short) bits);
                throw nonFinite(t, i, v);
            }
        }
    }

    private static NeedleException nonFinite(TensorInfo t, int index, float v) {
        return bad("tensor '" + t.name() + "' holds " + v + " at element " + index
                + "; weights must be finite numbers");
    }

    private void expectShape(TensorInfo t, int rows, int cols) {
        if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != cols) {
            throw bad("tensor '" + t.name() + "' has shape " + t.shapeString() + ", expected ["
                    + rows + ", " + cols + "] for this config");
        }
    }

    private TensorInfo require(String name) {
        TensorInfo t = st.get(name);
        if (t == null) {
            throw missing(name);
        }
        return t;
    }

    private NeedleException missing(String what) {
        StringBuilder sb = new StringBuilder("weight file is missing tensor ").append(what)
                .append("; expected names follow MODEL.md section 4 (e.g. 'embedding', "
                        + "'encoder.layers.0.self_attn.q_proj.qweight'); the file has ");
        List<TensorInfo> all = st.tensors();
        sb.append(all.size()).append(" tensors");
        int shown = 0;
        for (TensorInfo t : all) {
            if (shown == 0) {
                sb.append(": ");
            } else {
                sb.append(", ");
            }
            if (shown == 40) {
                sb.append("... and ").append(all.size() - 40).append(" more");
                break;
            }
            sb.append(Json.quote(t.name())); // names come from the file: escaped, one line
            shown++;
        }
        return new NeedleException(NeedleException.Kind.WEIGHTS, sb.toString());
    }

    private static NeedleException bad(String msg) {
        return new NeedleException(NeedleException.Kind.WEIGHTS, "bad weight file: " + msg);
    }
}
