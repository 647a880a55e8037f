package io.needle.synthetic;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writer of SafeTensors containers (docs/spec/WEIGHTS.md), used by {@link ModelWriter} to make the
 * seeded random models of tests, demos and benchmarks. Tensors are written contiguously in
 * insertion order; the header JSON ({@code __metadata__} first when there is any, then one entry
 * per tensor, exactly as Python's {@code json.dumps(header, separators=(",", ":"))} writes it,
 * non-ASCII escaped: {@link PythonJson}) is written as needle-rs's export.py writes it (no
 * padding), or padded with spaces to a multiple of 8 bytes as the reference {@code safetensors}
 * libraries do ({@link #padHeader}).
 *
 * <p>{@link #container(String, byte[])} builds a file from arbitrary header text, for tests of
 * malformed files.
 */
public final class SafeTensorsWriter {

    /** One tensor to write. */
    private static final class Entry {
        final String name;
        final TensorType dtype;
        final long[] shape;
        final byte[] data;

        Entry(String name, TensorType dtype, long[] shape, byte[] data) {
            this.name = name;
            this.dtype = dtype;
            this.shape = shape;
            this.data = data;
        }
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Entry> entries = new ArrayList<>();
    private boolean padHeader = false;

    /** Pads the header with spaces to a multiple of 8 bytes (default: no padding, as export.py). */
    public SafeTensorsWriter padHeader(boolean b) {
        this.padHeader = b;
        return this;
    }

    /** Sets a {@code __metadata__} entry (insertion order is kept; re-setting keeps the position). */
    public SafeTensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafeTensorsWriter removeMetadata(String key) {
        metadata.remove(key);
        return this;
    }

    /** The metadata written so far (live view). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Adds a tensor with its raw little-endian bytes; the byte count must match dtype and shape
     * (use {@link #container} for deliberately inconsistent files).
     */
    public SafeTensorsWriter add(String name, TensorType dtype, long[] shape, byte[] data) {
        long need = dtype.byteCount(shape);
        if (need != data.length) {
            throw new IllegalArgumentException(name + ": " + dtype + " shape needs " + need
                    + " bytes, got " + data.length);
        }
        if (has(name)) {
            throw new IllegalArgumentException("duplicate tensor " + name);
        }
        entries.add(new Entry(name, dtype, shape.clone(), data));
        return this;
    }

    /** Adds an int-shaped tensor with its raw bytes. */
    public SafeTensorsWriter add(String name, TensorType dtype, int[] shape, byte[] data) {
        return add(name, dtype, toLong(shape), data);
    }

    /** Adds an F32, F16 or BF16 tensor from float values (16-bit types rounded to nearest even). */
    public SafeTensorsWriter addFloats(String name, TensorType dtype, int[] shape, float[] values) {
        return add(name, dtype, shape, encode(dtype, values));
    }

    /** Removes a tensor (no-op when absent). */
    public SafeTensorsWriter remove(String name) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).name.equals(name)) {
                entries.remove(i);
                return this;
            }
        }
        return this;
    }

    /** Renames a tensor in place (keeps its position). */
    public SafeTensorsWriter rename(String from, String to) {
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (e.name.equals(from)) {
                entries.set(i, new Entry(to, e.dtype, e.shape, e.data));
                return this;
            }
        }
        throw new IllegalArgumentException("no tensor " + from);
    }

    public boolean has(String name) {
        for (Entry e : entries) {
            if (e.name.equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** Names of the tensors, in insertion (= file) order. */
    public List<String> names() {
        List<String> out = new ArrayList<>();
        for (Entry e : entries) {
            out.add(e.name);
        }
        return out;
    }

    /** The raw bytes of a tensor (the live array), or null. */
    public byte[] data(String name) {
        for (Entry e : entries) {
            if (e.name.equals(name)) {
                return e.data;
            }
        }
        return null;
    }

    /** The header JSON text without padding. */
    public String headerJson() {
        StringBuilder sb = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            String separator = "\"__metadata__\":{";
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                PythonJson.appendString(sb.append(separator), m.getKey()).append(':');
                PythonJson.appendString(sb, m.getValue());
                separator = ",";
            }
            sb.append('}');
        }
        long offset = 0;
        for (Entry e : entries) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            PythonJson.appendString(sb, e.name).append(":{\"dtype\":");
            PythonJson.appendString(sb, e.dtype.name()).append(",\"shape\":[");
            for (int i = 0; i < e.shape.length; i++) {
                sb.append(i > 0 ? "," : "").append(e.shape[i]);
            }
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(offset + e.data.length).append("]}");
            offset += e.data.length;
        }
        return sb.append('}').toString();
    }

    /** The complete file. */
    public byte[] toBytes() {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Entry e : entries) {
            data.write(e.data, 0, e.data.length);
        }
        byte[] body = data.toByteArray();
        if (padHeader) {
            return container(headerJson(), body);
        }
        byte[] h = headerJson().getBytes(StandardCharsets.UTF_8);
        return rawContainer(h.length, h, body);
    }

    /**
     * A container from any header text (UTF-8, padded with spaces to a multiple of 8) and data
     * bytes: the length prefix is the padded header's true length.
     */
    public static byte[] container(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        byte[] out = new byte[8 + padded + data.length];
        writeU64(out, 0, padded);
        System.arraycopy(h, 0, out, 8, h.length);
        for (int i = h.length; i < padded; i++) {
            out[8 + i] = ' ';
        }
        System.arraycopy(data, 0, out, 8 + padded, data.length);
        return out;
    }

    /** A container with an arbitrary (possibly lying) header length prefix and raw header bytes. */
    public static byte[] rawContainer(long claimedHeaderLength, byte[] header, byte[] data) {
        byte[] out = new byte[8 + header.length + data.length];
        writeU64(out, 0, claimedHeaderLength);
        System.arraycopy(header, 0, out, 8, header.length);
        System.arraycopy(data, 0, out, 8 + header.length, data.length);
        return out;
    }

    /** Little-endian bytes of float values in an F32, F16 or BF16 encoding. */
    public static byte[] encode(TensorType dtype, float[] values) {
        switch (dtype) {
            case F32: {
                byte[] out = new byte[values.length * 4];
                for (int i = 0; i < values.length; i++) {
                    int b = Float.floatToRawIntBits(values[i]);
                    out[4 * i] = (byte) b;
                    out[4 * i + 1] = (byte) (b >>> 8);
                    out[4 * i + 2] = (byte) (b >>> 16);
                    out[4 * i + 3] = (byte) (b >>> 24);
                }
                return out;
            }
            case F16:
            case BF16: {
                byte[] out = new byte[values.length * 2];
                for (int i = 0; i < values.length; i++) {
                    short s = dtype == TensorType.F16 ? Float16Encoder.floatToF16(values[i])
                            : Float16Encoder.floatToBf16(values[i]);
                    out[2 * i] = (byte) s;
                    out[2 * i + 1] = (byte) (s >>> 8);
                }
                return out;
            }
            default:
                throw new IllegalArgumentException("cannot encode floats as " + dtype);
        }
    }

    /** BF16 as export.py's {@code to_bf16} writes it: each float32 truncated to its upper 16 bits. */
    public static byte[] encodeBf16Truncated(float[] values) {
        byte[] out = new byte[values.length * 2];
        for (int i = 0; i < values.length; i++) {
            int b = Float.floatToRawIntBits(values[i]) >>> 16;
            out[2 * i] = (byte) b;
            out[2 * i + 1] = (byte) (b >>> 8);
        }
        return out;
    }

    static void writeU64(byte[] out, int at, long v) {
        for (int i = 0; i < 8; i++) {
            out[at + i] = (byte) (v >>> (8 * i));
        }
    }

    static long[] toLong(int[] shape) {
        long[] s = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            s[i] = shape[i];
        }
        return s;
    }
}
