package io.needle.synthetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.json.Json;
import io.needle.safetensors.DType;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The random model writer: names and layout like the fixtures, presets, statistics. */
class ModelWriterTest {

    private static int cfgInt(Map<String, String> c, String k) {
        return Integer.parseInt(c.get(k));
    }

    private static Map<String, String> configOf(Map<String, String> metadata) {
        if (!metadata.containsKey("config")) {
            return metadata;
        }
        Map<String, String> out = new java.util.LinkedHashMap<>();
        @SuppressWarnings("unchecked")
        Map<String, Object> cfg = (Map<String, Object>) Json.parse(metadata.get("config"));
        for (Map.Entry<String, Object> e : cfg.entrySet()) {
            out.put(e.getKey(), String.valueOf(e.getValue()));
        }
        return out;
    }

    /**
     * Configures a ModelWriter from a parity file (its config and the dtypes it uses, read at test
     * time) and checks that the writer produces the same tensors, in the same order, with the same
     * dtypes and shapes, and the same metadata.
     */
    @ParameterizedTest
    @ValueSource(strings = {"p1", "p2", "p3", "p4"})
    void layoutMatchesParityFile(String name) throws IOException {
        Path dir = Paths.get(System.getProperty("needle.shared", "../shared"), "fixtures", "parity");
        SafeTensors ref = SafeTensors.parse(Files.readAllBytes(dir.resolve(name + ".safetensors")));
        Map<String, String> c = configOf(ref.metadata());

        ModelWriter mw = new ModelWriter()
                .vocabSize(cfgInt(c, "vocab_size"))
                .dModel(cfgInt(c, "d_model"))
                .heads(cfgInt(c, "num_heads"), cfgInt(c, "num_kv_heads"))
                .layers(cfgInt(c, "num_encoder_layers"), cfgInt(c, "num_decoder_layers"))
                .maxSeqLen(cfgInt(c, "max_seq_len"))
                .ropeTheta(Double.parseDouble(c.get("rope_theta")))
                .padTokenId(cfgInt(c, "pad_token_id"))
                .groupSize(cfgInt(c, "group_size"))
                .configAsJson(ref.metadata().containsKey("config"))
                .embeddingDtype(ref.get("embedding").dtype())
                .normDtype(ref.get("encoder.final_norm.scale").dtype())
                .gatesAsVector(ref.get("encoder.layers.0.attn_gate").rank() == 1);
        if (c.get("no_feedforward").equals("true")) {
            mw.noFfn(cfgInt(c, "d_ff"), c.get("activation"));
        } else {
            mw.ffn(cfgInt(c, "d_ff"), c.get("activation"));
        }
        if (ref.has("contrastive.proj.qweight") || ref.has("contrastive.proj.weight")) {
            mw.contrastive(cfgInt(c, "contrastive_dim"));
        } else {
            mw.noContrastive(cfgInt(c, "contrastive_dim"));
        }
        for (TensorInfo t : ref.tensors()) {
            if (t.name().endsWith(".scales")) {
                mw.scalesDtype(t.dtype());
            }
            if (t.name().endsWith(".weight")) {
                mw.linearDtype(t.name().substring(0, t.name().length() - ".weight".length()), t.dtype());
            }
        }
        SafeTensors ours = SafeTensors.parse(mw.build());

        assertEquals(describe(ref), describe(ours));
        assertEquals(c, configOf(ours.metadata()));
        assertEquals(ref.metadata().keySet(), ours.metadata().keySet());
    }

    private static List<String> describe(SafeTensors st) {
        List<String> out = new ArrayList<>();
        for (TensorInfo t : st.tensors()) {
            out.add(t.name() + " " + t.dtype() + " " + t.shapeString());
        }
        return out;
    }

    @Test
    void tinyPresetAndDeterminism() {
        byte[] a = ModelWriter.tiny().seed(3).build();
        byte[] b = ModelWriter.tiny().seed(3).build();
        byte[] other = ModelWriter.tiny().seed(4).build();
        assertArrayEquals(a, b, "same seed, same file");
        assertFalse(Arrays.equals(a, other), "different seed, different values");
        SafeTensors st = SafeTensors.parse(a);
        assertEquals("512", st.metadata().get("vocab_size"));
        assertEquals("32", st.metadata().get("d_model"));
        assertEquals("true", st.metadata().get("no_feedforward"));
        assertEquals("[32, 32]", st.get("encoder.layers.0.self_attn.q_proj.qweight").shapeString());
        assertEquals("[32, 16]", st.get("decoder.layers.1.cross_attn.v_proj.qweight").shapeString());
        assertEquals("[1, 16]", st.get("decoder.layers.1.cross_attn.v_proj.scales").shapeString());
        assertEquals("[8]", st.get("encoder.layers.1.self_attn.k_norm.scale").shapeString());
        assertEquals("[]", st.get("decoder.layers.0.self_attn_gate").shapeString());
        assertFalse(st.has("encoder.layers.0.ffn_norm.scale"));
        assertFalse(st.has("contrastive.proj.qweight"));
    }

    @Test
    void fullSizePreset() {
        byte[] file = ModelWriter.fullSize().build();
        SafeTensors st = SafeTensors.parse(file);
        assertTrue(file.length > 20_000_000 && file.length < 24_000_000, "size " + file.length);
        Map<String, String> m = st.metadata();
        assertEquals("8192", m.get("vocab_size"));
        assertEquals("512", m.get("d_model"));
        assertEquals("8", m.get("num_heads"));
        assertEquals("4", m.get("num_kv_heads"));
        assertEquals("12", m.get("num_encoder_layers"));
        assertEquals("8", m.get("num_decoder_layers"));
        assertNotNull(st.get("encoder.layers.11.self_attn.o_proj.qweight"));
        assertNotNull(st.get("decoder.layers.7.cross_attn.k_proj.scales"));
        assertEquals("[512, 256]", st.get("decoder.layers.7.cross_attn.k_proj.qweight").shapeString());
        assertEquals("[16, 256]", st.get("decoder.layers.7.cross_attn.k_proj.scales").shapeString());
        assertEquals("vocab 8192, d_model 512, heads 8/4, layers 12+8, INT4, no FFN",
                ModelWriter.fullSize().describe());
        assertEquals("vocab 512, d_model 32, heads 4/2, layers 2+2, F16, FFN 48 geglu, contrastive head",
                ModelWriter.tiny().linearDtype(DType.F16).ffn(48, "geglu").contrastive(16).describe());
    }

    @Test
    void optionsChangeDtypesShapesAndMetadataForm() {
        ModelWriter mw = ModelWriter.tiny().linearDtype(DType.F16).normDtype(DType.F32)
                .embeddingDtype(DType.F32).gatesAsVector(true).ffn(48, "geglu").contrastive(16)
                .configAsJson(true).ropeTheta(500000);
        SafeTensors st = SafeTensors.parse(mw.build());
        assertEquals(DType.F16, st.get("encoder.layers.0.self_attn.q_proj.weight").dtype());
        assertFalse(st.has("encoder.layers.0.self_attn.q_proj.qweight"));
        assertEquals(DType.F32, st.get("encoder.final_norm.scale").dtype());
        assertEquals(DType.F32, st.get("embedding").dtype());
        assertEquals("[1]", st.get("encoder.layers.0.ffn_gate").shapeString());
        assertEquals("[32, 48]", st.get("decoder.layers.1.ffn.up_proj.weight").shapeString());
        assertEquals("[48, 32]", st.get("decoder.layers.1.ffn.down_proj.weight").shapeString());
        assertEquals("[32, 8]", st.get("contrastive.hidden.weight").shapeString());
        assertEquals("[8]", st.get("contrastive.hidden.bias").shapeString());
        assertEquals("[8, 16]", st.get("contrastive.proj.weight").shapeString());
        assertEquals("[]", st.get("contrastive.log_temp").shapeString());
        assertEquals(1, st.metadata().size());
        String cfg = st.metadata().get("config");
        assertTrue(cfg.contains("\"rope_theta\":500000.0"), cfg);
        assertTrue(cfg.contains("\"no_feedforward\":false"), cfg);
        assertTrue(cfg.contains("\"activation\":\"geglu\""), cfg);
        assertTrue(cfg.contains("\"d_ff\":48"), cfg);
    }

    /** The documented init regime: v/o around N(0, 0.3), q/k norm γ around 2, norms around 0. */
    @Test
    void defaultValueStatistics() {
        ModelWriter mw = new ModelWriter().vocabSize(1024).dModel(128).heads(4, 2).layers(2, 2);
        SafeTensors st = SafeTensors.parse(mw.build());
        assertEquals(0.02, std(st.readFloats(st.get("embedding"))), 0.002);
        assertEquals(0.3, std(dequantized(st, "encoder.layers.0.self_attn.v_proj")), 0.03);
        assertEquals(0.3, std(dequantized(st, "decoder.layers.1.cross_attn.o_proj")), 0.03);
        assertEquals(0.02, std(dequantized(st, "decoder.layers.1.self_attn.q_proj")), 0.003);
        assertEquals(2.0, mean(st.readFloats(st.get("encoder.layers.0.self_attn.q_norm.scale"))), 0.1);
        assertEquals(0.0, mean(st.readFloats(st.get("encoder.final_norm.scale"))), 0.05);
    }

    private static float[] dequantized(SafeTensors st, String linear) {
        TensorInfo q = st.get(linear + ".qweight");
        byte[] packed = Arrays.copyOfRange(st.bytes(), q.offset(), q.offset() + q.byteLength());
        return Int4Packing.dequantize(packed, st.readFloats(st.get(linear + ".scales")), q.dim(0), q.dim(1), 32);
    }

    private static double mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s / v.length;
    }

    private static double std(float[] v) {
        double m = mean(v);
        double s = 0;
        for (float x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / v.length);
    }
}
