package io.needle.reliability;

import static io.needle.reliability.TinyEngine.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException;
import io.needle.base.NeedleException.Kind;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.synthetic.SafeTensorsWriter;
import io.needle.synthetic.TensorType;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * NaN and infinite weights never hang the decoder or give a silently wrong answer (issue 8 part
 * 1): a NaN or ±Inf value in any float tensor (embedding, norms, gates, INT4 scales, plain
 * linears, contrastive head) is refused at load with a WEIGHTS error naming the tensor; finite
 * but huge weights that overflow float32 during the forward pass end decoding with a WEIGHTS
 * error (NaN logits) or a result, constrained or not, in bounded time.
 */
class NonFiniteWeightsTest {
    private static final String TOOLS = "[{\"name\":\"get_weather\",\"parameters\":{\"location\":{\"type\":\"string\","
            + "\"required\":true},\"days\":{\"type\":\"integer\",\"required\":false}}}]";

    /** Writes the 16- or 32-bit pattern {@code bits} into element {@code index} of a tensor. */
    private static void poke(SafeTensorsWriter w, String tensor, TensorType dtype, int index, long bits) {
        byte[] d = w.data(tensor);
        int size = dtype == TensorType.F32 ? 4 : 2;
        for (int k = 0; k < size; k++) {
            d[index * size + k] = (byte) (bits >> (8 * k));
        }
    }

    private static long nan(TensorType t) {
        return t == TensorType.F32 ? 0x7fc00000L : t == TensorType.F16 ? 0x7e00 : 0x7fc0;
    }

    private static long inf(TensorType t, boolean negative) {
        long bits = t == TensorType.F32 ? 0x7f800000L : t == TensorType.F16 ? 0x7c00 : 0x7f80;
        return negative ? bits | (t == TensorType.F32 ? 0x80000000L : 0x8000) : bits;
    }

    @Test
    void nanAndInfinityAreRefusedAtLoadNamingTheTensor() {
        String[][] tensors = {
            {"embedding", "BF16"},
            {"encoder.0.norm", "BF16"},
            {"decoder.0.self_attn_gate", "BF16"},
            {"decoder.0.cross_attn.wv.scale", "F32"},
            {"encoder.0.self_attn.k_norm", "BF16"},
            {"decoder_final_norm", "BF16"},
            {"contrastive_hidden_bias", "F32"},
            {"contrastive_proj_kernel", "F32"},
        };
        for (String[] t : tensors) {
            TensorType dtype = TensorType.valueOf(t[1]);
            long[] values = {nan(dtype), inf(dtype, false), inf(dtype, true)};
            String[] shown = {"NaN", "Infinity", "-Infinity"};
            for (int v = 0; v < values.length; v++) {
                SafeTensorsWriter w = TinyEngine.writer().writer();
                int index = Math.min(3, w.data(t[0]).length / (dtype == TensorType.F32 ? 4 : 2) - 1); // a gate has one element
                poke(w, t[0], dtype, index, values[v]);
                byte[] file = w.toBytes();
                fails(Kind.WEIGHTS, () -> NeedleEngine.load(file, null), "tensor '" + t[0] + "'",
                        "holds " + shown[v] + " at element " + index, "finite");
            }
        }
    }

    @Test
    void nanInF16EmbeddingsAndF32LinearsIsRefusedToo() {
        SafeTensorsWriter f16 = TinyEngine.writer().embeddingDtype(TensorType.F16).writer();
        poke(f16, "embedding", TensorType.F16, 100, nan(TensorType.F16));
        byte[] f16File = f16.toBytes();
        fails(Kind.WEIGHTS, () -> NeedleEngine.load(f16File, null), "'embedding'", "NaN", "element 100");

        String linear = "decoder.0.self_attn.wq";
        SafeTensorsWriter f32 = TinyEngine.writer().linearDtype(linear, TensorType.F32).writer();
        poke(f32, linear, TensorType.F32, 5, inf(TensorType.F32, false));
        byte[] f32File = f32.toBytes();
        fails(Kind.WEIGHTS, () -> NeedleEngine.load(f32File, null), "'" + linear + "'", "Infinity", "element 5");

        SafeTensorsWriter e32 = TinyEngine.writer().embeddingDtype(TensorType.F32).writer();
        poke(e32, "embedding", TensorType.F32, 0, nan(TensorType.F32));
        byte[] e32File = e32.toBytes();
        fails(Kind.WEIGHTS, () -> NeedleEngine.load(e32File, null), "'embedding'", "NaN");
    }

    /** Runs (constrained and not) and generate on a model whose tensor is filled with {@code bits}; returns the errors seen. */
    private static int runOverflowing(String tensor, TensorType dtype, long bits) {
        SafeTensorsWriter w = TinyEngine.writer().writer();
        int n = w.data(tensor).length / (dtype == TensorType.F32 ? 4 : 2);
        for (int i = 0; i < n; i++) {
            poke(w, tensor, dtype, i, bits);
        }
        NeedleEngine engine = NeedleEngine.load(w.toBytes(), TinyEngine.vocab());
        int[] errors = {0};
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (boolean constrain : new boolean[] {true, false}) {
                try {
                    RunResult r = engine.run("weather in Paris", TOOLS, new RunOptions().maxNewTokens(200).constrain(constrain));
                    assertNotNull(r.text);
                    assertTrue(r.tokens.length <= RunOptions.DEFAULT_MAX_NEW_TOKENS);
                } catch (NeedleException e) {
                    assertEquals(Kind.WEIGHTS, e.kind(), e.getMessage());
                    assertTrue(e.getMessage().contains("NaN logit"), e.getMessage());
                    TinyEngine.checkMessage(e);
                    errors[0]++;
                }
            }
            try {
                engine.generate(new int[] {10, 20, 30}, 40);
            } catch (NeedleException e) {
                assertEquals(Kind.WEIGHTS, e.kind(), e.getMessage());
                errors[0]++;
            }
        });
        return errors[0];
    }

    @Test
    void hugeFiniteWeightsEndInAnErrorOrAResultNeverAHang() {
        long max = 0x7f7f; // the largest finite BF16, about 3.4e38
        long min = 0xff7f;
        // an embedding of huge values: the logits are inf - inf = NaN at the first step
        assertEquals(3, runOverflowing("embedding", TensorType.BF16, max));
        runOverflowing("embedding", TensorType.BF16, min);
        runOverflowing("decoder_final_norm", TensorType.BF16, max);
        runOverflowing("decoder.0.self_attn_gate", TensorType.BF16, max);
        runOverflowing("decoder.0.cross_attn.wv.scale", TensorType.F32, 0x7f7fffffL); // the largest finite F32
        runOverflowing("encoder.0.self_attn.q_norm", TensorType.BF16, min);
    }
}
