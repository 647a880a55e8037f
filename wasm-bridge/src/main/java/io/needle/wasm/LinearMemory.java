package io.needle.wasm;

import java.nio.ByteBuffer;
import org.teavm.interop.Address;
import org.teavm.jso.typedarrays.Int8Array;

/**
 * A block of needle.wasm's linear memory (outside the garbage-collected heap), where the SIMD
 * kernels ({@link SimdModule}) read and write. Allocated as a direct {@link ByteBuffer}, which
 * TeaVM places in the linear memory and releases when the buffer is garbage collected: the block
 * lives as long as this object is reachable. TeaVM only (uses {@link Address}).
 */
final class LinearMemory {
    private final ByteBuffer buffer; // keeps the block allocated
    final int address;
    final int size;

    LinearMemory(int size) {
        this.size = size;
        // 16 bytes of slack: the kernels may read one vector past the last value they use
        buffer = ByteBuffer.allocateDirect(size + 16);
        address = Int8Array.fromJavaBuffer(buffer).getByteOffset();
    }

    /** Copies src[from..from+n) to this block's bytes at {@code at}. */
    void putBytes(int at, byte[] src, int from, int n) {
        int a = address + at;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            int p = from + i;
            Address.fromInt(a + i).putInt((src[p] & 0xff) | (src[p + 1] & 0xff) << 8
                    | (src[p + 2] & 0xff) << 16 | src[p + 3] << 24);
        }
        for (; i < n; i++) {
            Address.fromInt(a + i).putByte(src[from + i]);
        }
    }

    /** Copies n bytes from byte {@code at} of this block to dst[from..from+n). */
    void getBytes(int at, byte[] dst, int from, int n) {
        int a = address + at;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            int v = Address.fromInt(a + i).getInt();
            int p = from + i;
            dst[p] = (byte) v;
            dst[p + 1] = (byte) (v >> 8);
            dst[p + 2] = (byte) (v >> 16);
            dst[p + 3] = (byte) (v >> 24);
        }
        for (; i < n; i++) {
            dst[from + i] = Address.fromInt(a + i).getByte();
        }
    }

    /** The 16-bit value at byte {@code at}. */
    short getShort(int at) {
        return Address.fromInt(address + at).getShort();
    }

    /** Stores the byte v at byte {@code at}. */
    void putByte(int at, byte v) {
        Address.fromInt(address + at).putByte(v);
    }

    /** Copies src[0..n) to this block as floats from byte {@code at}. */
    void putFloats(int at, float[] src, int n) {
        putFloats(at, src, 0, n);
    }

    /** Copies src[from..from+n) to this block as floats from byte {@code at}. */
    void putFloats(int at, float[] src, int from, int n) {
        int a = address + at;
        for (int i = 0; i < n; i++) {
            Address.fromInt(a + 4 * i).putFloat(src[from + i]);
        }
    }

    /** Copies src[0..n) to this block as ints from byte {@code at}. */
    void putInts(int at, int[] src, int n) {
        int a = address + at;
        for (int i = 0; i < n; i++) {
            Address.fromInt(a + 4 * i).putInt(src[i]);
        }
    }

    /** Copies n floats from byte {@code at} of this block to dst[from..from+n). */
    void getFloats(int at, float[] dst, int from, int n) {
        int a = address + at;
        for (int i = 0; i < n; i++) {
            dst[from + i] = Address.fromInt(a + 4 * i).getFloat();
        }
    }

    /** Stores the 16-bit value v at byte {@code at}. */
    void putShort(int at, short v) {
        Address.fromInt(address + at).putShort(v);
    }

    /** The float at byte {@code at}. */
    float getFloat(int at) {
        return Address.fromInt(address + at).getFloat();
    }
}
