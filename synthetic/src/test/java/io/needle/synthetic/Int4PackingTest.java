package io.needle.synthetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The I4 quantizer and reference: packing layout, round trips and quantization (docs/spec/MODEL.md §4). */
class Int4PackingTest {

    @Test
    void packingLayoutMatchesSpec() {
        // in = 3 rows, out = 2 columns: byte (r/2)*out + c, even row low nibble, odd row high
        int[] q = {
            -1, 7, // row 0
            -8, 3, // row 1
            5, -2, // row 2 (odd last row missing: high nibble 0)
        };
        byte[] p = Int4Packing.pack(q, 3, 2);
        assertEquals(4, p.length); // ceil(3/2) * 2
        assertEquals(0x8f, p[0] & 0xff); // row0 c0 = -1 (0xf) low, row1 c0 = -8 (0x8) high
        assertEquals(0x37, p[1] & 0xff); // row0 c1 = 7, row1 c1 = 3
        assertEquals(0x05, p[2] & 0xff); // row2 c0 = 5, missing row 0
        assertEquals(0x0e, p[3] & 0xff); // row2 c1 = -2 (0xe)
        assertArrayEquals(q, Int4Packing.unpack(p, 3, 2));
        assertEquals(4, TensorType.I4.byteCount(new long[] {2, 2}), "an I4 header shape counts bytes: 2 rows of 2");
    }

    @Test
    void packUnpackRoundTripAllShapes() {
        Random r = new Random(7);
        for (int in = 1; in <= 9; in++) {
            for (int out = 1; out <= 5; out++) {
                int[] q = new int[in * out];
                for (int i = 0; i < q.length; i++) {
                    q[i] = r.nextInt(16) - 8;
                }
                byte[] p = Int4Packing.pack(q, in, out);
                assertEquals(TensorType.I4.byteCount(new long[] {(in + 1) / 2, out}), p.length);
                assertArrayEquals(q, Int4Packing.unpack(p, in, out), in + "x" + out);
            }
        }
        // every byte value unpacks and repacks to itself (even row count)
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        assertArrayEquals(all, Int4Packing.pack(Int4Packing.unpack(all, 2, 256), 2, 256));
    }

    @Test
    void quantizeFollowsGroupScales() {
        int in = 75; // groups of 32, 32 and 11 rows
        int out = 6;
        Random r = new Random(3);
        float[] w = new float[in * out];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        for (int c = 0; c < out; c++) {
            w[40 * out + c] = 0; // doesn't matter
        }
        Int4Packing.Quantized qz = Int4Packing.quantize(w, in, out);
        assertEquals(3, qz.groups);
        assertEquals(3 * out, qz.scales.length);
        assertEquals(48, qz.rows, "in 75 padded to 96: 48 rows of bytes");
        assertEquals(48 * out, qz.packed.length);
        for (int i = (in + 1) / 2 * out; i < qz.packed.length; i++) {
            assertEquals(0, qz.packed[i], "padding rows are zero");
        }
        int[] q = Int4Packing.unpack(qz.packed, in, out);
        for (int g = 0; g < 3; g++) {
            for (int c = 0; c < out; c++) {
                float max = 0;
                for (int row = g * 32; row < Math.min(in, g * 32 + 32); row++) {
                    max = Math.max(max, Math.abs(w[row * out + c]));
                }
                assertEquals(max / 7f, qz.scales[g * out + c], 0f);
            }
        }
        float[] back = Int4Packing.dequantize(qz.packed, qz.scales, in, out, 32);
        for (int row = 0; row < in; row++) {
            for (int c = 0; c < out; c++) {
                int i = row * out + c;
                float scale = qz.scales[(row / 32) * out + c];
                assertTrue(q[i] >= -7 && q[i] <= 7);
                assertTrue(Math.abs(back[i] - w[i]) <= scale / 2 * 1.0001f, "error within half a step");
            }
        }
    }

    @Test
    void quantizeRoundsHalfToEvenAndClamps() {
        assertEquals(2, Int4Packing.quantizeOne(2.5f, 1f));
        assertEquals(-2, Int4Packing.quantizeOne(-2.5f, 1f));
        assertEquals(4, Int4Packing.quantizeOne(3.5f, 1f));
        assertEquals(7, Int4Packing.quantizeOne(100f, 1f));
        assertEquals(-8, Int4Packing.quantizeOne(-100f, 1f));
        // an all-zero group has export.py's floor scale 1e-8 and q 0; a group of 2 rows when in is 2
        Int4Packing.Quantized z = Int4Packing.quantize(new float[4], 2, 2);
        assertArrayEquals(new float[] {1e-8f, 1e-8f}, z.scales);
        assertEquals(1, z.rows);
        assertArrayEquals(new int[4], Int4Packing.unpack(z.packed, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> Int4Packing.pack(new int[] {8}, 1, 1));
    }
}
