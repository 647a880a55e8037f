package io.needle.cli;

import io.needle.safetensors.DType;
import io.needle.safetensors.Float16;
import java.util.Random;

/**
 * Seeded random Needle weights of any configuration, as a complete weight file in the exact format
 * of MODEL.md section 4 (INT4 linears with BF16 scales, BF16 embedding, norms and gates), for
 * {@code needle demo} and benchmarks: no download, no files. The output is meaningless; only its
 * shape and the work it takes are real.
 *
 * <pre>
 * byte[] weights = RandomModel.fullSize().seed(7).build();   // ~21 MB, the real model's shape
 * String vocab = RandomVocab.make(8192, 7);
 * NeedleEngine engine = NeedleEngine.load(weights, vocab);
 * </pre>
 *
 * <p>The values are drawn from {@code java.util.Random(seed)} tensor by tensor in file order, at
 * the scales of the test writer ({@code io.needle.testing.ModelWriter}), which makes attention
 * matter so that decoding produces varied sequences: embedding, q/k projections and the
 * contrastive head N(0, 0.02); v/o projections and FFN down N(0, 0.3); FFN gate/up N(0, 0.1);
 * norm scales γ N(0, 0.1); q/k norm γ N(2, 0.1); gates N(0, 1); contrastive log_temp N(0, 0.1).
 * For the same settings the file is byte for byte the test writer's.
 */
final class RandomModel {
    private long seed = 1;
    private int vocabSize = 512;
    private int dModel = 64;
    private int numHeads = 4;
    private int numKvHeads = 2;
    private int encoderLayers = 2;
    private int decoderLayers = 2;
    private int maxSeqLen = 1024;
    private boolean feedforward = false;
    private int dFf = 0;
    private String activation = "drelu";
    private boolean contrastive = false;
    private int contrastiveDim = 128;
    private int groupSize = 32;

    private Random random;

    /** vocab 512, d_model 32, heads 4/2 (head_dim 8), layers 2/2, no FFN. */
    static RandomModel tiny() {
        return new RandomModel().vocabSize(512).dModel(32).heads(4, 2).layers(2, 2);
    }

    /** The real model's shape: vocab 8192, d_model 512, heads 8/4, layers 12/8, INT4, no FFN (about 21 MB). */
    static RandomModel fullSize() {
        return new RandomModel().vocabSize(8192).dModel(512).heads(8, 4).layers(12, 8);
    }

    RandomModel seed(long s) {
        this.seed = s;
        return this;
    }

    RandomModel vocabSize(int v) {
        this.vocabSize = v;
        return this;
    }

    RandomModel dModel(int d) {
        this.dModel = d;
        return this;
    }

    /** Query heads and key-value heads (head_dim = d_model / heads). */
    RandomModel heads(int heads, int kvHeads) {
        this.numHeads = heads;
        this.numKvHeads = kvHeads;
        return this;
    }

    RandomModel layers(int encoder, int decoder) {
        this.encoderLayers = encoder;
        this.decoderLayers = decoder;
        return this;
    }

    RandomModel maxSeqLen(int n) {
        this.maxSeqLen = n;
        return this;
    }

    /** Adds feed-forward blocks of width {@code width} with "drelu", "swiglu" or "geglu". */
    RandomModel ffn(int width, String act) {
        this.feedforward = true;
        this.dFf = width;
        this.activation = act;
        return this;
    }

    /** Adds the contrastive head (for tool retrieval) with output size {@code dim}. */
    RandomModel contrastive(int dim) {
        this.contrastive = true;
        this.contrastiveDim = dim;
        return this;
    }

    RandomModel groupSize(int g) {
        this.groupSize = g;
        return this;
    }

    int vocabSize() {
        return vocabSize;
    }

    /** A one-line description, e.g. "vocab 1024, d_model 64, heads 4/2, layers 2+2, INT4, no FFN". */
    String describe() {
        return "vocab " + vocabSize + ", d_model " + dModel + ", heads " + numHeads + "/" + numKvHeads + ", layers "
                + encoderLayers + "+" + decoderLayers + ", INT4, " + (feedforward ? "FFN " + dFf + " " + activation
                : "no FFN") + (contrastive ? ", contrastive head" : "");
    }

    /** The weight file. */
    byte[] build() {
        if (dModel <= 0 || numHeads <= 0 || numKvHeads <= 0 || dModel % numHeads != 0 || numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("d_model must divide into heads, heads into kv heads");
        }
        random = new Random(seed);
        SafeTensorsBuilder w = new SafeTensorsBuilder();
        w.metadata("vocab_size", Integer.toString(vocabSize));
        w.metadata("d_model", Integer.toString(dModel));
        w.metadata("num_heads", Integer.toString(numHeads));
        w.metadata("num_kv_heads", Integer.toString(numKvHeads));
        w.metadata("num_encoder_layers", Integer.toString(encoderLayers));
        w.metadata("num_decoder_layers", Integer.toString(decoderLayers));
        w.metadata("max_seq_len", Integer.toString(maxSeqLen));
        w.metadata("rope_theta", Double.toString(10000.0));
        w.metadata("pad_token_id", "0");
        w.metadata("no_feedforward", feedforward ? "false" : "true");
        w.metadata("d_ff", Integer.toString(dFf));
        w.metadata("activation", activation);
        w.metadata("contrastive_dim", Integer.toString(contrastiveDim));
        w.metadata("group_size", Integer.toString(groupSize));

        int d = dModel;
        int hd = d / numHeads;
        w.add("embedding", DType.BF16, new int[] {vocabSize, d}, bf16(gaussian(vocabSize * d, 0, 0.02)));
        for (int i = 0; i < encoderLayers; i++) {
            String p = "encoder.layers." + i + ".";
            norm(w, p + "attn_norm.scale", d, 0, 0.1);
            gate(w, p + "attn_gate");
            attention(w, p + "self_attn", d, hd);
            ffnBlock(w, p, d);
        }
        norm(w, "encoder.final_norm.scale", d, 0, 0.1);
        for (int i = 0; i < decoderLayers; i++) {
            String p = "decoder.layers." + i + ".";
            norm(w, p + "self_attn_norm.scale", d, 0, 0.1);
            gate(w, p + "self_attn_gate");
            attention(w, p + "self_attn", d, hd);
            norm(w, p + "cross_attn_norm.scale", d, 0, 0.1);
            gate(w, p + "cross_attn_gate");
            attention(w, p + "cross_attn", d, hd);
            ffnBlock(w, p, d);
        }
        norm(w, "decoder.final_norm.scale", d, 0, 0.1);
        if (contrastive) {
            int h = d / 4;
            linear(w, "contrastive.hidden", d, h, 0.02);
            norm(w, "contrastive.hidden.bias", h, 0, 0.02);
            linear(w, "contrastive.proj", h, contrastiveDim, 0.02);
            w.add("contrastive.log_temp", DType.BF16, new int[0], bf16(gaussian(1, 0, 0.1)));
        }
        return w.toBytes();
    }

    private void attention(SafeTensorsBuilder w, String p, int d, int hd) {
        linear(w, p + ".q_proj", d, numHeads * hd, 0.02);
        linear(w, p + ".k_proj", d, numKvHeads * hd, 0.02);
        linear(w, p + ".v_proj", d, numKvHeads * hd, 0.3);
        linear(w, p + ".o_proj", numHeads * hd, d, 0.3);
        norm(w, p + ".q_norm.scale", hd, 2.0, 0.1);
        norm(w, p + ".k_norm.scale", hd, 2.0, 0.1);
    }

    private void ffnBlock(SafeTensorsBuilder w, String p, int d) {
        if (!feedforward) {
            return;
        }
        norm(w, p + "ffn_norm.scale", d, 0, 0.1);
        gate(w, p + "ffn_gate");
        linear(w, p + "ffn.gate_proj", d, dFf, 0.1);
        linear(w, p + "ffn.up_proj", d, dFf, 0.1);
        linear(w, p + "ffn.down_proj", dFf, d, 0.3);
    }

    private void norm(SafeTensorsBuilder w, String name, int n, double mean, double std) {
        w.add(name, DType.BF16, new int[] {n}, bf16(gaussian(n, mean, std)));
    }

    private void gate(SafeTensorsBuilder w, String name) {
        w.add(name, DType.BF16, new int[0], bf16(gaussian(1, 0, 1.0)));
    }

    /** An INT4 linear {@code [in, out]}: {@code NAME.qweight} (I4) and {@code NAME.scales} (BF16). */
    private void linear(SafeTensorsBuilder w, String name, int in, int out, double std) {
        float[] values = gaussian(in * out, 0, std);
        int groups = (in + groupSize - 1) / groupSize;
        float[] scales = new float[groups * out];
        byte[] packed = new byte[(in + 1) / 2 * out];
        for (int g = 0; g < groups; g++) {
            int r0 = g * groupSize;
            int r1 = Math.min(in, r0 + groupSize);
            for (int c = 0; c < out; c++) {
                float max = 0;
                for (int r = r0; r < r1; r++) {
                    max = Math.max(max, Math.abs(values[r * out + c]));
                }
                float scale = max / 7f;
                scales[g * out + c] = scale;
                for (int r = r0; r < r1; r++) {
                    // q = rint(w / scale) clamped to [-8, 7]; row r in the low (even) or high (odd) nibble
                    int q = scale == 0 ? 0 : (int) Math.max(-8, Math.min(7, Math.rint(values[r * out + c] / scale)));
                    int i = (r / 2) * out + c;
                    packed[i] = (byte) (r % 2 == 0 ? (packed[i] & 0xf0) | (q & 0xf) : (packed[i] & 0x0f) | ((q & 0xf) << 4));
                }
            }
        }
        w.add(name + ".qweight", DType.I4, new int[] {in, out}, packed);
        w.add(name + ".scales", DType.BF16, new int[] {groups, out}, bf16(scales));
    }

    private static byte[] bf16(float[] values) {
        byte[] out = new byte[values.length * 2];
        for (int i = 0; i < values.length; i++) {
            short s = Float16.floatToBf16(values[i]);
            out[2 * i] = (byte) s;
            out[2 * i + 1] = (byte) (s >>> 8);
        }
        return out;
    }

    private float[] gaussian(int n, double mean, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + std * random.nextGaussian());
        }
        return v;
    }
}
