package io.needle.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException;
import io.needle.engine.RunOptions;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import io.needle.synthetic.Int4Packing;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.SafeTensorsWriter;
import io.needle.synthetic.TensorType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The needle-rs layout (docs/spec/WEIGHTS.md) as real files may hold it: every variation the writer
 * can make loads with the config it was written with; the same weights with any metadata (or none)
 * decode identically; padding rows are never read; each malformed file gives one clear line naming
 * the tensor; unknown extra tensors are ignored (and reported).
 */
class RealLayoutTest {

    private static final int[][] INPUTS = {{7, 8, 9, 10, 11, 5, 12, 13}, {40, 41, 5, 42}, {3}};

    private static List<int[]> decode(byte[] file) {
        NeedleEngine engine = NeedleEngine.load(file, null);
        List<int[]> out = new ArrayList<>();
        for (int[] in : INPUTS) {
            out.add(engine.generate(in, 12));
        }
        return out;
    }

    private static void assertSameIds(List<int[]> a, List<int[]> b, String what) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), what + ", input " + i);
        }
    }

    /** Fails unless loading {@code file} throws one NeedleException of {@code kind} whose one-line message has every fragment. */
    private static void refused(byte[] file, NeedleException.Kind kind, String... fragments) {
        NeedleException e = assertThrows(NeedleException.class, () -> NeedleEngine.load(file, null));
        assertEquals(kind, e.kind(), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message \"" + e.getMessage() + "\" should contain \"" + f + "\"");
        }
    }

    // ------------------------------------------------------------------ variations

    @Test
    void everyVariationRoundTripsThroughTheLoader() {
        TensorType[] norms = {TensorType.F32, TensorType.BF16, TensorType.F16};
        TensorType[] embeddings = {TensorType.BF16, TensorType.F16, TensorType.F32};
        int[][] ffns = {{0}, {75}, {45}, {96}, {20}}; // 0: no FFN; widths that need padding; one below 32
        String[] activations = {"drelu", "swiglu", "geglu"};
        int[][] heads = {{0, 0}, {16, 8}, {12, 64}, {5, 3}}; // {hidden, dim}, {0, 0}: no head
        int n = 0;
        for (ModelWriter.Metadata meta : ModelWriter.Metadata.values()) {
            for (int v = 0; v < 6; v++, n++) {
                TensorType norm = norms[(n + v) % norms.length];
                int ffn = ffns[n % ffns.length][0];
                int[] head = heads[(n / 2) % heads.length];
                ModelWriter w = new ModelWriter().seed(100 + n).vocabSize(300).dModel(32).heads(4, 2).layers(2, 1)
                        .metadata(meta).normDtype(norm).scalarGates(v % 2 == 0)
                        .embeddingDtype(embeddings[v % embeddings.length]);
                String activation = meta == ModelWriter.Metadata.NONE ? "drelu" : activations[v % 3];
                if (ffn > 0) {
                    w.ffn(ffn, activation);
                } else {
                    w.noFfn(128, activation);
                }
                if (head[0] > 0) {
                    w.contrastive(head[0], head[1]);
                }
                if (v % 3 == 1) { // plain float linears mixed with INT4 ones
                    w.linearDtype("encoder.0.self_attn.wo", TensorType.F32).linearDtype("decoder.0.cross_attn.wq", TensorType.BF16);
                    if (ffn > 0) {
                        w.linearDtype("decoder.0.ffn.down_proj", TensorType.F16);
                    }
                }
                String what = meta + " norms " + norm + " ffn " + ffn + " head " + head[0] + "/" + head[1] + " v" + v;
                byte[] file = w.build();
                WeightLoader.Result r = WeightLoader.loadWithReport(SafeTensors.parse(file));
                Config c = r.model.config;
                assertEquals(300, c.vocabSize, what);
                assertEquals(32, c.dModel, what);
                assertEquals(4, c.numHeads, what);
                assertEquals(2, c.numKvHeads, what);
                assertEquals(2, c.numEncoderLayers, what);
                assertEquals(1, c.numDecoderLayers, what);
                assertEquals(ffn == 0, c.noFeedforward, what);
                assertEquals(ffn == 0 && meta == ModelWriter.Metadata.NONE ? 0 : ffn == 0 ? 128 : ffn, c.ffnDim, what);
                assertEquals(activation, c.activation, what);
                assertEquals(head[0], c.contrastiveHidden, what);
                assertEquals(head[1], c.contrastiveDim, what);
                assertEquals(head[0] > 0, r.model.hasContrastiveHead(), what);
                assertEquals(meta == ModelWriter.Metadata.NONE ? Config.Source.TENSORS : Config.Source.METADATA, c.source, what);
                assertEquals(List.of(), r.unused, what + ": every tensor is used");
                assertEquals(12, NeedleEngine.load(file, null).generate(INPUTS[0], null, new RunOptions().constrain(false).ignoreEos(true).maxNewTokens(12)).length, what);
                if (head[0] > 0) {
                    assertEquals(head[1], r.model.contrastiveEmbedding(INPUTS[1]).length, what);
                }
            }
        }
    }

    @Test
    void theSameWeightsWithAnyMetadataOrNoneDecodeIdentically() {
        for (int ffn : new int[] {0, 75}) {
            ModelWriter w = new ModelWriter().seed(7).vocabSize(400).dModel(64).heads(4, 2).layers(2, 2).contrastive(16, 32);
            if (ffn > 0) {
                w.ffn(ffn, "drelu"); // the activation and rope_theta a file without metadata gets
            }
            byte[] export = w.metadata(ModelWriter.Metadata.EXPORT).build();
            byte[] legacy = w.metadata(ModelWriter.Metadata.LEGACY).build();
            byte[] none = w.metadata(ModelWriter.Metadata.NONE).build();
            assertFalse(Arrays.equals(export, none));
            List<int[]> reference = decode(export);
            assertSameIds(reference, decode(legacy), "legacy metadata, ffn " + ffn);
            assertSameIds(reference, decode(none), "no metadata, ffn " + ffn);
            int nonEos = 0;
            for (int[] ids : reference) {
                nonEos += ids.length;
            }
            assertTrue(nonEos > 6, "the model decodes something: " + nonEos);
            float[] e1 = NeedleEngine.load(export, null).model().contrastiveEmbedding(INPUTS[0]);
            float[] e2 = NeedleEngine.load(none, null).model().contrastiveEmbedding(INPUTS[0]);
            assertArrayEquals(e1, e2);
        }
    }

    /** Rows past in are padding: whatever bytes they hold, the model is the same. */
    @Test
    void paddingRowsAreNeverRead() {
        ModelWriter w = new ModelWriter().seed(9).vocabSize(300).dModel(32).heads(4, 2).layers(1, 1).ffn(45, "swiglu");
        SafeTensorsWriter clean = w.writer();
        SafeTensorsWriter dirty = w.writer();
        byte[] down = dirty.data("encoder.0.ffn.down_proj"); // in 45 padded to 64: bytes from row 46 on are padding
        assertEquals(32 * 32, down.length);
        Random r = new Random(1);
        for (int i = 23 * 32; i < down.length; i++) {
            down[i] = (byte) r.nextInt(256);
        }
        for (int c = 0; c < 32; c++) { // row 45 is the high nibble of byte row 22
            down[22 * 32 + c] = (byte) ((down[22 * 32 + c] & 0x0f) | 0x70);
        }
        assertSameIds(decode(clean.toBytes()), decode(dirty.toBytes()), "garbage in the padding rows");

        // and the loaded weights are exactly q * scale of the rows that exist
        SafeTensors st = SafeTensors.parse(clean.toBytes());
        TensorInfo t = st.get("encoder.0.ffn.down_proj");
        int[] q = Int4Packing.unpack(Arrays.copyOfRange(st.bytes(), t.offset(), t.offset() + t.byteLength()), 45, 32);
        float[] scale = st.readFloats(st.get("encoder.0.ffn.down_proj.scale"));
        Int4Linear loaded = null;
        for (Linear l : NeedleEngine.load(clean.toBytes(), null).model().linears()) {
            if (l instanceof Int4Linear && l.in() == 45) {
                loaded = (Int4Linear) l;
                break;
            }
        }
        assertEquals(32, loaded.groupSize());
        for (int row = 0; row < 45; row++) {
            for (int c = 0; c < 32; c++) {
                assertEquals(q[row * 32 + c] * scale[(row / 32) * 32 + c], loaded.weight(row, c), 0f);
            }
        }
    }

    /** A linear with fewer than 32 inputs has one group of all its rows (needle-rs: g = min(32, in)), even an odd count. */
    @Test
    void smallLinearsHaveOneGroupOfAllRows() {
        byte[] file = new ModelWriter().seed(11).vocabSize(100).dModel(16).heads(2, 1).layers(1, 1).ffn(7, "geglu").build();
        SafeTensors st = SafeTensors.parse(file);
        assertEquals("[8, 16]", st.get("encoder.0.self_attn.wq").shapeString());
        assertEquals("[1, 16]", st.get("encoder.0.self_attn.wq.scale").shapeString());
        assertEquals("[4, 16]", st.get("encoder.0.ffn.down_proj").shapeString(), "in 7: ceil(7/2) rows of bytes");
        assertEquals("[1, 16]", st.get("encoder.0.ffn.down_proj.scale").shapeString());
        assertEquals(12, NeedleEngine.load(file, null).generate(INPUTS[0], null, new RunOptions().constrain(false).ignoreEos(true).maxNewTokens(12)).length);
    }

    /** An odd group larger than any before it (FFN 17 in a d_model 16 model): the encoder unpacks it in row pairs. */
    @Test
    void anOddGroupLargerThanTheOthersEncodes() {
        byte[] file = new ModelWriter().seed(12).vocabSize(100).dModel(16).heads(2, 1).layers(1, 1).ffn(17, "drelu").build();
        NeedleEngine engine = NeedleEngine.load(file, null);
        int[] ids = engine.generate(new int[] {5, 6, 7, 8}, null, new RunOptions().constrain(false).ignoreEos(true).maxNewTokens(5));
        assertEquals(5, ids.length);
        NeedleModel m = engine.model();
        float[] cached = FullDecoder.logits(m, m.encode(new int[] {5, 6, 7, 8}), new int[] {1});
        assertEquals(100, cached.length);
    }

    /** The INT4 nibbles and the BF16/F16 embedding are read from the file's own array: no second copy. */
    @Test
    void int4LinearsAndTheEmbeddingStayInTheFileBytes() {
        for (TensorType emb : new TensorType[] {TensorType.BF16, TensorType.F16}) {
            byte[] file = new ModelWriter().seed(3).vocabSize(2048).dModel(128).heads(8, 4).layers(2, 2)
                    .ffn(75, "drelu").embeddingDtype(emb).build();
            NeedleModel model = NeedleEngine.load(file, null).model();
            assertTrue(model.embedding().bytes() == file, "embedding in place");
            int int4 = 0;
            for (Linear l : model.linears()) {
                if (l instanceof Int4Linear) {
                    assertTrue(((Int4Linear) l).packedBytes() == file, "I4 in place");
                    int4++;
                }
            }
            assertEquals(2 * 4 + 2 * 8 + 4 * 3, int4);
        }
    }

    // ------------------------------------------------------------------ malformed files

    private static ModelWriter tiny() {
        return ModelWriter.tiny().seed(5); // d 32, heads 4/2: wq is I4 [16, 32] + scale [1, 32]
    }

    @Test
    void anI4ByteCountThatIsNotInPadHalvesTimesOutIsRefused() {
        // the header says [32, 32] (the rows of weights, not of bytes) over 512 bytes of data
        SafeTensorsWriter w = tiny().writer();
        String header = w.headerJson();
        String fixed = header.replace("\"encoder.0.self_attn.wq\":{\"dtype\":\"I4\",\"shape\":[16,32]",
                "\"encoder.0.self_attn.wq\":{\"dtype\":\"I4\",\"shape\":[32,32]");
        assertFalse(fixed.equals(header));
        byte[] data = Arrays.copyOfRange(w.toBytes(), 8 + header.getBytes(StandardCharsets.UTF_8).length, w.toBytes().length);
        refused(SafeTensorsWriter.container(fixed, data), NeedleException.Kind.WEIGHTS,
                "tensor \"encoder.0.self_attn.wq\"", "dtype I4 and shape [32, 32] need 1024 bytes", "give 512");

        // consistent bytes, but the shape of the retired layout ([in, out] weights): 1024 bytes
        SafeTensorsWriter old = tiny().writer();
        old.remove("encoder.0.self_attn.wq");
        old.add("encoder.0.self_attn.wq", TensorType.I4, new int[] {32, 32}, new byte[1024]);
        refused(old.toBytes(), NeedleException.Kind.WEIGHTS,
                "tensor 'encoder.0.self_attn.wq' (I4) has shape [32, 32], expected [16, 32]", "in_pad/2 = 16 rows of bytes");
    }

    @Test
    void aMissingOrMisShapedScaleIsRefused() {
        SafeTensorsWriter w = tiny().writer();
        w.remove("decoder.1.cross_attn.wk.scale");
        refused(w.toBytes(), NeedleException.Kind.WEIGHTS, "missing tensor 'decoder.1.cross_attn.wk.scale'",
                "group scales [1, 16] (F32) of the I4 linear 'decoder.1.cross_attn.wk'");

        SafeTensorsWriter m = tiny().writer();
        m.remove("encoder.0.self_attn.wo.scale");
        m.addFloats("encoder.0.self_attn.wo.scale", TensorType.F32, new int[] {2, 32}, new float[64]);
        refused(m.toBytes(), NeedleException.Kind.WEIGHTS,
                "tensor 'encoder.0.self_attn.wo.scale' has shape [2, 32], expected [1, 32]");

        SafeTensorsWriter i4 = tiny().writer();
        i4.remove("encoder.0.self_attn.wo.scale");
        i4.add("encoder.0.self_attn.wo.scale", TensorType.I4, new int[] {1, 32}, new byte[32]);
        refused(i4.toBytes(), NeedleException.Kind.WEIGHTS, "'encoder.0.self_attn.wo.scale' must be F32, F16 or BF16, has I4");

        SafeTensorsWriter plain = tiny().linearDtype("encoder.1.self_attn.wv", TensorType.F32).writer();
        plain.addFloats("encoder.1.self_attn.wv.scale", TensorType.F32, new int[] {1, 16}, new float[16]);
        refused(plain.toBytes(), NeedleException.Kind.WEIGHTS,
                "tensor 'encoder.1.self_attn.wv' is F32 but the file also has 'encoder.1.self_attn.wv.scale'");

        SafeTensorsWriter shape = tiny().linearDtype("encoder.1.self_attn.wv", TensorType.F32).writer();
        shape.remove("encoder.1.self_attn.wv");
        shape.addFloats("encoder.1.self_attn.wv", TensorType.F32, new int[] {16, 32}, new float[512]);
        refused(shape.toBytes(), NeedleException.Kind.WEIGHTS,
                "tensor 'encoder.1.self_attn.wv' has shape [16, 32], expected [32, 16]");
    }

    @Test
    void aMissingNormGateOrLinearIsRefusedNeverZeroFilled() {
        String[][] cases = {
            {"decoder.0.cross_attn_norm", "missing tensor 'decoder.0.cross_attn_norm'"},
            {"encoder.1.self_attn_gate", "missing tensor 'encoder.1.self_attn_gate'"},
            {"encoder_final_norm", "missing tensor 'encoder_final_norm'"},
            {"decoder.1.self_attn.k_norm", "missing tensor 'decoder.1.self_attn.k_norm'"},
            {"decoder.0.cross_attn.wo", "missing tensor 'decoder.0.cross_attn.wo' (expected: a linear [in 32, out 32]: I4 [16, 32]"},
        };
        for (String[] c : cases) {
            SafeTensorsWriter w = tiny().writer();
            w.remove(c[0]);
            refused(w.toBytes(), NeedleException.Kind.WEIGHTS, c[1], "the file has ");
        }
        SafeTensorsWriter gate = tiny().writer();
        gate.remove("decoder.0.self_attn_gate");
        gate.addFloats("decoder.0.self_attn_gate", TensorType.F32, new int[] {2}, new float[2]);
        refused(gate.toBytes(), NeedleException.Kind.WEIGHTS,
                "tensor 'decoder.0.self_attn_gate' has shape [2], expected a scalar ([] or [1])");
        SafeTensorsWriter head = tiny().contrastive(16).writer();
        head.remove("contrastive_proj_kernel");
        refused(head.toBytes(), NeedleException.Kind.WEIGHTS, "missing tensor 'contrastive_proj_kernel'",
                "all of contrastive_hidden_kernel, contrastive_hidden_bias, contrastive_proj_kernel or none");
    }

    @Test
    void unknownExtraTensorsAreIgnoredAndReported() {
        SafeTensorsWriter w = tiny().writer();
        w.addFloats("encoder.0.self_attn.wq.zero_point", TensorType.F32, new int[] {1, 32}, new float[32]);
        w.addFloats("lm_head_bias", TensorType.BF16, new int[] {512}, new float[512]);
        w.metadata("format", "pt");
        byte[] extra = w.toBytes();
        assertSameIds(decode(tiny().build()), decode(extra), "extra tensors");
        WeightLoader.Result r = WeightLoader.loadWithReport(SafeTensors.parse(extra));
        List<String> names = new ArrayList<>();
        for (TensorInfo t : r.unused) {
            names.add(t.name());
        }
        assertEquals(List.of("encoder.0.self_attn.wq.zero_point", "lm_head_bias"), names);
        assertEquals(Config.Source.METADATA, r.model.config.source);
    }

    @Test
    void aFileInTheRetiredLayoutIsToldWhichLayoutIsRead() {
        SafeTensorsWriter w = new SafeTensorsWriter()
                .metadata("vocab_size", "64").metadata("d_model", "32")
                .addFloats("embedding", TensorType.BF16, new int[] {64, 32}, new float[64 * 32])
                .addFloats("encoder.layers.0.attn_norm.scale", TensorType.BF16, new int[] {32}, new float[32])
                .add("encoder.layers.0.self_attn.q_proj.qweight", TensorType.I4, new int[] {16, 32}, new byte[512]);
        refused(w.toBytes(), NeedleException.Kind.WEIGHTS, "this file is in another tensor layout",
                "needle-java-wasm reads the needle-rs layout of MODEL.md section 4",
                "encoder.layers.0.self_attn.q_proj.qweight");
    }

    @Test
    void aFileWithoutMetadataNeedsTheTensorsThatTellTheConfig() {
        SafeTensorsWriter w = tiny().metadata(ModelWriter.Metadata.NONE).writer();
        w.remove("encoder.0.self_attn.q_norm");
        w.remove("decoder.0.self_attn.q_norm");
        refused(w.toBytes(), NeedleException.Kind.WEIGHTS, "missing tensor 'encoder.0.self_attn.q_norm'",
                "head_dim is read from it");
        SafeTensorsWriter odd = tiny().metadata(ModelWriter.Metadata.NONE).writer();
        odd.remove("encoder.0.self_attn.wk");
        odd.add("encoder.0.self_attn.wk", TensorType.I4, new int[] {16, 12}, new byte[192]);
        refused(odd.toBytes(), NeedleException.Kind.WEIGHTS,
                "tensor 'encoder.0.self_attn.wk' has shape [16, 12]: its output width must be a positive multiple of head_dim 8");
    }
}
