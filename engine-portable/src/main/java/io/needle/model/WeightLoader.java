package io.needle.model;

import io.needle.base.NeedleException;
import io.needle.json.Json;
import io.needle.safetensors.DType;
import io.needle.safetensors.Float16;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds a {@link NeedleModel} from a parsed SafeTensors file in the needle-rs layout (docs/spec/MODEL.md
 * section 4, written by needle-rs's {@code tools/export.py}). The tensor-name table lives here, in
 * one place. INT4 linears and the 16-bit embedding keep referencing the file's bytes; only small
 * tensors (norms, gates, group scales, the contrastive head) are decoded to float, once. A file a
 * host holds outside the Java heap ({@link io.needle.safetensors.WeightBytes}) gives a model whose
 * INT4 linears and 16-bit embedding have no bytes in Java: {@link #load(SafeTensors, Kernels)}
 * then requires the host's kernels to take every one of them, or fails.
 *
 * <pre>
 * embedding                                   [vocab, d]  BF16 / F16 / F32
 * encoder_final_norm, decoder_final_norm      [d]
 * encoder.{i}.norm                            [d]         attention pre-norm
 * encoder.{i}.self_attn_gate                  [] or [1]
 * encoder.{i}.self_attn.wq|wk|wv|wo           linear      + q_norm, k_norm [head_dim]
 * decoder.{i}.self_attn_norm|cross_attn_norm  [d]
 * decoder.{i}.self_attn_gate|cross_attn_gate  [] or [1]
 * decoder.{i}.self_attn.*, cross_attn.*       as in the encoder
 * {enc,dec}oder.{i}.ffn_norm, ffn_gate, ffn.gate_proj|up_proj|down_proj   with FFN only
 * contrastive_hidden_kernel [d, h], contrastive_hidden_bias [h], contrastive_proj_kernel [h, c]   optional
 * </pre>
 *
 * A linear {@code X} of logical shape [in, out] is either INT4 ({@code X}: I4 of header shape
 * {@code [in_pad/2, out]}, bytes not weights, in padded to a multiple of the group size
 * {@code g = min(32, in)}; {@code X.scale}: float {@code [in_pad/g, out]}) or one plain float tensor
 * {@code [in, out]} without {@code X.scale}, used as stored.
 */
public final class WeightLoader {
    private final SafeTensors st;
    private final Config config;
    private final Set<String> used = new HashSet<>();
    private byte[] chunk; // checkFinite's buffer for a host's file, made once

    private WeightLoader(SafeTensors st, Config config) {
        this.st = st;
        this.config = config;
    }

    /** A loaded model and the file's tensors it did not use (reported by {@code needle inspect}, never an error). */
    public static final class Result {
        public final NeedleModel model;
        public final List<TensorInfo> unused;

        Result(NeedleModel model, List<TensorInfo> unused) {
            this.model = model;
            this.unused = unused;
        }
    }

    /** Loads the model (config from {@link ConfigReader}) with the portable kernels. */
    public static NeedleModel load(SafeTensors st) {
        return loadWithReport(st).model;
    }

    /**
     * Loads the model with a host's kernels installed for good (null: the portable ones). When the
     * host holds the file ({@code st.bytes()} null), its kernels must compute every INT4 linear and
     * the 16-bit embedding's logits (the portable kernels have no bytes to read): otherwise this
     * fails (WEIGHTS) naming the first layer left without one.
     */
    public static NeedleModel load(SafeTensors st, Kernels kernels) {
        NeedleModel model = loadWithReport(st).model;
        model.installKernels(kernels);
        if (st.bytes() == null) {
            requireHostKernels(model);
            for (Linear l : model.linears()) {
                if (l instanceof Int4Linear) {
                    ((Int4Linear) l).dropScales(); // the host's kernels have theirs
                }
            }
        }
        return model;
    }

    private static void requireHostKernels(NeedleModel model) {
        String missing = null;
        for (Linear l : model.linears()) {
            if (l instanceof Int4Linear && ((Int4Linear) l).kernel() == null) {
                missing = "an INT4 linear [" + l.in() + ", " + l.out() + "]";
                break;
            }
        }
        Embedding e = model.embedding();
        if (missing == null && e.format() != Embedding.Format.F32 && e.kernel() == null) {
            missing = "the " + e.format() + " embedding's logits";
        }
        if (missing != null) {
            throw new NeedleException(NeedleException.Kind.WEIGHTS, "the weights are in the host's memory only"
                    + " (not in a Java array) but the host's kernels do not compute " + missing
                    + "; load the file's bytes as an array instead");
        }
    }

    /** Loads the model and lists the tensors it did not use. */
    public static Result loadWithReport(SafeTensors st) {
        WeightLoader loader = new WeightLoader(st, ConfigReader.read(st));
        NeedleModel model = loader.build();
        List<TensorInfo> unused = new ArrayList<>();
        for (TensorInfo t : st.tensors()) {
            if (!loader.used.contains(t.name())) {
                unused.add(t);
            }
        }
        return new Result(model, unused);
    }

    private NeedleModel build() {
        int d = config.dModel;
        Embedding embedding = embedding("embedding");
        ZcRmsNorm encFinal = norm("encoder_final_norm", d);
        ZcRmsNorm decFinal = norm("decoder_final_norm", d);
        ContrastiveHead head = contrastiveHead();
        EncoderLayer[] enc = new EncoderLayer[config.numEncoderLayers];
        for (int i = 0; i < enc.length; i++) {
            String p = "encoder." + i + ".";
            ZcRmsNorm ffnNorm = config.noFeedforward ? null : norm(p + "ffn_norm", d);
            enc[i] = new EncoderLayer(norm(p + "norm", d), gate(p + "self_attn_gate"),
                    attention(p + "self_attn."),
                    ffnNorm, config.noFeedforward ? 0f : gate(p + "ffn_gate"), ffn(p + "ffn."));
        }
        DecoderLayer[] dec = new DecoderLayer[config.numDecoderLayers];
        for (int i = 0; i < dec.length; i++) {
            String p = "decoder." + i + ".";
            ZcRmsNorm ffnNorm = config.noFeedforward ? null : norm(p + "ffn_norm", d);
            dec[i] = new DecoderLayer(
                    norm(p + "self_attn_norm", d), gate(p + "self_attn_gate"), attention(p + "self_attn."),
                    norm(p + "cross_attn_norm", d), gate(p + "cross_attn_gate"), attention(p + "cross_attn."),
                    ffnNorm, config.noFeedforward ? 0f : gate(p + "ffn_gate"), ffn(p + "ffn."));
        }
        return new NeedleModel(config, embedding, enc, encFinal, dec, decFinal, head);
    }

    /** The optional head: all three tensors or none; its hidden width is the bias length. */
    private ContrastiveHead contrastiveHead() {
        String[] names = {"contrastive_hidden_kernel", "contrastive_hidden_bias", "contrastive_proj_kernel"};
        boolean any = false;
        for (String n : names) {
            any |= st.has(n);
        }
        if (!any) {
            return null;
        }
        for (String n : names) {
            if (!st.has(n)) {
                throw missing(st, n, "the contrastive head is all of " + String.join(", ", names)
                        + " or none of them");
            }
        }
        TensorInfo projInfo = st.get("contrastive_proj_kernel");
        if (config.contrastiveHidden <= 0 || projInfo.rank() != 2) {
            throw bad("tensor 'contrastive_proj_kernel' has shape " + projInfo.shapeString()
                    + " and 'contrastive_hidden_bias' " + st.get("contrastive_hidden_bias").shapeString()
                    + ", expected [h, c] and [h] with h, c > 0");
        }
        int h = config.contrastiveHidden;
        Linear hidden = linear("contrastive_hidden_kernel", config.dModel, h);
        float[] bias = vector("contrastive_hidden_bias", h);
        Linear proj = linear("contrastive_proj_kernel", h, config.contrastiveDim);
        return new ContrastiveHead(hidden, bias, proj);
    }

    private Attention attention(String p) {
        int d = config.dModel;
        int hd = config.headDim();
        int qd = config.numHeads * hd;
        int kvd = config.numKvHeads * hd;
        return new Attention(
                linear(p + "wq", d, qd), linear(p + "wk", d, kvd),
                linear(p + "wv", d, kvd), linear(p + "wo", qd, d),
                norm(p + "q_norm", hd), norm(p + "k_norm", hd),
                config.numHeads, config.numKvHeads, hd);
    }

    private FeedForward ffn(String p) {
        if (config.noFeedforward) {
            return null;
        }
        int d = config.dModel;
        int ff = config.ffnDim;
        return new FeedForward(linear(p + "gate_proj", d, ff), linear(p + "up_proj", d, ff),
                linear(p + "down_proj", ff, d), Activation.of(config.activation));
    }

    /** Rows of weights sharing one INT4 scale in a linear with {@code in} inputs: min(32, in). */
    public static int groupSize(int in) {
        return Math.min(Config.GROUP_SIZE, in);
    }

    /** {@code in} rounded up to a multiple of {@link #groupSize}. */
    public static int paddedIn(int in) {
        int g = groupSize(in);
        return (in + g - 1) / g * g;
    }

    /**
     * A linear X of logical shape [in, out]: X (I4, shape [ceil(in_pad/2), out]) + X.scale (float,
     * [in_pad/g, out]), or X alone as a float [in, out].
     */
    private Linear linear(String name, int in, int out) {
        TensorInfo w = st.get(name);
        int g = groupSize(in);
        int inPad = paddedIn(in);
        int rows = (inPad + 1) / 2;
        int groups = inPad / g;
        if (w == null) {
            throw missing(st, name, "a linear [in " + in + ", out " + out + "]: I4 [" + rows + ", " + out
                    + "] + '" + name + ".scale' F32 [" + groups + ", " + out + "], or a float [" + in + ", " + out + "]");
        }
        used.add(name);
        TensorInfo s = st.get(name + ".scale");
        if (w.dtype() == DType.I4) {
            if (w.rank() != 2 || w.dim(0) != rows || w.dim(1) != out) {
                throw bad("tensor '" + name + "' (I4) has shape " + w.shapeString() + ", expected [" + rows
                        + ", " + out + "]: the linear is [in " + in + ", out " + out + "] for this config, stored as "
                        + (inPad == in ? "" : "in padded to " + inPad + ", ") + "in_pad/2 = " + rows + " rows of bytes");
            }
            if (s == null) {
                throw missing(st, name + ".scale", "the group scales [" + groups + ", " + out
                        + "] (F32) of the I4 linear '" + name + "'");
            }
            used.add(s.name());
            if (s.rank() != 2 || s.dim(0) != groups || s.dim(1) != out) {
                throw bad("tensor '" + s.name() + "' has shape " + s.shapeString() + ", expected [" + groups + ", "
                        + out + "]: one scale per " + g + " input rows (in " + in + ", padded to " + inPad
                        + ") per output column");
            }
            if (s.dtype() != DType.F32) {
                return new Int4Linear(in, out, g, st.bytes(), w.offset(), floats(s));
            }
            // F32 as the host's kernels read them: a host holding the file reads them there (checked
            // here, no Java copy); a Java array's file gives the portable kernels their floats
            if (st.bytes() == null) {
                checkFinite(s);
                return new Int4Linear(in, out, g, null, w.offset(), null, s.offset());
            }
            return new Int4Linear(in, out, g, st.bytes(), w.offset(), floats(s), s.offset());
        }
        if (s != null) {
            throw bad("tensor '" + name + "' is " + w.dtype() + " but the file also has '" + s.name()
                    + "': an INT4 linear has dtype I4, a plain float linear has no .scale");
        }
        expectShape(w, in, out);
        return new DenseLinear(in, out, floats(w));
    }

    private Embedding embedding(String name) {
        TensorInfo t = require(name);
        expectShape(t, config.vocabSize, config.dModel);
        if (t.dtype() != DType.F32) {
            checkFinite(t); // read in place; an F32 table is decoded (and checked) by floats()
        }
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
        return (float) (1.0 / (1.0 + Exp.exp(-g)));
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

    /** The bytes a host's file is checked in at a time ({@link #checkFinite}). */
    private static final int CHUNK_BYTES = 1 << 15;

    /**
     * Rejects NaN and infinite values in a tensor the model reads where it is (a 16-bit embedding,
     * F32 group scales a host's kernels read in place), without a Java copy of it: in place in
     * the file's array, or a host's file in chunks copied through one buffer. Other dtypes: nothing
     * to check here.
     */
    private void checkFinite(TensorInfo t) {
        int size = t.dtype() == DType.F32 ? 4 : t.dtype() == DType.BF16 || t.dtype() == DType.F16 ? 2 : 0;
        if (size == 0) {
            return;
        }
        int n = (int) t.elementCount();
        byte[] b = st.bytes();
        if (b != null) {
            checkFinite(t, b, t.offset(), 0, n);
            return;
        }
        if (chunk == null) {
            chunk = new byte[CHUNK_BYTES]; // one buffer for every tensor of the file
        }
        int per = CHUNK_BYTES / size; // values a chunk
        for (int i = 0; i < n; i += per) {
            int m = Math.min(per, n - i);
            st.copy(t.offset() + size * i, chunk, 0, size * m);
            checkFinite(t, chunk, 0, i, m);
        }
    }

    /**
     * Checks the m values of t at b[p..] (elements first, first + 1, ...): an exponent of all ones
     * is NaN or infinite. Most values are ruled out by their high byte alone.
     */
    private static void checkFinite(TensorInfo t, byte[] b, int p, int first, int m) {
        if (t.dtype() == DType.F32) {
            for (int i = 0; i < m; i++, p += 4) {
                if ((b[p + 3] & 0x7f) == 0x7f && (b[p + 2] & 0x80) != 0) {
                    float v = Float.intBitsToFloat((b[p] & 0xff) | (b[p + 1] & 0xff) << 8
                            | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24);
                    throw nonFinite(t, first + i, v);
                }
            }
            return;
        }
        int mask = t.dtype() == DType.BF16 ? 0x7f80 : 0x7c00;
        int high = mask >> 8; // the exponent bits in the high byte
        for (int i = 0; i < m; i++, p += 2) {
            if ((b[p + 1] & high) != high) {
                continue;
            }
            int bits = (b[p] & 0xff) | (b[p + 1] & 0xff) << 8;
            if ((bits & mask) == mask) {
                float v = t.dtype() == DType.BF16 ? Float.intBitsToFloat(bits << 16)
                        : Float16.f16ToFloat((short) bits);
                throw nonFinite(t, first + i, v);
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
            throw missing(st, name, null);
        }
        used.add(name);
        return t;
    }

    /**
     * A missing tensor: names it, what the layout expects there ({@code expected}, may be null) and
     * what the file has; a file in another layout (e.g. the retired invented one) is told which
     * layout is read.
     */
    static NeedleException missing(SafeTensors st, String name, String expected) {
        StringBuilder sb = new StringBuilder("weight file is missing tensor '").append(name).append('\'');
        if (expected != null) {
            sb.append(" (expected: ").append(expected).append(')');
        }
        List<TensorInfo> all = st.tensors();
        boolean otherLayout = looksLikeOtherLayout(st);
        if (otherLayout) {
            sb.append("; ").append(SafeTensors.OTHER_LAYOUT);
        }
        sb.append("; the file has ").append(all.size()).append(" tensors");
        int shown = 0;
        for (TensorInfo t : all) {
            sb.append(shown == 0 ? ": " : ", ");
            if (shown == 40) {
                sb.append("... and ").append(all.size() - 40).append(" more");
                break;
            }
            sb.append(Json.quote(t.name())); // names come from the file: escaped, one line
            shown++;
        }
        return new NeedleException(NeedleException.Kind.WEIGHTS, sb.toString());
    }

    /** Whether no tensor name of the file follows the needle-rs layout's patterns. */
    private static boolean looksLikeOtherLayout(SafeTensors st) {
        for (TensorInfo t : st.tensors()) {
            String n = t.name();
            if (n.startsWith("encoder.0.") || n.startsWith("decoder.0.")) {
                String rest = n.substring(10);
                if (rest.equals("norm") || rest.startsWith("self_attn") || rest.startsWith("cross_attn")) {
                    return false;
                }
            }
        }
        return true;
    }

    static NeedleException bad(String msg) {
        return new NeedleException(NeedleException.Kind.WEIGHTS, "bad weight file: " + msg);
    }
}
