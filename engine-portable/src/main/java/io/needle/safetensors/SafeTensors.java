package io.needle.safetensors;

import io.needle.base.NeedleException;
import io.needle.json.Json;
import io.needle.json.JsonNumber;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed SafeTensors container held in memory (docs/spec/WEIGHTS.md): an 8-byte little-endian
 * header length N, N bytes of UTF-8 JSON, then the data region.
 *
 * <p>{@link #parse} validates the whole layout the way the reference Rust {@code safetensors}
 * crate does: the header fits in the file and in the format's 100,000,000-byte cap; it is a UTF-8
 * JSON object; each entry has a known dtype, a shape of non-negative integers and
 * {@code data_offsets [begin, end]} inside the data region whose size matches dtype and shape;
 * tensors, in offset order, cover the data region exactly (no overlap, no hole, no trailing
 * bytes); {@code __metadata__} maps strings to strings. Every problem is a
 * {@link NeedleException} of kind WEIGHTS with a one-line message naming it and the tensor. Nothing
 * is allocated in proportion to a size before that size has been checked against the real file.
 *
 * <p>The file's byte array is kept, not copied; tensors are read from it on demand. A file held
 * outside the Java heap by a host ({@link WeightBytes}, {@link #parse(WeightBytes)}) is read
 * through it: the header and each tensor read by {@link #readFloats} are copied; {@link #bytes()}
 * is then null.
 */
public final class SafeTensors {
    /**
     * The layout the engine reads, as errors name it to a file in another layout (the names are
     * {@code model.WeightLoader}'s; the I4 rule is this reader's).
     */
    public static final String LAYOUT = "the needle-rs layout of MODEL.md section 4 (names like 'embedding', "
            + "'encoder.0.self_attn.wq' + 'encoder.0.self_attn.wq.scale', 'decoder.0.cross_attn_norm'; "
            + "I4 shapes [in_pad/2, out] count bytes)";
    /** What an error about a file in another tensor layout says. */
    public static final String OTHER_LAYOUT = "this file is in another tensor layout: needle-java-wasm reads " + LAYOUT;

    /** Largest header the format allows (the reference implementation's limit). */
    public static final long MAX_HEADER_LENGTH = 100_000_000L;

    private final byte[] bytes; // the whole file, or null when a host holds it (source)
    private final WeightBytes source; // the host's file, or null
    private final int length; // the file's length
    private final int headerLength;
    private final Map<String, String> metadata;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> byName;

    private SafeTensors(byte[] bytes, WeightBytes source, int length, int headerLength, Map<String, String> metadata,
                        List<TensorInfo> tensors) {
        this.bytes = bytes;
        this.source = source;
        this.length = length;
        this.headerLength = headerLength;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableList(tensors);
        this.byName = new HashMap<>();
        for (TensorInfo t : tensors) {
            byName.put(t.name(), t);
        }
    }

    /** Parses and validates a whole SafeTensors file. The array is kept (not copied). */
    public static SafeTensors parse(byte[] file) {
        if (file == null || file.length < 8) {
            throw error("file is too short for a SafeTensors header: "
                    + (file == null ? 0 : file.length) + " bytes, need at least 8");
        }
        checkHeaderLength(headerLength(file), file.length);
        return parse(file, file.length, file, null);
    }

    /**
     * Parses and validates a file a host holds outside the Java heap (see {@link WeightBytes}):
     * the same checks as {@link #parse(byte[])}; the header is copied, the data region is not.
     */
    public static SafeTensors parse(WeightBytes file) {
        int length = file == null ? 0 : file.length();
        if (length < 8) {
            throw error("file is too short for a SafeTensors header: " + length + " bytes, need at least 8");
        }
        byte[] prefix = new byte[8];
        file.copy(0, prefix, 0, 8);
        long n = headerLength(prefix);
        checkHeaderLength(n, length);
        byte[] head = new byte[8 + (int) n];
        file.copy(0, head, 0, head.length);
        return parse(head, length, null, file);
    }

    /** The 8-byte little-endian length prefix, unsigned (negative above 2^63). */
    private static long headerLength(byte[] file) {
        long n = 0;
        for (int i = 7; i >= 0; i--) {
            n = (n << 8) | (file[i] & 0xff);
        }
        return n;
    }

    private static void checkHeaderLength(long n, int fileLength) {
        if (n < 0 || n > MAX_HEADER_LENGTH) {
            throw error("header length " + unsigned(n) + " exceeds the format's limit of "
                    + MAX_HEADER_LENGTH + " bytes");
        }
        if (n > fileLength - 8L) {
            throw error("header length " + n + " is larger than the file: only " + (fileLength - 8)
                    + " bytes follow the 8-byte length prefix");
        }
    }

    /**
     * Parses the header in {@code head} (the file's first 8 + N bytes at least) of a file of
     * {@code fileLength} bytes, kept as {@code bytes} (the whole file) or {@code source}.
     */
    private static SafeTensors parse(byte[] head, int fileLength, byte[] bytes, WeightBytes source) {
        int headerLength = (int) headerLength(head);
        int dataStart = 8 + headerLength;
        long dataSize = fileLength - dataStart;

        String text = decodeUtf8(head, 8, headerLength);
        Object root;
        try {
            root = Json.parse(text, (int) MAX_HEADER_LENGTH); // the header has its own, larger cap
        } catch (NeedleException e) {
            String why = e.getMessage();
            if (why.startsWith("invalid JSON: ")) {
                why = why.substring("invalid JSON: ".length());
            }
            throw error("header is not valid JSON: " + why);
        }
        if (!(root instanceof Map)) {
            throw error("header is not a JSON object");
        }

        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> list = new ArrayList<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) root).entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                readMetadata(e.getValue(), metadata);
                continue;
            }
            TensorInfo t = readEntry(name, e.getValue(), dataStart, dataSize);
            list.add(t);
        }

        TensorInfo[] sorted = list.toArray(new TensorInfo[0]);
        Arrays.sort(sorted, new Comparator<TensorInfo>() {
            @Override
            public int compare(TensorInfo a, TensorInfo b) {
                if (a.offset() != b.offset()) {
                    return Integer.compare(a.offset(), b.offset());
                }
                return Integer.compare(a.byteLength(), b.byteLength());
            }
        }); // stable: equal ranges keep header order
        long expected = dataStart;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.offset() < expected) {
                throw error("tensor " + q(t.name()) + " overlaps tensor " + q(previous.name())
                        + ": its data_offsets begin at " + (t.offset() - dataStart)
                        + " but the previous tensor ends at " + (expected - dataStart));
            }
            if (t.offset() > expected) {
                throw error("hole in the data region: bytes " + (expected - dataStart) + " to "
                        + (t.offset() - dataStart) + " before tensor " + q(t.name())
                        + " belong to no tensor");
            }
            expected = t.offset() + (long) t.byteLength();
            previous = t;
        }
        if (expected != fileLength) {
            throw error((fileLength - expected) + " trailing bytes after the last tensor's data"
                    + " (the data region has " + dataSize + " bytes, tensors cover "
                    + (expected - dataStart) + ")");
        }
        return new SafeTensors(bytes, source, fileLength, headerLength, metadata,
                new ArrayList<>(Arrays.asList(sorted)));
    }

    private static void readMetadata(Object value, Map<String, String> out) {
        if (!(value instanceof Map)) {
            throw error("__metadata__ is not a JSON object of strings");
        }
        for (Map.Entry<?, ?> m : ((Map<?, ?>) value).entrySet()) {
            if (!(m.getValue() instanceof String)) {
                throw error("__metadata__ value for key " + q((String) m.getKey())
                        + " is not a string: " + brief(m.getValue()));
            }
            out.put((String) m.getKey(), (String) m.getValue());
        }
    }

    private static TensorInfo readEntry(String name, Object value, int dataStart, long dataSize) {
        String where = "tensor " + q(name) + ": ";
        if (!(value instanceof Map)) {
            throw error(where + "header entry is not a JSON object");
        }
        Map<?, ?> entry = (Map<?, ?>) value;
        Object dtypeValue = entry.get("dtype");
        if (!(dtypeValue instanceof String)) {
            throw error(where + (dtypeValue == null ? "missing \"dtype\"" : "\"dtype\" is not a string"));
        }
        DType dtype = DType.parse((String) dtypeValue, name);

        Object shapeValue = entry.get("shape");
        if (!(shapeValue instanceof List)) {
            throw error(where + (shapeValue == null ? "missing \"shape\"" : "\"shape\" is not an array"));
        }
        List<?> shapeList = (List<?>) shapeValue;
        long[] shape = new long[shapeList.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeInteger(shapeList.get(i), where + "shape");
        }

        Object offsetsValue = entry.get("data_offsets");
        if (!(offsetsValue instanceof List) || ((List<?>) offsetsValue).size() != 2) {
            throw error(where + (offsetsValue == null ? "missing \"data_offsets\""
                    : "\"data_offsets\" is not an array [begin, end]"));
        }
        long begin = nonNegativeInteger(((List<?>) offsetsValue).get(0), where + "data_offsets");
        long end = nonNegativeInteger(((List<?>) offsetsValue).get(1), where + "data_offsets");
        if (begin > end) {
            throw error(where + "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataSize) {
            throw error(where + "data_offsets [" + begin + ", " + end
                    + "] are out of range: the data region has " + dataSize + " bytes");
        }

        long need;
        try {
            need = dtype.byteCount(shape);
        } catch (NeedleException e) {
            throw error(where + e.getMessage());
        }
        if (need != end - begin) {
            // the retired invented layout wrote I4 shapes [in, out] that count weights, two per byte
            boolean countsWeights = dtype == DType.I4 && shape.length == 2 && shape[1] > 0
                    && (shape[0] + 1) / 2 * shape[1] == end - begin;
            throw error(where + "dtype " + dtype + " and shape " + DType.shapeString(shape) + " need "
                    + need + " bytes but data_offsets [" + begin + ", " + end + "] give "
                    + (end - begin) + (countsWeights ? "; the shape counts weights, not bytes: " + OTHER_LAYOUT : ""));
        }
        int[] dims = new int[shape.length];
        for (int i = 0; i < dims.length; i++) {
            if (shape[i] > Integer.MAX_VALUE) { // only possible for an empty tensor
                throw error(where + "dimension " + shape[i] + " is too large");
            }
            dims[i] = (int) shape[i];
        }
        return new TensorInfo(name, dtype, dims, (int) (dataStart + begin), (int) (end - begin));
    }

    /** A JSON integer >= 0 that fits in a long, else an error naming {@code what}. */
    private static long nonNegativeInteger(Object v, String what) {
        if (v instanceof JsonNumber) {
            JsonNumber num = (JsonNumber) v;
            String text = num.text();
            if (num.isInteger() && !text.startsWith("-")) {
                try {
                    return num.longValue();
                } catch (NumberFormatException e) {
                    throw error(what + " value " + text + " is too large");
                }
            }
        }
        throw error(what + " must hold non-negative integers, found " + brief(v));
    }

    /** Strict UTF-8 decoding (no overlong forms, no surrogates, nothing above U+10FFFF). */
    private static String decodeUtf8(byte[] b, int off, int len) {
        StringBuilder sb = new StringBuilder(len);
        int i = off;
        int end = off + len;
        while (i < end) {
            int c = b[i] & 0xff;
            if (c < 0x80) {
                sb.append((char) c);
                i++;
                continue;
            }
            int need;
            int cp;
            int min;
            if (c >= 0xc2 && c <= 0xdf) {
                need = 1;
                cp = c & 0x1f;
                min = 0x80;
            } else if (c >= 0xe0 && c <= 0xef) {
                need = 2;
                cp = c & 0x0f;
                min = 0x800;
            } else if (c >= 0xf0 && c <= 0xf4) {
                need = 3;
                cp = c & 0x07;
                min = 0x10000;
            } else {
                throw badUtf8(i - off);
            }
            if (i + need >= end) { // truncated sequence
                throw badUtf8(i - off);
            }
            for (int k = 1; k <= need; k++) {
                int cc = b[i + k] & 0xff;
                if ((cc & 0xc0) != 0x80) {
                    throw badUtf8(i - off);
                }
                cp = (cp << 6) | (cc & 0x3f);
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                throw badUtf8(i - off);
            }
            if (cp >= 0x10000) {
                sb.append((char) (0xd800 + ((cp - 0x10000) >> 10)));
                sb.append((char) (0xdc00 + ((cp - 0x10000) & 0x3ff)));
            } else {
                sb.append((char) cp);
            }
            i += need + 1;
        }
        return sb.toString();
    }

    private static NeedleException badUtf8(int at) {
        return error("header is not valid UTF-8 (bad byte sequence at header byte " + at + ")");
    }

    private static NeedleException error(String message) {
        return new NeedleException(NeedleException.Kind.WEIGHTS, message);
    }

    /** A name quoted for a message, shortened when very long. */
    private static String q(String s) {
        if (s == null) {
            return "null";
        }
        return Json.quote(s.length() > 200 ? s.substring(0, 200) + "..." : s);
    }

    /** A JSON value for a message, shortened when very long. */
    private static String brief(Object v) {
        String s = Json.write(v);
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    /** Decimal text of a u64 held in a long. */
    private static String unsigned(long v) {
        if (v >= 0) {
            return Long.toString(v);
        }
        long quotient = (v >>> 1) / 5;
        long remainder = v - quotient * 10;
        return Long.toString(quotient) + remainder;
    }

    // ------------------------------------------------------------------ access

    /** The {@code __metadata__} entries in file order (empty when there are none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** All tensors, in order of their position in the file. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** The tensor named {@code name}, or null. */
    public TensorInfo get(String name) {
        return byName.get(name);
    }

    public boolean has(String name) {
        return byName.containsKey(name);
    }

    /**
     * The whole file (the array given to {@link #parse(byte[])}, not a copy), or null when a host
     * holds it ({@link #parse(WeightBytes)}: read it with {@link #copy}).
     */
    public byte[] bytes() {
        return bytes;
    }

    /** The file's length in bytes. */
    public int length() {
        return length;
    }

    /** Copies the file's bytes [offset, offset + n) to dst[at, at + n), wherever the file is held. */
    public void copy(int offset, byte[] dst, int at, int n) {
        if (offset < 0 || n < 0 || offset > length - n || at < 0 || at > dst.length - n) {
            throw new NeedleException(NeedleException.Kind.INPUT, "bytes [" + offset + ", " + ((long) offset + n)
                    + ") are outside the file (" + length + " bytes) or the target");
        }
        if (bytes != null) {
            System.arraycopy(bytes, offset, dst, at, n);
        } else {
            source.copy(offset, dst, at, n);
        }
    }

    /** The bytes of tensor t: the file's array (from t's offset) or, for a host's file, a copy (from 0). */
    private byte[] tensorBytes(TensorInfo t) {
        if (bytes != null) {
            return bytes;
        }
        byte[] b = new byte[t.byteLength()];
        source.copy(t.offset(), b, 0, b.length);
        return b;
    }

    /** N, the JSON header's length in bytes. */
    public int headerLength() {
        return headerLength;
    }

    /** Index of the first byte of the data region ({@code 8 + N}). */
    public int dataStart() {
        return 8 + headerLength;
    }

    /** The values of an F32, F16 or BF16 tensor as floats, in row-major order. */
    public float[] readFloats(TensorInfo t) {
        checkInFile(t);
        int n = (int) t.elementCount();
        float[] out = new float[n];
        byte[] b = tensorBytes(t);
        int p = b == bytes ? t.offset() : 0;
        switch (t.dtype()) {
            case F32:
                for (int i = 0; i < n; i++, p += 4) {
                    out[i] = Float.intBitsToFloat((b[p] & 0xff) | (b[p + 1] & 0xff) << 8
                            | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24);
                }
                return out;
            case F16:
                for (int i = 0; i < n; i++, p += 2) {
                    out[i] = Float16.f16ToFloat(short16(b, p));
                }
                return out;
            case BF16:
                for (int i = 0; i < n; i++, p += 2) {
                    out[i] = Float16.bf16ToFloat(short16(b, p));
                }
                return out;
            default:
                throw error("tensor " + q(t.name()) + " has dtype " + t.dtype()
                        + "; expected F32, F16 or BF16");
        }
    }

    /** The raw 16-bit values of an F16 or BF16 tensor, in row-major order. */
    public short[] readShorts(TensorInfo t) {
        checkInFile(t);
        if (t.dtype() != DType.F16 && t.dtype() != DType.BF16) {
            throw error("tensor " + q(t.name()) + " has dtype " + t.dtype() + "; expected F16 or BF16");
        }
        int n = (int) t.elementCount();
        short[] out = new short[n];
        byte[] b = tensorBytes(t);
        for (int i = 0, p = b == bytes ? t.offset() : 0; i < n; i++, p += 2) {
            out[i] = short16(b, p);
        }
        return out;
    }

    /**
     * A {@link TensorInfo} made elsewhere (its constructor is public) must describe bytes inside
     * this file, in the amount its dtype and shape need, before any of them is read.
     */
    private void checkInFile(TensorInfo t) {
        if (t == null || t.dtype() == null) {
            throw new NeedleException(NeedleException.Kind.INPUT, "no tensor given (null)");
        }
        long need;
        try {
            need = t.dtype().byteCount(toLong(t.shape()));
        } catch (NeedleException e) {
            need = -1;
        }
        if (need != t.byteLength() || t.offset() < dataStart() || t.offset() > length - (long) t.byteLength()) {
            throw new NeedleException(NeedleException.Kind.INPUT, "tensor " + q(t.name())
                    + " (" + t.dtype() + " " + t.shapeString() + ", " + t.byteLength() + " bytes at " + t.offset()
                    + ") does not describe bytes of this file");
        }
    }

    private static long[] toLong(int[] shape) {
        long[] out = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            out[i] = shape[i];
        }
        return out;
    }

    private static short short16(byte[] b, int p) {
        return (short) ((b[p] & 0xff) | (b[p + 1] & 0xff) << 8);
    }
}
