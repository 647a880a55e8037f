package io.needle.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.needle.engine.NeedleEngine;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import org.junit.jupiter.api.Test;

/**
 * The host-kernel hook ({@link Kernels}, installed at load: {@code NeedleEngine.load(w, v, kernels)}): kernels written from the
 * documented arithmetic alone (the contract the Wasm SIMD module and any other fast path follow:
 * per output value the same float operations in the same order, here in a different loop order)
 * reach every INT4 linear, attention block and the output projection, give the portable kernels'
 * floats bit for bit and so the same tokens; null restores the portable kernels.
 */
class KernelsTest {

    /** Int4Linear's arithmetic, column by column: acc += x[r]·q[r] + x[r+1]·q[r+1] per group, y += acc·scale. */
    static final class ReferenceInt4 implements Int4Kernel {
        final Int4Linear w;
        int calls;

        ReferenceInt4(Int4Linear w) {
            this.w = w;
        }

        @Override
        public void forward(float[] x, float[] y, int rows) {
            calls++;
            int in = w.in();
            int g = w.groupSize();
            for (int t = 0; t < rows; t++) {
                for (int c = 0; c < w.out(); c++) {
                    float yc = 0f;
                    for (int r0 = 0; r0 < in; r0 += g) {
                        float acc = 0f;
                        for (int r = r0; r < Math.min(in, r0 + g); r += 2) {
                            float u = x[t * in + r];
                            float v = r + 1 < in ? x[t * in + r + 1] : 0f;
                            float qHi = r + 1 < in ? w.q(r + 1, c) : highNibble(w, r, c);
                            acc += u * w.q(r, c) + v * qHi;
                        }
                        yc += acc * w.scales()[(r0 / g) * w.out() + c];
                    }
                    y[t * w.out() + c] = yc;
                }
            }
        }

        private static int highNibble(Int4Linear w, int r, int c) {
            return w.packedBytes()[w.packedOffset() + (r >> 1) * w.out() + c] >> 4;
        }
    }

    /** Embedding.logits' arithmetic: each logit a sum over the dimensions in order. */
    static final class ReferenceLogits implements LogitsKernel {
        final Embedding e;
        int calls;

        ReferenceLogits(Embedding e) {
            this.e = e;
        }

        @Override
        public void logits(float[] h, float[] logits, int from, int to) {
            calls++;
            for (int v = from; v < to; v++) {
                logits[v] = dot(h, v);
            }
        }

        @Override
        public void logitsAt(float[] h, float[] logits, int[] ids, int count) {
            calls++;
            for (int k = 0; k < count; k++) {
                logits[ids[k]] = dot(h, ids[k]);
            }
        }

        private float dot(float[] h, int v) {
            float s = 0f;
            for (int i = 0; i < e.dim(); i++) {
                s += h[i] * e.value(v, i);
            }
            return s;
        }
    }

    /**
     * Attention's core, from its javadoc: per row and head, scores in order i, masked and scaled,
     * softmax (exp per key, the sum in double), weighted values in order j skipping p == 0; here the
     * weighted sum runs dimension by dimension instead of key by key.
     */
    static final class ReferenceAttention implements AttentionKernel {
        final Attention a;
        int calls;

        ReferenceAttention(Attention a) {
            this.a = a;
        }

        @Override
        public boolean attend(float[] qs, int rows, int pos0, float[] keysT, int stride, float[] values, int keyCount,
                boolean[] keyValid, boolean causal, float[] ctx) {
            calls++;
            int hd = a.headDim();
            int group = a.heads() / a.kvHeads();
            float scale = (float) (1.0 / Math.sqrt(hd));
            float[] p = new float[keyCount];
            for (int t = 0; t < rows; t++) {
                for (int h = 0; h < a.heads(); h++) {
                    int qo = (t * a.heads() + h) * hd;
                    int kvh = h / group;
                    float max = -Float.MAX_VALUE;
                    for (int j = 0; j < keyCount; j++) {
                        float s = 0f;
                        for (int i = 0; i < hd; i++) {
                            s += qs[qo + i] * keysT[(kvh * hd + i) * stride + j];
                        }
                        boolean visible = (keyValid == null || keyValid[j]) && (!causal || j <= pos0 + t);
                        p[j] = visible ? s * scale : -Float.MAX_VALUE;
                        max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < keyCount; j++) {
                        p[j] = (float) Exp.exp(p[j] - max);
                        sum += p[j];
                    }
                    float inv = (float) (1.0 / sum);
                    for (int i = 0; i < hd; i++) {
                        float acc = 0f;
                        for (int j = 0; j < keyCount; j++) {
                            float pj = p[j] * inv;
                            if (pj != 0f) {
                                acc += pj * values[(j * a.kvHeads() + kvh) * hd + i];
                            }
                        }
                        ctx[qo + i] = acc;
                    }
                }
            }
            return true;
        }
    }

    static final class Reference implements Kernels {
        int int4;
        int attention;
        int prepared;
        ReferenceLogits logits;

        @Override
        public void prepare(NeedleModel model) {
            assertEquals(0, int4 + attention, "prepare comes first");
            prepared++;
        }

        @Override
        public AttentionKernel attention(Attention a) {
            attention++;
            return new ReferenceAttention(a);
        }

        @Override
        public Int4Kernel int4(Int4Linear linear) {
            int4++;
            return new ReferenceInt4(linear);
        }

        @Override
        public LogitsKernel logits(Embedding embedding) {
            logits = new ReferenceLogits(embedding);
            return logits;
        }
    }

    @Test
    void referenceKernelsGiveThePortableTokensAndFloats() {
        // an odd-width FFN (ffn_dim 45: an odd last row pair, a partial group padded to 64) and GQA
        ModelWriter w = new ModelWriter().seed(31).vocabSize(600).dModel(64).heads(4, 2).layers(2, 2)
                .ffn(45, "swiglu");
        byte[] file = w.build();
        String vocab = TestVocab.make(600, 31);
        NeedleEngine engine = NeedleEngine.load(file, vocab);
        NeedleModel model = engine.model();
        String tools = "[{\"name\":\"send_message\",\"description\":\"Send a text\","
                + "\"parameters\":{\"to\":{\"type\":\"string\",\"required\":true}}}]";
        int[] prompt = engine.prompt("text Ana that I am late", tools);
        int[] plain = engine.generate(prompt, 24);
        int[] constrained = engine.run("text Ana that I am late", tools).tokens;
        float[] logits = FullDecoder.logits(model, model.encode(prompt), new int[] {1, 5, 9}).clone();

        assertEquals(0, model.hostKernelCount());

        Reference ref = new Reference();
        NeedleEngine fast = NeedleEngine.load(file, vocab, ref);
        NeedleModel fm = fast.model();
        assertEquals(fm.linears().size() + fm.attentions().size() + 1, fm.hostKernelCount(),
                "every INT4 linear, every attention block and the logits");
        assertEquals(fm.linears().size(), ref.int4);
        assertEquals(fm.attentions().size(), ref.attention);
        assertArrayEquals(plain, fast.generate(prompt, 24));
        assertArrayEquals(constrained, fast.run("text Ana that I am late", tools).tokens);
        float[] again = FullDecoder.logits(fm, fm.encode(prompt), new int[] {1, 5, 9});
        for (int v = 0; v < logits.length; v++) {
            assertEquals(Float.floatToIntBits(logits[v]), Float.floatToIntBits(again[v]), "logit " + v);
        }
        assertEquals(true, ref.logits.calls > 0);
        Int4Linear first = (Int4Linear) fm.linears().get(0);
        assertEquals(true, ((ReferenceInt4) first.kernel()).calls > 0);
        assertSame(ref.logits, fm.embedding().kernel());
        assertEquals(true, ((ReferenceAttention) fm.attentions().get(0).kernel()).calls > 0);
        assertEquals(1, ref.prepared, "prepare is called once, with the model, before the layers");

        // the portable engine kept its own kernels
        assertNull(((Int4Linear) model.linears().get(0)).kernel());
        assertNull(model.embedding().kernel());
        assertNull(model.attentions().get(0).kernel());
        assertArrayEquals(plain, engine.generate(prompt, 24));
    }
}
