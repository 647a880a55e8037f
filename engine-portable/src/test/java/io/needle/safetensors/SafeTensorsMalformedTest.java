package io.needle.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.needle.base.NeedleException;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.SafeTensorsWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Every malformed container gives NeedleException WEIGHTS with a one-line message naming the
 * problem (and the tensor), never another exception, a hang or a huge allocation.
 */
class SafeTensorsMalformedTest {

    /** Parses and expects a WEIGHTS error whose message contains every fragment. */
    private static String fails(byte[] file, String... fragments) {
        NeedleException e = assertThrows(NeedleException.class, () -> SafeTensors.parse(file));
        assertEquals(NeedleException.Kind.WEIGHTS, e.kind(), e.getMessage());
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), "message \"" + m + "\" should contain \"" + f + "\"");
        }
        return m;
    }

    private static byte[] file(String header, int dataBytes) {
        return SafeTensorsWriter.container(header, new byte[dataBytes]);
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape
                + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    // ------------------------------------------------------------------ length prefix

    @Test
    void truncatedFile() {
        fails(new byte[0], "too short", "0 bytes");
        fails(new byte[7], "too short", "7 bytes");
        fails(null, "too short");
    }

    @Test
    void headerLongerThanFile() {
        byte[] header = "{}      ".getBytes(StandardCharsets.UTF_8);
        fails(SafeTensorsWriter.rawContainer(9, header, new byte[0]), "header length 9",
                "larger than the file", "8 bytes");
        fails(SafeTensorsWriter.rawContainer(50_000_000, header, new byte[0]), "50000000",
                "larger than the file");
        fails(SafeTensorsWriter.rawContainer(1, new byte[0], new byte[0]), "larger than the file");
    }

    @Test
    void hugeClaimedHeaderLengthsDoNotAllocate() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            byte[] small = "{}".getBytes(StandardCharsets.UTF_8);
            fails(SafeTensorsWriter.rawContainer(1L << 60, small, new byte[0]),
                    Long.toString(1L << 60), "limit", "100000000");
            fails(SafeTensorsWriter.rawContainer(100_000_001L, small, new byte[0]), "limit");
            // top bit set: a negative long, reported as the unsigned value
            fails(SafeTensorsWriter.rawContainer(-1L, small, new byte[0]),
                    "18446744073709551615", "limit");
        });
    }

    @Test
    void truncationsOfAValidFileAllFail() {
        byte[] good = ModelWriter.tiny().vocabSize(64).dModel(16).heads(2, 1).layers(1, 1).build();
        SafeTensors.parse(good);
        for (int len = 0; len < good.length; len++) {
            byte[] cut = Arrays.copyOf(good, len);
            NeedleException e = assertThrows(NeedleException.class, () -> SafeTensors.parse(cut));
            assertEquals(NeedleException.Kind.WEIGHTS, e.kind());
        }
    }

    // ------------------------------------------------------------------ header text

    @Test
    void headerNotUtf8() {
        byte[] header = {'{', '"', (byte) 0xff, '"', ':', '1', '}', ' '};
        fails(SafeTensorsWriter.rawContainer(8, header, new byte[0]), "not valid UTF-8", "byte 2");
        // overlong encoding of '/' and a lone surrogate are rejected too
        byte[] overlong = {'{', '"', (byte) 0xc0, (byte) 0xaf, '"', ':', '1', '}'};
        fails(SafeTensorsWriter.rawContainer(8, overlong, new byte[0]), "UTF-8");
        byte[] surrogate = {'{', '"', (byte) 0xed, (byte) 0xa0, (byte) 0x80, '"', '}', ' '};
        fails(SafeTensorsWriter.rawContainer(8, surrogate, new byte[0]), "UTF-8");
        byte[] truncated = {'{', '}', ' ', ' ', ' ', ' ', ' ', (byte) 0xe2};
        fails(SafeTensorsWriter.rawContainer(8, truncated, new byte[0]), "UTF-8", "byte 7");
    }

    @Test
    void headerNotJson() {
        fails(file("{not json", 0), "header is not valid JSON");
        fails(file("", 0), "not valid JSON");
        fails(file("{\"a\":{\"dtype\":\"F32\"", 0), "not valid JSON");
        fails(file("{} {}", 0), "not valid JSON");
    }

    @Test
    void deeplyNestedHeaderIsAnErrorNotAStackOverflow() {
        StringBuilder sb = new StringBuilder("{\"x\":");
        for (int i = 0; i < 100_000; i++) {
            sb.append('[');
        }
        fails(file(sb.toString(), 0), "not valid JSON", "nesting");
    }

    @Test
    void headerNotAnObject() {
        fails(file("[1,2]", 0), "header is not a JSON object");
        fails(file("\"text\"", 0), "not a JSON object");
        fails(file("null", 0), "not a JSON object");
        fails(file("42", 0), "not a JSON object");
    }

    // ------------------------------------------------------------------ entries

    @Test
    void entryNotAnObjectOrMissingFields() {
        fails(file("{\"w\":5}", 0), "\"w\"", "not a JSON object");
        fails(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "\"w\"", "missing \"dtype\"");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "\"w\"", "missing \"shape\"");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "\"w\"", "missing \"data_offsets\"");
        fails(file("{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "\"w\"",
                "\"dtype\" is not a string");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]}}", 4), "\"w\"",
                "\"shape\" is not an array");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), "\"w\"",
                "[begin, end]");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{}}}", 4), "\"w\"",
                "[begin, end]");
    }

    @Test
    void unknownDtype() {
        fails(file("{" + entry("enc.w", "F64", "[1]", 0, 8) + "}", 8), "\"enc.w\"", "unknown dtype",
                "\"F64\"");
        fails(file("{" + entry("enc.w", "bf16", "[1]", 0, 2) + "}", 2), "\"enc.w\"", "\"bf16\"");
    }

    @Test
    void badShapes() {
        fails(file("{" + entry("w", "F32", "[-1]", 0, 0) + "}", 0), "\"w\"", "shape",
                "non-negative integers", "-1");
        fails(file("{" + entry("w", "F32", "[1.5]", 0, 4) + "}", 4), "\"w\"", "shape", "1.5");
        fails(file("{" + entry("w", "F32", "[\"2\"]", 0, 8) + "}", 8), "\"w\"", "shape", "\"2\"");
        fails(file("{" + entry("w", "F32", "[1e2]", 0, 400) + "}", 400), "\"w\"", "shape");
        fails(file("{" + entry("w", "F32", "[99999999999999999999]", 0, 4) + "}", 4), "\"w\"",
                "too large");
        fails(file("{" + entry("w", "I4", "[8]", 0, 4) + "}", 4), "\"w\"", "[in_pad/2, out]", "[8]");
        fails(file("{" + entry("w", "I4", "[2,2,2]", 0, 4) + "}", 4), "\"w\"", "[in_pad/2, out]");
    }

    @Test
    void hugeClaimedShapesDoNotAllocateOrOverflow() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            // product overflows a long
            fails(file("{" + entry("w", "F32", "[4611686018427387904,4]", 0, 16) + "}", 16),
                    "\"w\"", "too large");
            fails(file("{" + entry("w", "BF16", "[1099511627776,1099511627776]", 0, 16) + "}", 16),
                    "\"w\"", "too large");
            // fits in a long but not in the file: a byte-count mismatch, nothing allocated
            fails(file("{" + entry("w", "F32", "[1073741824,1024]", 0, 16) + "}", 16), "\"w\"",
                    "4398046511104 bytes", "give 16");
            // empty tensor with a dimension beyond int
            fails(file("{" + entry("w", "F32", "[0,3000000000]", 0, 0) + "}", 0), "\"w\"",
                    "dimension 3000000000 is too large");
            // offsets claiming 2^62 bytes
            fails(file("{" + entry("w", "F32", "[1]", 0, 1L << 62) + "}", 4), "\"w\"",
                    "out of range", "4 bytes");
        });
    }

    // ------------------------------------------------------------------ offsets and layout

    @Test
    void offsetsOutOfRange() {
        fails(file("{" + entry("w", "F32", "[1]", 4, 8) + "}", 4), "\"w\"", "[4, 8]",
                "out of range", "4 bytes");
        fails(file("{" + entry("w", "F32", "[1]", 8, 4) + "}", 8), "\"w\"", "end before they begin");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4), "\"w\"",
                "data_offsets", "non-negative");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", 4),
                "\"w\"", "data_offsets", "4.0");
    }

    @Test
    void shapeByteCountMismatch() {
        fails(file("{" + entry("enc.q", "F32", "[3]", 0, 8) + "}", 8), "\"enc.q\"", "F32", "[3]",
                "need 12 bytes", "give 8");
        // an I4 shape counts bytes ([in_pad/2, out]): [3, 4] is 12 bytes
        fails(file("{" + entry("q", "I4", "[3,4]", 0, 6) + "}", 6), "\"q\"", "need 12 bytes", "give 6");
        fails(file("{" + entry("s", "BF16", "[]", 0, 4) + "}", 4), "\"s\"", "need 2 bytes", "give 4");
    }

    @Test
    void overlappingTensors() {
        String header = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}";
        fails(file(header, 12), "\"b\"", "overlaps", "\"a\"");
        String same = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 0, 4) + "}";
        fails(file(same, 4), "overlaps");
        // an empty tensor inside another one
        String inside = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("e", "F32", "[0]", 4, 4) + "}";
        fails(file(inside, 8), "\"a\"", "overlaps");
    }

    @Test
    void holeInDataRegion() {
        String header = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}";
        fails(file(header, 12), "hole", "bytes 4 to 8", "\"b\"");
        fails(file("{" + entry("a", "F32", "[1]", 4, 8) + "}", 8), "hole", "bytes 0 to 4", "\"a\"");
    }

    @Test
    void trailingBytes() {
        fails(file("{" + entry("a", "F32", "[1]", 0, 4) + "}", 7), "3 trailing bytes");
        fails(file("{}", 5), "5 trailing bytes");
    }

    // ------------------------------------------------------------------ metadata

    @Test
    void badMetadata() {
        fails(file("{\"__metadata__\":{\"vocab_size\":512}}", 0), "__metadata__", "\"vocab_size\"",
                "not a string", "512");
        fails(file("{\"__metadata__\":{\"a\":\"x\",\"b\":null}}", 0), "\"b\"", "not a string");
        fails(file("{\"__metadata__\":{\"cfg\":{\"d\":1}}}", 0), "\"cfg\"", "not a string");
        fails(file("{\"__metadata__\":[\"a\"]}", 0), "__metadata__", "not a JSON object");
        fails(file("{\"__metadata__\":\"x\"}", 0), "__metadata__", "not a JSON object");
    }

    // ------------------------------------------------------------------ fuzz

    /** Random byte changes to a valid model: the result parses or fails with WEIGHTS, nothing else. */
    @Test
    void randomCorruptionsNeverCrash() {
        byte[] good = ModelWriter.tiny().vocabSize(64).dModel(16).heads(2, 1).layers(1, 1)
                .contrastive(8).build();
        int headerEnd = 8 + SafeTensors.parse(good).headerLength();
        Random r = new Random(5);
        int failures = 0;
        for (int iter = 0; iter < 3000; iter++) {
            byte[] bad = good.clone();
            int changes = 1 + r.nextInt(3);
            for (int k = 0; k < changes; k++) {
                // mostly in the header, where the structure is
                int at = r.nextInt(4) == 0 ? r.nextInt(bad.length) : r.nextInt(headerEnd);
                String syntax = "0123456789[]{}\",:-. e";
                bad[at] = r.nextBoolean() ? (byte) r.nextInt(256)
                        : (byte) syntax.charAt(r.nextInt(syntax.length()));
            }
            try {
                SafeTensors.parse(bad);
            } catch (NeedleException e) {
                assertEquals(NeedleException.Kind.WEIGHTS, e.kind());
                assertFalse(e.getMessage().contains("\n"));
                failures++;
            } catch (RuntimeException | Error e) {
                fail("iteration " + iter + ": " + e, e);
            }
        }
        assertTrue(failures > 1000, "most corruptions are detected: " + failures);
    }
}
