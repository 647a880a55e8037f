package io.needle.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.synthetic.Int4Packing;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TensorType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The seeded writer's files (module synthetic, {@code io.needle.synthetic.ModelWriter}) as the
 * engine's reader sees them: the needle-rs layout of the parity files and export.py byte for byte,
 * presets, variations, value statistics.
 */
class ModelWriterFilesTest {

    private static int cfgInt(Map<String, String> c, String k, String older) {
        return Integer.parseInt(c.containsKey(k) ? c.get(k) : c.get(older));
    }

    /** The writer's name for a dtype the reader found. */
    private static TensorType type(DType d) {
        return TensorType.valueOf(d.name());
    }

    /**
     * Configures a ModelWriter from a parity file (its metadata, or its tensors when it has none,
     * and the dtypes and gate shapes it uses, read at test time) and checks that the writer
     * produces the same header text: the same metadata in the same spelling, the same tensors in
     * the same order with the same dtypes, shapes and offsets (the fixtures pad the header with
     * spaces; export.py and this writer do not).
     */
    @ParameterizedTest
    @ValueSource(strings = {"p1", "p2", "p3", "p4"})
    void headerMatchesParityFile(String name) throws IOException {
        Path dir = Paths.get(System.getProperty("needle.shared", "../shared"), "fixtures", "parity");
        byte[] file = Files.readAllBytes(dir.resolve(name + ".safetensors"));
        SafeTensors ref = SafeTensors.parse(file);
        Map<String, String> c = ref.metadata();
        TensorInfo emb = ref.get("embedding");
        int d = emb.dim(1);
        int hd = ref.get("encoder.0.self_attn.q_norm").dim(0);
        ModelWriter mw = new ModelWriter()
                .vocabSize(emb.dim(0))
                .dModel(d)
                .heads(ref.get("encoder.0.self_attn.wq").dim(1) / hd, ref.get("encoder.0.self_attn.wk").dim(1) / hd)
                .layers(layers(ref, "encoder."), layers(ref, "decoder."))
                .embeddingDtype(type(emb.dtype()))
                .normDtype(type(ref.get("encoder_final_norm").dtype()))
                .scalarGates(ref.get("encoder.0.self_attn_gate").rank() == 0);
        if (c.isEmpty()) {
            mw.metadata(ModelWriter.Metadata.NONE);
        } else {
            mw.metadata(c.containsKey("max_seq_len") ? ModelWriter.Metadata.LEGACY : ModelWriter.Metadata.EXPORT)
                    .ropeTheta(Double.parseDouble(c.get("rope_theta")))
                    .maxEncLen(cfgInt(c, "max_enc_len", "max_seq_len"))
                    .maxDecLen(cfgInt(c, "max_dec_len", "max_dec_len"));
        }
        TensorInfo gateProj = ref.get("encoder.0.ffn.gate_proj");
        String activation = c.getOrDefault("activation", "drelu");
        if (gateProj != null) {
            mw.ffn(gateProj.dim(1), activation);
        } else {
            mw.noFfn(cfgInt(c, "ffn_dim", "d_ff"), activation);
        }
        if (ref.has("contrastive_proj_kernel")) {
            mw.contrastive(ref.get("contrastive_hidden_bias").dim(0), ref.get("contrastive_proj_kernel").dim(1));
        }
        for (TensorInfo t : ref.tensors()) {
            boolean linear = ref.has(t.name() + ".scale") || t.rank() == 2 && !t.name().equals("embedding")
                    && !t.name().startsWith("contrastive_");
            if (linear) {
                mw.linearDtype(t.name(), type(t.dtype()));
            }
        }
        byte[] ours = mw.build();
        SafeTensors st = SafeTensors.parse(ours);

        assertEquals(header(file).trim(), header(ours), "header text");
        assertEquals(new ArrayList<>(c.entrySet()), new ArrayList<>(st.metadata().entrySet()), "metadata and its order");
        assertEquals(file.length - ref.dataStart(), ours.length - st.dataStart(), "data size");
    }

    private static int layers(SafeTensors st, String prefix) {
        int n = 0;
        while (st.has(prefix + n + (prefix.equals("encoder.") ? ".norm" : ".self_attn_norm"))) {
            n++;
        }
        return n;
    }

    private static String header(byte[] file) {
        SafeTensors st = SafeTensors.parse(file);
        return new String(file, 8, st.headerLength(), StandardCharsets.UTF_8);
    }

    @Test
    void tinyPreset() {
        byte[] a = ModelWriter.tiny().seed(3).build();
        SafeTensors st = SafeTensors.parse(a);
        assertEquals("512", st.metadata().get("vocab_size"));
        assertEquals("32", st.metadata().get("d_model"));
        assertEquals("True", st.metadata().get("no_feedforward"));
        assertEquals("10000.0", st.metadata().get("rope_theta"));
        assertEquals("[16, 32]", st.get("encoder.0.self_attn.wq").shapeString(), "in 32 → 16 rows of bytes");
        assertEquals("[1, 32]", st.get("encoder.0.self_attn.wq.scale").shapeString());
        assertEquals("[16, 16]", st.get("decoder.1.cross_attn.wv").shapeString());
        assertEquals("[1, 16]", st.get("decoder.1.cross_attn.wv.scale").shapeString());
        assertEquals("[8]", st.get("encoder.1.self_attn.k_norm").shapeString());
        assertEquals("[1]", st.get("decoder.0.self_attn_gate").shapeString());
        assertEquals(DType.F32, st.get("decoder.0.self_attn_gate").dtype());
        assertFalse(st.has("encoder.0.ffn_norm"));
        assertFalse(st.has("contrastive_proj_kernel"));
        assertEquals(0, st.headerLength() - header(a).length(), "no padding");
    }

    @Test
    void fullSizePreset() {
        SafeTensors st = SafeTensors.parse(ModelWriter.fullSize().build());
        Map<String, String> m = st.metadata();
        assertEquals("8192", m.get("vocab_size"));
        assertEquals("512", m.get("d_model"));
        assertEquals("8", m.get("num_heads"));
        assertEquals("4", m.get("num_kv_heads"));
        assertEquals("12", m.get("num_encoder_layers"));
        assertEquals("8", m.get("num_decoder_layers"));
        assertEquals(DType.I4, st.get("encoder.11.self_attn.wo").dtype());
        assertEquals("[256, 256]", st.get("decoder.7.cross_attn.wk").shapeString());
        assertEquals("[16, 256]", st.get("decoder.7.cross_attn.wk.scale").shapeString());
    }

    @Test
    void optionsChangeDtypesShapesAndMetadataForm() {
        ModelWriter mw = ModelWriter.tiny().linearDtype(TensorType.F16).normDtype(TensorType.BF16)
                .embeddingDtype(TensorType.F32).scalarGates(true).ffn(48, "geglu").contrastive(12, 16)
                .metadata(ModelWriter.Metadata.LEGACY).ropeTheta(500000);
        SafeTensors st = SafeTensors.parse(mw.build());
        assertEquals(DType.F16, st.get("encoder.0.self_attn.wq").dtype());
        assertEquals("[32, 32]", st.get("encoder.0.self_attn.wq").shapeString());
        assertFalse(st.has("encoder.0.self_attn.wq.scale"));
        assertEquals(DType.BF16, st.get("encoder_final_norm").dtype());
        assertEquals(DType.F32, st.get("embedding").dtype());
        assertEquals("[]", st.get("encoder.0.ffn_gate").shapeString());
        assertEquals("[32, 48]", st.get("decoder.1.ffn.up_proj").shapeString());
        assertEquals("[48, 32]", st.get("decoder.1.ffn.down_proj").shapeString());
        assertEquals("[32, 12]", st.get("contrastive_hidden_kernel").shapeString());
        assertEquals(DType.F32, st.get("contrastive_hidden_kernel").dtype());
        assertEquals("[12]", st.get("contrastive_hidden_bias").shapeString());
        assertEquals("[12, 16]", st.get("contrastive_proj_kernel").shapeString());
        Map<String, String> m = st.metadata();
        assertEquals("500000.0", m.get("rope_theta"));
        assertEquals("false", m.get("no_feedforward"));
        assertEquals("48", m.get("d_ff"));
        assertEquals("1024", m.get("max_seq_len"));
        assertFalse(m.containsKey("ffn_dim") || m.containsKey("max_enc_len"));
        assertTrue(SafeTensors.parse(ModelWriter.tiny().metadata(ModelWriter.Metadata.NONE).build()).metadata().isEmpty());
    }

    /** An FFN width that is not a multiple of 32: down_proj's input rows are padded (75 → 96), scales floored. */
    @Test
    void int4InputRowsArePaddedToTheGroupSize() {
        SafeTensors st = SafeTensors.parse(ModelWriter.tiny().ffn(75, "swiglu").build());
        TensorInfo down = st.get("encoder.0.ffn.down_proj");
        assertEquals("[48, 32]", down.shapeString(), "96 / 2 rows of bytes");
        assertEquals("[3, 32]", st.get("encoder.0.ffn.down_proj.scale").shapeString());
        byte[] b = st.bytes();
        for (int i = 75 / 2 * 32 + 32; i < down.byteLength(); i++) { // rows 76..95 are zero
            assertEquals(0, b[down.offset() + i], "padding byte " + i);
        }
        float[] scales = st.readFloats(st.get("encoder.0.ffn.down_proj.scale"));
        for (float s : scales) {
            assertTrue(s >= Int4Packing.SCALE_MIN, "scale " + s);
        }
    }

    /** The documented init regime: v/o around N(0, 0.3), q/k norm γ around 2, norms around 0. */
    @Test
    void defaultValueStatistics() {
        ModelWriter mw = new ModelWriter().vocabSize(1024).dModel(128).heads(4, 2).layers(2, 2);
        SafeTensors st = SafeTensors.parse(mw.build());
        assertEquals(0.02, std(st.readFloats(st.get("embedding"))), 0.002);
        assertEquals(0.3, std(dequantized(st, "encoder.0.self_attn.wv")), 0.03);
        assertEquals(0.3, std(dequantized(st, "decoder.1.cross_attn.wo")), 0.03);
        assertEquals(0.02, std(dequantized(st, "decoder.1.self_attn.wq")), 0.003);
        assertEquals(2.0, mean(st.readFloats(st.get("encoder.0.self_attn.q_norm"))), 0.1);
        assertEquals(0.0, mean(st.readFloats(st.get("encoder_final_norm"))), 0.05);
    }

    private static float[] dequantized(SafeTensors st, String linear) {
        TensorInfo q = st.get(linear);
        byte[] packed = Arrays.copyOfRange(st.bytes(), q.offset(), q.offset() + q.byteLength());
        return Int4Packing.dequantize(packed, st.readFloats(st.get(linear + ".scale")), 2 * q.dim(0), q.dim(1), 32);
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
