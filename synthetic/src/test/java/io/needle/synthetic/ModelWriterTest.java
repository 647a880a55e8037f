package io.needle.synthetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The random model writer on its own: determinism, presets, the header text as Python's
 * {@code json.dumps} writes it, export.py's BF16 truncation and {@code str()} of floats. How the
 * engine reads the files (and the parity files' headers byte for byte) is engine-portable's
 * {@code io.needle.safetensors.ModelWriterFilesTest}.
 */
class ModelWriterTest {

    @Test
    void sameSettingsSameBytes() {
        byte[] a = ModelWriter.tiny().seed(3).build();
        byte[] b = ModelWriter.tiny().seed(3).build();
        byte[] other = ModelWriter.tiny().seed(4).build();
        assertArrayEquals(a, b, "same seed, same file");
        assertFalse(Arrays.equals(a, other), "different seed, different values");
        assertEquals(a.length, other.length, "the seed changes values, not the layout");
    }

    @Test
    void headerIsJsonDumpsCompactAndAscii() {
        SafeTensorsWriter w = new SafeTensorsWriter()
                .metadata("note", "caf\u00e9 \u2581 \"q\" \\ \n\r\t\b\f \u0001\u001f\u007f ~ \ud83d\ude00")
                .metadata("k", "v")
                .addFloats("a.f32", TensorType.F32, new int[] {2, 3}, new float[6])
                .addFloats("s", TensorType.BF16, new int[0], new float[] {1f});
        // what Python 3 prints for json.dumps(header, separators=(",", ":")) of the same dict
        String want = "{\"__metadata__\":{\"note\":\"caf\\u00e9 \\u2581 \\\"q\\\" \\\\ \\n\\r\\t\\b\\f "
                + "\\u0001\\u001f\\u007f ~ \\ud83d\\ude00\",\"k\":\"v\"},"
                + "\"a.f32\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"s\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[24,26]}}";
        assertEquals(want, w.headerJson());
        byte[] file = w.toBytes();
        assertEquals(want.length(), ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(),
                "export.py: the length prefix is the unpadded header");
        assertEquals(want, new String(file, 8, want.length(), StandardCharsets.US_ASCII));
        assertEquals(8 + want.length() + 26, file.length);

        assertEquals("{}", new SafeTensorsWriter().headerJson(), "no metadata, no tensors");
        String padded = new String(new SafeTensorsWriter().padHeader(true).metadata("a", "b").toBytes(), 8, 32,
                StandardCharsets.US_ASCII);
        assertEquals("{\"__metadata__\":{\"a\":\"b\"}}      ", padded, "padded with spaces to a multiple of 8");
    }

    @Test
    void tinyPresetHeader() {
        SafeTensorsWriter w = ModelWriter.tiny().seed(3).writer();
        String h = w.headerJson();
        assertTrue(h.startsWith("{\"__metadata__\":{\"d_model\":\"32\",\"num_heads\":\"4\",\"num_kv_heads\":\"2\","), h);
        assertTrue(h.contains("\"no_feedforward\":\"True\",\"activation\":\"drelu\",\"rope_theta\":\"10000.0\"}"), h);
        assertTrue(h.contains("\"encoder.0.self_attn.wq\":{\"dtype\":\"I4\",\"shape\":[16,32],"), "in 32 → 16 rows of bytes");
        assertTrue(h.contains("\"encoder.0.self_attn.wq.scale\":{\"dtype\":\"F32\",\"shape\":[1,32],"), h);
        assertTrue(h.contains("\"decoder.0.self_attn_gate\":{\"dtype\":\"F32\",\"shape\":[1],"), h);
        assertFalse(w.has("encoder.0.ffn_norm") || w.has("contrastive_proj_kernel"));
        List<String> names = w.names();
        assertEquals(List.of("embedding", "encoder_final_norm", "decoder_final_norm", "encoder.0.norm"), names.subList(0, 4),
                "export.py's order");
    }

    @Test
    void fullSizePresetAndDescriptions() {
        byte[] file = ModelWriter.fullSize().build();
        assertTrue(file.length > 22_000_000 && file.length < 23_000_000, "size " + file.length);
        assertEquals("vocab 8192, d_model 512, heads 8/4, layers 12+8, INT4, no FFN",
                ModelWriter.fullSize().describe());
        assertEquals("vocab 512, d_model 32, heads 4/2, layers 2+2, F16, FFN 48 geglu, contrastive head",
                ModelWriter.tiny().linearDtype(TensorType.F16).ffn(48, "geglu").contrastive(16).describe());
    }

    @Test
    void tensorTypeByteCounts() {
        assertEquals(24, TensorType.F32.byteCount(new long[] {2, 3}));
        assertEquals(4, TensorType.F32.byteCount(new long[0]));
        assertEquals(12, TensorType.BF16.byteCount(new long[] {2, 3}));
        assertEquals(32 * 64, TensorType.I4.byteCount(new long[] {32, 64}), "an I4 header shape counts bytes");
        assertThrows(IllegalArgumentException.class, () -> TensorType.I4.byteCount(new long[] {8}));
        assertThrows(IllegalArgumentException.class, () -> TensorType.F16.byteCount(new long[] {-1}));
        assertThrows(IllegalArgumentException.class, () -> TensorType.F32.byteCount(new long[] {1L << 40, 1L << 40}));
        assertThrows(IllegalArgumentException.class,
                () -> new SafeTensorsWriter().add("x", TensorType.F32, new int[] {2}, new byte[4]));
    }

    @Test
    void bf16EmbeddingIsTruncatedAsExportPyDoes() {
        float v = Float.intBitsToFloat(0x3f80ffff); // 1.0000153: rounding would give 0x3f81, truncation 0x3f80
        byte[] b = SafeTensorsWriter.encodeBf16Truncated(new float[] {v});
        assertEquals(0x80, b[0] & 0xff);
        assertEquals(0x3f, b[1] & 0xff);
        byte[] rounded = SafeTensorsWriter.encode(TensorType.BF16, new float[] {v});
        assertEquals(0x81, rounded[0] & 0xff, "addFloats rounds to nearest even");
    }

    @Test
    void pythonStrOfFloats() {
        assertEquals("10000.0", ModelWriter.pythonStr(10000));
        assertEquals("0.5", ModelWriter.pythonStr(0.5));
        assertEquals("1e+16", ModelWriter.pythonStr(1e16));
        assertEquals("1.5e-07", ModelWriter.pythonStr(1.5e-7));
    }
}
