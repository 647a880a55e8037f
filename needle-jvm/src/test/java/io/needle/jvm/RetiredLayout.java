package io.needle.jvm;

import io.needle.json.Json;
import io.needle.model.Config;
import io.needle.model.ConfigReader;
import io.needle.safetensors.DType;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.SafeTensorsWriter;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test files in the retired invented layout that an earlier revision of docs/spec/MODEL.md described and
 * this project's earlier writer produced (no published file uses it): names like
 * {@code encoder.layers.0.self_attn.q_proj.qweight} + {@code .scales},
 * {@code encoder.layers.0.attn_norm.scale}, {@code encoder.final_norm.scale}; metadata
 * {@code max_seq_len}, {@code d_ff}, {@code group_size}, {@code contrastive_dim},
 * {@code pad_token_id}. The weights are those of a {@link ModelWriter} model, renamed.
 */
public final class RetiredLayout {
    private static final Pattern LAYER = Pattern.compile("(encoder|decoder)\\.(\\d+)\\.(.+)");
    private static final Pattern LINEAR = Pattern.compile("(self_attn|cross_attn)\\.w([qkvo])(\\.scale)?");

    private RetiredLayout() {
    }

    /**
     * The model exactly as the retired writer wrote it: I4 shapes {@code [in, out]} counting
     * weights (half a byte each), which the needle-rs layout's container rule (an I4 shape counts
     * bytes) refuses before any name is looked at.
     */
    public static byte[] asWritten(ModelWriter model) {
        return build(model, true);
    }

    /** The retired names with I4 shapes that count bytes: a valid container whose names are another layout's. */
    public static byte[] renamed(ModelWriter model) {
        return build(model, false);
    }

    /** The retired name of a tensor of the needle-rs layout. */
    static String retiredName(String name) {
        switch (name) {
            case "embedding":
                return "embedding";
            case "encoder_final_norm":
                return "encoder.final_norm.scale";
            case "decoder_final_norm":
                return "decoder.final_norm.scale";
            case "contrastive_hidden_kernel":
                return "contrastive.hidden.weight";
            case "contrastive_hidden_bias":
                return "contrastive.hidden.bias";
            case "contrastive_proj_kernel":
                return "contrastive.proj.weight";
            default:
                break;
        }
        Matcher m = LAYER.matcher(name);
        if (!m.matches()) {
            throw new IllegalArgumentException("no retired name for " + name);
        }
        String p = m.group(1) + ".layers." + m.group(2) + ".";
        String rest = m.group(3);
        Matcher lin = LINEAR.matcher(rest);
        if (lin.matches()) {
            return p + lin.group(1) + "." + lin.group(2) + "_proj" + (lin.group(3) == null ? ".qweight" : ".scales");
        }
        if (rest.startsWith("ffn.")) {
            return p + (rest.endsWith(".scale") ? rest + "s" : rest + ".qweight");
        }
        if (rest.equals("norm")) {
            return p + "attn_norm.scale";
        }
        if (rest.equals("self_attn_gate") && m.group(1).equals("encoder")) {
            return p + "attn_gate";
        }
        if (rest.endsWith("_norm")) {
            return p + rest + ".scale";
        }
        return p + rest; // gates
    }

    private static byte[] build(ModelWriter model, boolean weightCountShapes) {
        byte[] file = model.build();
        SafeTensors st = SafeTensors.parse(file);
        Config c = ConfigReader.read(st);
        Map<String, Object> header = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("vocab_size", Integer.toString(c.vocabSize));
        meta.put("d_model", Integer.toString(c.dModel));
        meta.put("num_heads", Integer.toString(c.numHeads));
        meta.put("num_kv_heads", Integer.toString(c.numKvHeads));
        meta.put("num_encoder_layers", Integer.toString(c.numEncoderLayers));
        meta.put("num_decoder_layers", Integer.toString(c.numDecoderLayers));
        meta.put("max_seq_len", Integer.toString(c.maxEncLen));
        meta.put("rope_theta", Double.toString(c.ropeTheta));
        meta.put("pad_token_id", "0");
        meta.put("no_feedforward", Boolean.toString(c.noFeedforward));
        meta.put("d_ff", Integer.toString(c.ffnDim));
        meta.put("activation", c.activation);
        meta.put("contrastive_dim", Integer.toString(c.contrastiveDim));
        meta.put("group_size", "32");
        header.put("__metadata__", meta);
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (TensorInfo t : st.tensors()) {
            List<Object> shape = new ArrayList<>();
            for (int i = 0; i < t.rank(); i++) {
                shape.add((long) (weightCountShapes && t.dtype() == DType.I4 && i == 0 ? 2 * t.dim(0) : t.dim(i)));
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", t.dtype().name());
            entry.put("shape", shape);
            entry.put("data_offsets", List.of((long) data.size(), (long) data.size() + t.byteLength()));
            header.put(retiredName(t.name()), entry);
            data.write(file, t.offset(), t.byteLength());
        }
        return SafeTensorsWriter.container(Json.write(header), data.toByteArray());
    }
}
