package io.needle.engine;

import io.needle.base.NeedleException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.model.NeedleModel;
import io.needle.safetensors.DType;
import io.needle.synthetic.TensorType;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import io.needle.synthetic.Int4Packing;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import io.needle.testing.Shared;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link NeedleEngine#retrieveTools} against a direct float computation of the contrastive head
 * (docs/spec/MODEL.md section 2) written here from the spec: the head's weights read from the file bytes
 * (I4 dequantized with {@link Int4Packing}, BF16/F32 converted here), the encoder output of the text
 * alone (at most 256 tokens) mean-pooled, {@code relu(pooled W_h + b)}, {@code W_p}, L2-normalized;
 * score = dot product.
 */
class RetrievalTest {
    static final String[] DESCRIPTIONS = {
        "Get the current weather for a city",
        "Set an alarm at a given time",
        "Send a text message to a contact",
        "Play a song, artist or genre",
        "Search for flights between two airports",
        "Create a calendar event",
        "Book a table at a restaurant",
        "Turn the lights on or off in a room",
        "Météo à Paris ☀️ — prévisions",
        "東京の天気",
    };

    /** The head of a model file as plain float matrices. */
    static final class Head {
        final int d;
        final int h;
        final int dim;
        final float[] hidden; // [d, h]
        final float[] bias; // [h]
        final float[] proj; // [h, dim]

        /** The head's sizes come from the file (hidden = the bias length, dim = the projection's width). */
        Head(byte[] file, int d) {
            SafeTensors st = SafeTensors.parse(file);
            this.d = d;
            this.h = st.get("contrastive_hidden_bias").dim(0);
            this.dim = st.get("contrastive_proj_kernel").dim(1);
            hidden = linear(st, file, "contrastive_hidden_kernel", d, h);
            bias = floats(st, file, st.get("contrastive_hidden_bias"));
            proj = linear(st, file, "contrastive_proj_kernel", h, dim);
        }

        static float[] linear(SafeTensors st, byte[] file, String name, int in, int out) {
            TensorInfo t = st.get(name);
            if (st.has(name + ".scale")) {
                byte[] packed = Arrays.copyOfRange(file, t.offset(), t.offset() + t.byteLength());
                return Int4Packing.dequantize(packed, floats(st, file, st.get(name + ".scale")), in, out, Math.min(32, in));
            }
            return floats(st, file, t);
        }

        /** F32 / BF16 tensor values, converted here from the raw little-endian bytes. */
        static float[] floats(SafeTensors st, byte[] file, TensorInfo t) {
            int base = t.offset();
            int n = (int) t.elementCount();
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                if (t.dtype() == DType.F32) {
                    int bits = (file[base + 4 * i] & 0xff) | (file[base + 4 * i + 1] & 0xff) << 8
                            | (file[base + 4 * i + 2] & 0xff) << 16 | (file[base + 4 * i + 3] & 0xff) << 24;
                    v[i] = Float.intBitsToFloat(bits);
                } else if (t.dtype() == DType.BF16) {
                    int bits = (file[base + 2 * i] & 0xff) | (file[base + 2 * i + 1] & 0xff) << 8;
                    v[i] = Float.intBitsToFloat(bits << 16);
                } else {
                    throw new AssertionError("dtype not used by these tests: " + t.dtype());
                }
            }
            return v;
        }

        /** The embedding of a text encoded alone: ids truncated to 256, encoder, pool, head, normalize. */
        double[] embed(NeedleEngine engine, String text) {
            int[] ids = engine.tokenizer().encode(text);
            if (ids.length > 256) {
                ids = Arrays.copyOf(ids, 256);
            }
            NeedleModel.EncoderOutput e = engine.model().encode(ids);
            double[] pooled = new double[d];
            int n = 0;
            for (int t = 0; t < e.length; t++) {
                if (!e.valid[t]) {
                    continue;
                }
                n++;
                for (int i = 0; i < d; i++) {
                    pooled[i] += e.enc[t * d + i];
                }
            }
            for (int i = 0; i < d; i++) {
                pooled[i] = n == 0 ? 0 : pooled[i] / n;
            }
            double[] hv = new double[h];
            for (int j = 0; j < h; j++) {
                double s = bias[j];
                for (int i = 0; i < d; i++) {
                    s += pooled[i] * hidden[i * h + j];
                }
                hv[j] = Math.max(0, s);
            }
            double[] p = new double[dim];
            double ss = 0;
            for (int k = 0; k < dim; k++) {
                double s = 0;
                for (int j = 0; j < h; j++) {
                    s += hv[j] * proj[j * dim + k];
                }
                p[k] = s;
                ss += s * s;
            }
            double inv = 1 / Math.sqrt(ss + 1e-12);
            for (int k = 0; k < dim; k++) {
                p[k] *= inv;
            }
            return p;
        }

        double score(NeedleEngine engine, String query, String description) {
            double[] a = embed(engine, query);
            double[] b = embed(engine, description);
            double s = 0;
            for (int k = 0; k < a.length; k++) {
                s += a[k] * b[k];
            }
            return s;
        }
    }

    /** A model with a discriminative random head (larger weights than the init scale). */
    static ModelWriter writer(long seed, int vocab, int d, int dim) {
        return new ModelWriter().seed(seed).vocabSize(vocab).dModel(d).heads(4, 2).layers(2, 1)
                .contrastive(dim).contrastiveStd(0.5);
    }

    /** The smallest score spread (best - worst) seen: the head must tell the descriptions apart. */
    static double spread = Double.MAX_VALUE;

    /** Checks the engine's ranking and scores against the direct computation, for every top-k. */
    static void checkAgainstDirect(NeedleEngine engine, Head head, String query, List<String> descriptions) {
        double[] expected = new double[descriptions.size()];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = head.score(engine, query, descriptions.get(i));
        }
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (double e : expected) {
            lo = Math.min(lo, e);
            hi = Math.max(hi, e);
        }
        spread = Math.min(spread, hi - lo);
        ToolScore[] all = engine.retrieveTools(query, descriptions, descriptions.size());
        assertEquals(descriptions.size(), all.length);
        boolean[] seen = new boolean[descriptions.size()];
        for (int r = 0; r < all.length; r++) {
            ToolScore s = all[r];
            assertTrue(!seen[s.index], "index listed twice");
            seen[s.index] = true;
            assertEquals(expected[s.index], s.score, 1e-4, "score of " + s.index + " for " + query);
            if (r > 0) {
                // best first; a near-tie may come in either order
                assertTrue(all[r - 1].score >= s.score, "scores not descending");
                assertTrue(expected[all[r - 1].index] >= expected[s.index] - 1e-5,
                        "ranked " + all[r - 1].index + " before " + s.index + " but the direct scores are "
                                + expected[all[r - 1].index] + " < " + expected[s.index]);
            }
        }
        // the ranking by the direct scores (ties: lower index first) is the engine's wherever the
        // direct scores are not near-ties
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < expected.length; i++) {
            order.add(i);
        }
        Collections.sort(order, (a, b) -> expected[a] != expected[b] ? Double.compare(expected[b], expected[a]) : a - b);
        for (int r = 0; r < all.length; r++) {
            int want = order.get(r);
            if (all[r].index != want) {
                assertTrue(Math.abs(expected[want] - expected[all[r].index]) < 1e-5, "rank " + r + ": expected "
                        + want + " got " + all[r].index);
            }
        }
        // top-k is a prefix of the full ranking
        for (int k : new int[] {0, 1, NeedleEngine.DEFAULT_TOP_K, descriptions.size(), descriptions.size() + 2}) {
            ToolScore[] top = engine.retrieveTools(query, descriptions, k);
            assertEquals(Math.min(k, descriptions.size()), top.length, "top " + k);
            for (int r = 0; r < top.length; r++) {
                assertEquals(all[r].index, top[r].index);
                assertEquals(all[r].score, top[r].score, 0f);
            }
        }
    }

    @Test
    void rankingAndScoresMatchTheDirectComputation() {
        int checked = 0;
        // the fixture vocabulary (8192) and small generated ones; I4 and plain head weights
        Object[][] models = {
            {writer(41, 8192, 64, 32), Shared.vocab()},
            {writer(42, 512, 32, 16).contrastive(24, 16), TestVocab.make(512, 5)}, // hidden 24, not d/4
            {writer(43, 700, 64, 128).linearDtype("contrastive_hidden_kernel", TensorType.I4)
                    .linearDtype("contrastive_proj_kernel", TensorType.I4), TestVocab.make(700, 6)},
            {writer(44, 8192, 32, 8).normDtype(TensorType.F32), Shared.vocab()},
        };
        String[] queries = {"What's the weather like in Berlin?", "wake me up at 7", "text Bob I'm late",
            "東京の天気は？", "x", ""};
        for (Object[] m : models) {
            ModelWriter w = (ModelWriter) m[0];
            byte[] file = w.build();
            NeedleEngine engine = NeedleEngine.load(file, (String) m[1]);
            Head head = new Head(file, w.dModel());
            for (String q : queries) {
                checkAgainstDirect(engine, head, q, Arrays.asList(DESCRIPTIONS));
                checked++;
            }
        }
        assertEquals(24, checked);
        assertTrue(spread > 0.05, "the random heads hardly discriminate: spread " + spread);
    }

    @Test
    void handCheckedCases() {
        ModelWriter w = writer(45, 8192, 64, 32);
        NeedleEngine engine = NeedleEngine.load(w.build(), Shared.vocab());
        // a description equal to the query has cosine 1 and ranks first
        String q = DESCRIPTIONS[3];
        ToolScore[] top = engine.retrieveTools(q, Arrays.asList(DESCRIPTIONS));
        assertEquals(3, top[0].index);
        assertEquals(1.0, top[0].score, 1e-5);
        // default top-k is 5
        assertEquals(5, top.length);
        assertEquals(NeedleEngine.DEFAULT_TOP_K, top.length);
        // equal descriptions tie exactly: the lower index comes first
        List<String> dup = Arrays.asList("Book a table", "Set an alarm", "Book a table", "Set an alarm");
        ToolScore[] d = engine.retrieveTools("alarm", dup, 4);
        assertEquals(d[0].score, d[1].score, 0f);
        assertEquals(d[2].score, d[3].score, 0f);
        assertTrue(d[0].index < d[1].index && d[2].index < d[3].index, Arrays.toString(d));
        // fewer descriptions than k, none, k = 0
        assertEquals(2, engine.retrieveTools(q, Arrays.asList("a", "b"), 5).length);
        assertEquals(0, engine.retrieveTools(q, new ArrayList<>(), 5).length);
        assertEquals(0, engine.retrieveTools(q, Arrays.asList(DESCRIPTIONS), 0).length);
        NeedleException neg = assertThrows(NeedleException.class,
                () -> engine.retrieveTools(q, Arrays.asList(DESCRIPTIONS), -1));
        assertEquals(NeedleException.Kind.INPUT, neg.kind());
        assertThrows(NeedleException.class, () -> engine.retrieveTools(q, null, 3));
        // a null text counts as empty
        ToolScore[] nulls = engine.retrieveTools(null, Arrays.asList("a", null), 2);
        assertEquals(2, nulls.length);
        for (ToolScore s : nulls) {
            assertTrue(Float.isFinite(s.score), "finite score for empty text");
        }
    }

    @Test
    void textsAreTruncatedTo256Tokens() {
        ModelWriter w = writer(46, 8192, 32, 16);
        byte[] file = w.build();
        NeedleEngine engine = NeedleEngine.load(file, Shared.vocab());
        Head head = new Head(file, w.dModel());
        StringBuilder sb = new StringBuilder();
        while (engine.tokenizer().encode(sb.toString()).length < 300) {
            sb.append("weather forecast alarm message flight table ");
        }
        String longText = sb.toString().trim();
        assertTrue(engine.tokenizer().encode(longText).length > 256);
        String longer = longText + " and then something completely different at the end";
        String shortText = "weather";
        List<String> descs = Arrays.asList(shortText, longText, longer);
        ToolScore[] r = engine.retrieveTools("what is the weather", descs, 3);
        float[] byIndex = new float[3];
        for (ToolScore s : r) {
            byIndex[s.index] = s.score;
        }
        // only the first 256 tokens count: the longer text scores exactly as the long one
        assertEquals(byIndex[1], byIndex[2], 0f);
        assertEquals(head.score(engine, "what is the weather", longText), byIndex[1], 1e-4);
        // a query over 256 tokens is truncated too
        ToolScore[] q1 = engine.retrieveTools(longText, descs, 3);
        ToolScore[] q2 = engine.retrieveTools(longer, descs, 3);
        for (int i = 0; i < 3; i++) {
            assertEquals(q1[i].index, q2[i].index);
            assertEquals(q1[i].score, q2[i].score, 0f);
        }
        checkAgainstDirect(engine, head, longer, descs);
    }

    /**
     * {@link NeedleEngine#contrastiveEmbedding}: the direct computation's vector, of
     * contrastive_dim floats and unit length, and exactly the vectors whose dot product
     * (float, in index order) is the retrieval score.
     */
    @Test
    void embeddingsAreTheVectorsRetrievalScores() {
        ModelWriter w = writer(48, 8192, 64, 32);
        byte[] file = w.build();
        NeedleEngine engine = NeedleEngine.load(file, Shared.vocab());
        Head head = new Head(file, w.dModel());
        String query = "What's the weather like in Berlin?";
        float[] q = engine.contrastiveEmbedding(query);
        assertEquals(engine.config().contrastiveDim, q.length);
        for (String text : new String[] {query, DESCRIPTIONS[8], "x", ""}) {
            float[] e = engine.contrastiveEmbedding(text);
            double[] direct = head.embed(engine, text);
            double norm = 0;
            for (int k = 0; k < e.length; k++) {
                assertEquals(direct[k], e[k], 1e-4, text + " [" + k + "]");
                norm += (double) e[k] * e[k];
            }
            assertEquals(1.0, norm, 1e-5, "unit length: " + text);
        }
        List<String> descriptions = Arrays.asList(DESCRIPTIONS);
        for (ToolScore s : engine.retrieveTools(query, descriptions, descriptions.size())) {
            float[] d = engine.contrastiveEmbedding(descriptions.get(s.index));
            float dot = 0f;
            for (int k = 0; k < q.length; k++) {
                dot += q[k] * d[k];
            }
            assertEquals(dot, s.score, 0f, "score of " + s.index);
        }
    }

    @Test
    void aModelWithoutTheHeadFailsClearly() {
        NeedleEngine engine = NeedleEngine.load(ModelWriter.tiny().seed(3).build(), TestVocab.make(512, 3));
        NeedleException e = assertThrows(NeedleException.class,
                () -> engine.retrieveTools("weather", Arrays.asList(DESCRIPTIONS), 3));
        assertEquals(NeedleException.Kind.WEIGHTS, e.kind());
        assertTrue(e.getMessage().contains("no contrastive head"), e.getMessage());
        NeedleException embed = assertThrows(NeedleException.class, () -> engine.contrastiveEmbedding("weather"));
        assertEquals(NeedleException.Kind.WEIGHTS, embed.kind());
        // without a vocabulary retrieval cannot tokenize
        NeedleEngine noVocab = NeedleEngine.load(writer(47, 512, 32, 8).build(), null);
        NeedleException v = assertThrows(NeedleException.class,
                () -> noVocab.retrieveTools("weather", Arrays.asList(DESCRIPTIONS), 3));
        assertEquals(NeedleException.Kind.VOCAB, v.kind());
    }
}
