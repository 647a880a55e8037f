package io.needle.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.base.NeedleException;
import io.needle.engine.NeedleEngine;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import io.needle.safetensors.WeightBytes;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One copy of the weights (issue 14.3): a host that holds the weight file outside the Java heap
 * ({@link WeightBytes}, the npm package's linear memory) loads a model that has no Java copy of
 * the INT4 matrices and the 16-bit embedding; its kernels compute them, with the tokens and floats
 * of a model loaded from the array. Where the portable code would have to read those bytes, it
 * fails loudly instead of reading anything.
 */
class HostWeightsTest {
    private static final String TOOLS = "[{\"name\":\"send_message\",\"description\":\"Send a text\","
            + "\"parameters\":{\"to\":{\"type\":\"string\",\"required\":true}}}]";
    private static final String QUERY = "text Ana that I am late";

    /** A host's file: the bytes live here, the engine reads them only through copy(). */
    static final class HostFile implements WeightBytes {
        private final byte[] file;
        int copied; // bytes handed to the engine

        HostFile(byte[] file) {
            this.file = file;
        }

        @Override
        public int length() {
            return file.length;
        }

        @Override
        public void copy(int offset, byte[] dst, int at, int n) {
            System.arraycopy(file, offset, dst, at, n);
            copied += n;
        }
    }

    /**
     * Kernels of a host that keeps the file: each layer computed by a twin made over the host's
     * own bytes (the portable arithmetic, so the same floats).
     */
    static final class HostKernels implements Kernels {
        final byte[] file;
        final boolean int4;
        final boolean lookup;
        int lookups;

        HostKernels(byte[] file, boolean int4, boolean lookup) {
            this.file = file;
            this.int4 = int4;
            this.lookup = lookup;
        }

        @Override
        public Int4Kernel int4(Int4Linear linear) {
            if (!int4) {
                return null;
            }
            assertNull(linear.packedBytes(), "no Java copy of the packed weights");
            float[] scales = linear.scales();
            if (scales == null) { // F32 in the file: read there, as the Wasm kernels do
                assertTrue(linear.scalesOffset() > 0, "the scales' place in the file");
                int n = (linear.in() + linear.groupSize() - 1) / linear.groupSize() * linear.out();
                scales = new float[n];
                for (int i = 0, p = linear.scalesOffset(); i < n; i++, p += 4) {
                    scales[i] = Float.intBitsToFloat((file[p] & 0xff) | (file[p + 1] & 0xff) << 8
                            | (file[p + 2] & 0xff) << 16 | (file[p + 3] & 0xff) << 24);
                }
            }
            Int4Linear twin = new Int4Linear(linear.in(), linear.out(), linear.groupSize(), file,
                    linear.packedOffset(), scales);
            Scratch scratch = new Scratch();
            return (x, y, rows) -> twin.forward(x, y, rows, scratch);
        }

        @Override
        public LogitsKernel logits(Embedding e) {
            assertNull(e.bytes(), "no Java copy of the embedding");
            Embedding twin = Embedding.ofHalf(e.vocab(), e.dim(), e.format(), file, e.offset());
            return new LogitsKernel() {
                @Override
                public void logits(float[] h, float[] logits, int from, int to) {
                    twin.logits(h, logits, from, to);
                }

                @Override
                public void logitsAt(float[] h, float[] logits, int[] ids, int count) {
                    twin.logitsAt(h, logits, ids, count);
                }

                @Override
                public boolean lookup(int token, float scale, float[] out, int off) {
                    if (!lookup) {
                        return false;
                    }
                    lookups++;
                    twin.lookup(token, scale, out, off);
                    return true;
                }
            };
        }
    }

    private static ModelWriter writer() {
        // an odd-width FFN (a partial group), GQA and a contrastive head
        return new ModelWriter().seed(7).vocabSize(600).dModel(64).heads(4, 2).layers(2, 2).ffn(45, "swiglu")
                .contrastive(16);
    }

    @Test
    void aModelOverTheHostsBytesHasNoJavaCopyAndTheSameTokensAndFloats() {
        hostedEqualsPlain(writer().build(), true);
    }

    @Test
    void sixteenBitScalesAreDecodedForTheKernelAndThenDropped() {
        hostedEqualsPlain(writer().scalesDtype(io.needle.synthetic.TensorType.BF16).build(), false);
    }

    @Test
    void aNonFiniteF32ScaleInTheHostsFileIsRefusedAsFromTheArray() {
        // a scale tensor of 16384 values: the check reads a host's file in chunks of 8192
        ModelWriter mw = new ModelWriter().seed(3).vocabSize(600).dModel(256).heads(4, 2).layers(1, 1)
                .ffn(2048, "swiglu");
        String name = "decoder.0.ffn.up_proj.scale";
        int[] at = {0, 8191, 8192, 16383};
        int[] bits = {0x7fc00000, 0x7f800000, 0xff800000, 0x7f800001};
        String[] shown = {"NaN", "Infinity", "-Infinity", "NaN"};
        for (int k = 0; k < at.length; k++) {
            io.needle.synthetic.SafeTensorsWriter w = mw.writer();
            byte[] d = w.data(name);
            assertEquals(4 * 16384, d.length);
            for (int i = 0; i < 4; i++) {
                d[4 * at[k] + i] = (byte) (bits[k] >> (8 * i));
            }
            byte[] file = w.toBytes();
            String vocab = TestVocab.make(600, 3);
            NeedleException a = assertThrows(NeedleException.class, () -> NeedleEngine.load(file, vocab));
            NeedleException b = assertThrows(NeedleException.class, () -> NeedleEngine.load(
                    SafeTensors.parse(new HostFile(file)), vocab, new HostKernels(file, true, true)));
            assertEquals(NeedleException.Kind.WEIGHTS, b.kind());
            assertEquals(a.getMessage(), b.getMessage());
            assertTrue(b.getMessage().contains("'" + name + "'") && b.getMessage().contains(shown[k] + " at element " + at[k]),
                    b.getMessage());
        }
    }

    private static void hostedEqualsPlain(byte[] file, boolean scalesInFile) {
        String vocab = TestVocab.make(600, 7);
        NeedleEngine plain = NeedleEngine.load(file, vocab);

        HostFile host = new HostFile(file);
        HostKernels kernels = new HostKernels(file, true, true);
        NeedleEngine hosted = NeedleEngine.load(SafeTensors.parse(host), vocab, kernels);

        NeedleModel m = hosted.model();
        assertNull(m.embedding().bytes());
        int int4 = 0;
        for (Linear l : m.linears()) {
            if (l instanceof Int4Linear) {
                assertNull(((Int4Linear) l).packedBytes());
                // F32: the kernel reads them in the file; 16-bit: decoded for it, then dropped
                assertNull(((Int4Linear) l).scales(), "no Java copy of the group scales kept");
                assertEquals(scalesInFile, ((Int4Linear) l).scalesOffset() > 0);
                int4++;
            }
        }
        assertTrue(int4 > 0);
        // copied out of the host's file: the length prefix and the header, each small tensor once
        // (norms, gates, scales, the head), the embedding once in chunks (the NaN check); never an
        // INT4 matrix
        SafeTensors st = SafeTensors.parse(file);
        long expected = 8 + st.dataStart();
        for (TensorInfo t : st.tensors()) {
            if (t.dtype() != io.needle.safetensors.DType.I4) {
                expected += t.byteLength();
            }
        }
        assertEquals(expected, host.copied);

        assertArrayEquals(plain.run(QUERY, TOOLS).tokens, hosted.run(QUERY, TOOLS).tokens);
        int[] prompt = plain.prompt(QUERY, TOOLS);
        assertArrayEquals(plain.generate(prompt, 24), hosted.generate(prompt, 24));
        assertTrue(kernels.lookups > 0, "the row look-ups went through the kernel");
        float[] a = FullDecoder.logits(plain.model(), plain.model().encode(prompt), new int[] {1, 5, 9});
        float[] b = FullDecoder.logits(m, m.encode(prompt), new int[] {1, 5, 9});
        for (int v = 0; v < a.length; v++) {
            assertEquals(Float.floatToIntBits(a[v]), Float.floatToIntBits(b[v]), "logit " + v);
        }
        assertArrayEquals(plain.contrastiveEmbedding(QUERY), hosted.contrastiveEmbedding(QUERY));
    }

    @Test
    void kernelsThatLeaveALayerToThePortableCodeAreRefusedAtLoad() {
        byte[] file = writer().build();
        NeedleException e = assertThrows(NeedleException.class,
                () -> NeedleEngine.load(SafeTensors.parse(new HostFile(file)), null, new HostKernels(file, false, true)));
        assertEquals(NeedleException.Kind.WEIGHTS, e.kind());
        assertTrue(e.getMessage().contains("do not compute an INT4 linear"), e.getMessage());

        NeedleException none = assertThrows(NeedleException.class,
                () -> NeedleEngine.load(SafeTensors.parse(new HostFile(file)), null, null));
        assertTrue(none.getMessage().contains("host's memory only"), none.getMessage());
    }

    @Test
    void thePortableCodeNeverReadsBytesItDoesNotHave() {
        byte[] file = writer().build();
        NeedleEngine hosted = NeedleEngine.load(SafeTensors.parse(new HostFile(file)), null,
                new HostKernels(file, true, false));
        // the kernel declines the row look-ups: the encoder's input fails, it is not zeros
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> hosted.model().encode(new int[] {1, 40, 41}));
        assertTrue(e.getMessage().contains("embedding"), e.getMessage());

        Int4Linear bare = new Int4Linear(64, 32, 32, null, 0, new float[2 * 32]);
        IllegalStateException f = assertThrows(IllegalStateException.class,
                () -> bare.forward(new float[64], new float[32], 1, new Scratch()));
        assertTrue(f.getMessage().contains("host's kernel must"), f.getMessage());
        assertThrows(IllegalStateException.class, () -> bare.q(0, 0));
        Embedding table = Embedding.ofHalf(10, 4, Embedding.Format.BF16, null, 0);
        assertThrows(IllegalStateException.class, () -> table.value(0, 0));
        assertThrows(IllegalStateException.class, () -> table.logits(new float[4], new float[10]));
        assertThrows(IllegalStateException.class, () -> table.lookup(1, 1f, new float[4], 0));
    }

    @Test
    void theHostsFileParsesAsTheArrayDoesAndFailsWithTheSameMessages() {
        byte[] file = writer().build();
        SafeTensors a = SafeTensors.parse(file);
        SafeTensors b = SafeTensors.parse(new HostFile(file));
        assertNull(b.bytes());
        assertEquals(a.length(), b.length());
        assertEquals(a.metadata(), b.metadata());
        assertEquals(a.tensors().size(), b.tensors().size());
        for (TensorInfo t : a.tensors()) {
            TensorInfo u = b.get(t.name());
            assertEquals(t.offset(), u.offset(), t.name());
            if (t.dtype() != io.needle.safetensors.DType.I4) {
                assertArrayEquals(a.readFloats(t), b.readFloats(u), t.name());
            }
        }
        byte[] got = new byte[100];
        b.copy(file.length - 100, got, 0, 100);
        for (int i = 0; i < 100; i++) {
            assertEquals(file[file.length - 100 + i], got[i]);
        }
        assertThrows(NeedleException.class, () -> b.copy(file.length - 10, got, 0, 11));

        List<byte[]> broken = new ArrayList<>();
        broken.add(new byte[5]); // too short
        byte[] longHeader = file.clone();
        longHeader[0] = (byte) 0xff;
        longHeader[1] = (byte) 0xff;
        longHeader[2] = (byte) 0xff;
        broken.add(longHeader); // header length past the file
        byte[] truncated = new byte[file.length - 3];
        System.arraycopy(file, 0, truncated, 0, truncated.length);
        broken.add(truncated); // a tensor past the end
        for (byte[] f : broken) {
            NeedleException x = assertThrows(NeedleException.class, () -> SafeTensors.parse(f));
            NeedleException y = assertThrows(NeedleException.class, () -> SafeTensors.parse(new HostFile(f)));
            assertEquals(x.getMessage(), y.getMessage());
        }
    }
}
