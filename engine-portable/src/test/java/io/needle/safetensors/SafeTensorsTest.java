package io.needle.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.base.NeedleException;
import io.needle.json.Json;
import io.needle.json.JsonNumber;
import io.needle.synthetic.Float16Encoder;
import io.needle.synthetic.Int4Packing;
import io.needle.synthetic.SafeTensorsWriter;
import io.needle.synthetic.TensorType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Writer → reader round trips and the parity fixture files as integration checks. */
class SafeTensorsTest {

    static Path parityDir() {
        String shared = System.getProperty("needle.shared", "../shared");
        return Paths.get(shared, "fixtures", "parity");
    }

    private static float[] randomFloats(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** The values the writer's {@code encode(dtype, values)} stands for: each float rounded through the dtype. */
    private static float[] roundTo(TensorType dtype, float[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = dtype == TensorType.F16 ? Float16.f16ToFloat(Float16Encoder.floatToF16(values[i]))
                    : Float16.bf16ToFloat(Float16Encoder.floatToBf16(values[i]));
        }
        return out;
    }

    @Test
    void roundTripAllDtypes() {
        Random r = new Random(11);
        float[] f32 = randomFloats(r, 6);
        float[] f16 = randomFloats(r, 24);
        float[] bf16 = randomFloats(r, 5);
        int[] q = new int[5 * 3];
        for (int i = 0; i < q.length; i++) {
            q[i] = r.nextInt(16) - 8;
        }
        SafeTensorsWriter w = new SafeTensorsWriter().padHeader(true)
                .metadata("vocab_size", "512")
                .metadata("note", "caf\u00e9 \u2581 \"quoted\"\n")
                .addFloats("a.f32", TensorType.F32, new int[] {2, 3}, f32)
                .addFloats("b.f16", TensorType.F16, new int[] {2, 3, 4}, f16)
                .addFloats("c.bf16", TensorType.BF16, new int[] {5}, bf16)
                .add("d.i4", TensorType.I4, new int[] {3, 3}, Int4Packing.pack(q, 5, 3))
                .addFloats("e.scalar", TensorType.BF16, new int[0], new float[] {-1.5f})
                .addFloats("f.one", TensorType.F32, new int[] {1}, new float[] {0.25f})
                .addFloats("g.empty", TensorType.F16, new int[] {0, 7}, new float[0])
                .addFloats("h.\u00fcnicode", TensorType.F32, new int[] {1}, new float[] {3f});
        byte[] file = w.toBytes();
        SafeTensors st = SafeTensors.parse(file);

        assertSame(file, st.bytes());
        assertEquals(0, st.headerLength() % 8, "header padded to a multiple of 8");
        assertEquals(8 + st.headerLength(), st.dataStart());
        Map<String, String> meta = st.metadata();
        assertEquals(2, meta.size());
        assertEquals("512", meta.get("vocab_size"));
        assertEquals("caf\u00e9 \u2581 \"quoted\"\n", meta.get("note"));

        List<String> names = new ArrayList<>();
        for (TensorInfo t : st.tensors()) {
            names.add(t.name());
        }
        assertEquals(w.names(), names, "file-offset order = insertion order");

        TensorInfo a = st.get("a.f32");
        assertEquals(DType.F32, a.dtype());
        assertEquals("[2, 3]", a.shapeString());
        assertEquals(st.dataStart(), a.offset(), "first tensor starts the data region");
        assertEquals(24, a.byteLength());
        assertArrayEquals(f32, st.readFloats(a));

        TensorInfo b = st.get("b.f16");
        assertEquals(3, b.rank());
        assertEquals(4, b.dim(2));
        assertEquals(24, b.elementCount());
        assertEquals(a.offset() + 24, b.offset());
        assertArrayEquals(roundTo(TensorType.F16, f16), st.readFloats(b));
        short[] raw = st.readShorts(b);
        for (int i = 0; i < raw.length; i++) {
            assertEquals(Float16Encoder.floatToF16(f16[i]), raw[i]);
        }

        TensorInfo c = st.get("c.bf16");
        assertArrayEquals(roundTo(TensorType.BF16, bf16), st.readFloats(c));
        assertEquals(Float16Encoder.floatToBf16(bf16[0]), st.readShorts(c)[0]);

        TensorInfo d = st.get("d.i4");
        assertEquals(DType.I4, d.dtype());
        assertEquals(9, d.byteLength());
        byte[] packed = Arrays.copyOfRange(file, d.offset(), d.offset() + d.byteLength());
        assertArrayEquals(q, Int4Packing.unpack(packed, 5, 3));
        NeedleException e = assertThrows(NeedleException.class, () -> st.readFloats(d));
        assertEquals(NeedleException.Kind.WEIGHTS, e.kind());
        assertTrue(e.getMessage().contains("d.i4") && e.getMessage().contains("I4"), e.getMessage());

        TensorInfo s = st.get("e.scalar");
        assertEquals(0, s.rank());
        assertEquals("[]", s.shapeString());
        assertEquals(1, s.elementCount());
        assertArrayEquals(new float[] {-1.5f}, st.readFloats(s));
        assertArrayEquals(new float[] {0.25f}, st.readFloats(st.get("f.one")));

        TensorInfo empty = st.get("g.empty");
        assertEquals(0, empty.byteLength());
        assertEquals(0, st.readFloats(empty).length);
        assertArrayEquals(new float[] {3f}, st.readFloats(st.get("h.\u00fcnicode")));

        assertTrue(st.has("a.f32"));
        assertFalse(st.has("missing"));
        assertNull(st.get("missing"));
        assertEquals(file.length, st.tensors().get(st.tensors().size() - 1).offset()
                + st.tensors().get(st.tensors().size() - 1).byteLength());
        NeedleException e2 = assertThrows(NeedleException.class, () -> st.readShorts(a));
        assertTrue(e2.getMessage().contains("a.f32") && e2.getMessage().contains("F32"), e2.getMessage());
    }

    @Test
    void headerIsPaddedWithSpaces() {
        byte[] file = new SafeTensorsWriter()
                .addFloats("x", TensorType.F32, new int[] {1}, new float[] {1f}).toBytes();
        SafeTensors st = SafeTensors.parse(file);
        String header = new String(file, 8, st.headerLength(), StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"));
        assertEquals(header.trim().length(), header.lastIndexOf('}') + 1);
        for (int i = header.lastIndexOf('}') + 1; i < header.length(); i++) {
            assertEquals(' ', header.charAt(i));
        }
    }

    @Test
    void metadataAsOneConfigJsonKeySurvivesAsString() {
        String config = "{\"vocab_size\":8192,\"rope_theta\":10000.0,\"no_feedforward\":false,"
                + "\"activation\":\"drelu\"}";
        byte[] file = new SafeTensorsWriter().metadata("config", config)
                .addFloats("x", TensorType.BF16, new int[] {2}, new float[] {1, 2}).toBytes();
        SafeTensors st = SafeTensors.parse(file);
        assertEquals(config, st.metadata().get("config"));
        assertEquals(1, st.metadata().size());
    }

    @Test
    void noTensorsAndNoMetadata() {
        SafeTensors st = SafeTensors.parse(SafeTensorsWriter.container("{}", new byte[0]));
        assertEquals(0, st.tensors().size());
        assertEquals(0, st.metadata().size());
        // the format writes "{}" padded to 8 bytes
        assertEquals(8, st.headerLength());
    }

    @Test
    void unalignedOffsetsAreFine() {
        // BF16 scalar then F32: the F32 tensor starts at an odd-of-4 data offset (as in the fixtures)
        byte[] file = new SafeTensorsWriter()
                .addFloats("g", TensorType.BF16, new int[0], new float[] {0.5f})
                .addFloats("w", TensorType.F32, new int[] {2}, new float[] {1.25f, -2f}).toBytes();
        SafeTensors st = SafeTensors.parse(file);
        assertArrayEquals(new float[] {1.25f, -2f}, st.readFloats(st.get("w")));
    }

    @Test
    void headerOrderDiffersFromOffsetOrder() {
        String header = "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        byte[] data = SafeTensorsWriter.encode(TensorType.F32, new float[] {1f, 2f});
        SafeTensors st = SafeTensors.parse(SafeTensorsWriter.container(header, data));
        assertEquals("a", st.tensors().get(0).name());
        assertEquals("b", st.tensors().get(1).name());
        assertArrayEquals(new float[] {2f}, st.readFloats(st.get("b")));
    }

    @Test
    void dtypeParseAndByteCount() {
        assertEquals(DType.BF16, DType.parse("BF16"));
        NeedleException e = assertThrows(NeedleException.class, () -> DType.parse("F64", "w.x"));
        assertEquals(NeedleException.Kind.WEIGHTS, e.kind());
        assertTrue(e.getMessage().contains("w.x") && e.getMessage().contains("F64"), e.getMessage());
        assertThrows(NeedleException.class, () -> DType.parse("bf16"));
        assertEquals(24, DType.F32.byteCount(new long[] {2, 3}));
        assertEquals(4, DType.F32.byteCount(new long[0]));
        assertEquals(12, DType.BF16.byteCount(new long[] {2, 3}));
        assertEquals(12, DType.F16.byteCount(new long[] {1, 2, 3}));
        // an I4 header shape counts bytes ([in_pad/2, out]): wq of in 64 is [32, 64], down_proj of in 75 (padded to 96) [48, 128]
        assertEquals(32 * 64, DType.I4.byteCount(new long[] {32, 64}));
        assertEquals(48 * 128, DType.I4.byteCount(new long[] {48, 128}));
        assertEquals(0, DType.F32.byteCount(new long[] {0, Long.MAX_VALUE}));
        NeedleException rank = assertThrows(NeedleException.class,
                () -> DType.I4.byteCount(new long[] {8}));
        assertTrue(rank.getMessage().contains("[in_pad/2, out]"), rank.getMessage());
        assertThrows(NeedleException.class, () -> DType.I4.byteCount(new long[] {2, 2, 2}));
        NeedleException big = assertThrows(NeedleException.class,
                () -> DType.F32.byteCount(new long[] {1L << 40, 1L << 40}));
        assertTrue(big.getMessage().contains("too large"), big.getMessage());
    }

    // ------------------------------------------------------------------ parity fixture files

    @ParameterizedTest
    @ValueSource(strings = {"p1", "p2", "p3", "p4"})
    void parityFilesParse(String name) throws IOException {
        Path dir = parityDir();
        byte[] file = Files.readAllBytes(dir.resolve(name + ".safetensors"));
        @SuppressWarnings("unchecked")
        Map<String, Object> fixture = (Map<String, Object>) Json.parse(
                new String(Files.readAllBytes(dir.resolve(name + ".json")), StandardCharsets.UTF_8));
        @SuppressWarnings("unchecked")
        Map<String, Object> model = (Map<String, Object>) fixture.get("model");
        assertEquals(((JsonNumber) model.get("bytes")).longValue(), file.length);

        SafeTensors st = SafeTensors.parse(file);
        assertTrue(st.tensors().size() > 10);

        // metadata matches the fixture's config (p4 has none: {})
        @SuppressWarnings("unchecked")
        Map<String, Object> expected = (Map<String, Object>) model.get("config");
        assertEquals(expected, new LinkedHashMap<String, Object>(st.metadata()));

        TensorInfo emb = st.get("embedding");
        assertEquals(DType.BF16, emb.dtype());
        if (expected.containsKey("vocab_size")) {
            assertEquals(expected.get("vocab_size"), Integer.toString(emb.dim(0)));
            assertEquals(expected.get("d_model"), Integer.toString(emb.dim(1)));
        }

        long covered = 0;
        int int4 = 0;
        for (TensorInfo t : st.tensors()) {
            covered += t.byteLength();
            if (t.dtype() == DType.I4) {
                int4++;
                // [in_pad/2, out] rows of bytes + X.scale [in_pad/32, out]
                int rows = t.dim(0);
                int out = t.dim(1);
                assertEquals((long) rows * out, t.byteLength());
                TensorInfo scales = st.get(t.name() + ".scale");
                assertEquals(DType.F32, scales.dtype(), t.name());
                assertEquals(2 * rows / 32, scales.dim(0), t.name());
                assertEquals(out, scales.dim(1), t.name());
            } else {
                float[] v = st.readFloats(t);
                assertEquals(t.elementCount(), v.length);
                for (float x : v) {
                    assertTrue(Float.isFinite(x), t.name());
                }
            }
        }
        assertTrue(int4 > 0);
        assertEquals(file.length - st.dataStart(), covered, "tensors cover the data region");
    }
}
