package io.needle.cli;

import io.needle.json.Json;
import io.needle.safetensors.DType;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small writer of SafeTensors files (MODEL.md section 4): tensors are laid out contiguously in
 * the order they are added; the header JSON ({@code __metadata__} first, then one entry per tensor
 * with {@code dtype}, {@code shape}, {@code data_offsets}) is padded with spaces to a multiple of 8
 * bytes after its 8-byte little-endian length.
 */
final class SafeTensorsBuilder {
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Object> entries = new LinkedHashMap<>();
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();

    /** Sets a {@code __metadata__} string (insertion order is kept). */
    SafeTensorsBuilder metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds a tensor from its raw little-endian bytes, which must match dtype and shape. */
    SafeTensorsBuilder add(String name, DType dtype, int[] shape, byte[] bytes) {
        long[] s = new long[shape.length];
        List<Object> shapeList = new ArrayList<>();
        for (int i = 0; i < shape.length; i++) {
            s[i] = shape[i];
            shapeList.add((long) shape[i]);
        }
        if (dtype.byteCount(s) != bytes.length) {
            throw new IllegalArgumentException(name + ": " + dtype + " shape needs " + dtype.byteCount(s)
                    + " bytes, got " + bytes.length);
        }
        if (entries.containsKey(name) || name.equals("__metadata__")) {
            throw new IllegalArgumentException("duplicate tensor " + name);
        }
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("dtype", dtype.name());
        e.put("shape", shapeList);
        List<Object> offsets = new ArrayList<>();
        offsets.add((long) data.size());
        offsets.add((long) data.size() + bytes.length);
        e.put("data_offsets", offsets);
        entries.put(name, e);
        data.write(bytes, 0, bytes.length);
        return this;
    }

    /** The complete file. */
    byte[] toBytes() {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<String, Object>(metadata));
        }
        header.putAll(entries);
        byte[] h = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        byte[] out = new byte[8 + padded + data.size()];
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) ((long) padded >>> (8 * i));
        }
        System.arraycopy(h, 0, out, 8, h.length);
        for (int i = h.length; i < padded; i++) {
            out[8 + i] = ' ';
        }
        byte[] d = data.toByteArray();
        System.arraycopy(d, 0, out, 8 + padded, d.length);
        return out;
    }
}
