package io.needle.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException;
import io.needle.model.Config;
import io.needle.safetensors.DType;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;

/**
 * Fuzzes the weight-file path (docs/FUZZING.md): {@link SafeTensors#parse}, reading every tensor,
 * and {@link NeedleEngine#load} (config checks, the loader's shape checks). Property: only a
 * NeedleException of kind WEIGHTS or CONFIG ever escapes; a file that parses has every tensor
 * inside the data region, in the amount its dtype and shape need; a small model that loads runs
 * a couple of decoding steps.
 */
class SafeTensorsFuzzTest {

    @FuzzTest(maxDuration = "2m")
    void parseReadAndLoad(byte[] file) {
        SafeTensors st;
        try {
            st = SafeTensors.parse(file);
        } catch (NeedleException e) {
            assertEquals(NeedleException.Kind.WEIGHTS, e.kind(), e.getMessage());
            TinyEngine.checkMessage(e);
            return;
        }
        long covered = 0;
        for (TensorInfo t : st.tensors()) {
            assertTrue(t.offset() >= st.dataStart() && t.offset() + (long) t.byteLength() <= file.length, t.toString());
            long[] shape = new long[t.rank()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.dim(i);
            }
            assertEquals(t.dtype().byteCount(shape), t.byteLength(), t.toString());
            covered += t.byteLength();
            if (t.dtype() != DType.I4) {
                assertEquals(t.elementCount(), st.readFloats(t).length);
            }
            if (t.dtype() == DType.F16 || t.dtype() == DType.BF16) {
                assertEquals(t.elementCount(), st.readShorts(t).length);
            }
        }
        assertEquals(file.length - st.dataStart(), covered, "tensors cover the data region");

        NeedleEngine engine;
        try {
            engine = NeedleEngine.load(file, null);
        } catch (NeedleException e) {
            assertTrue(e.kind() == NeedleException.Kind.WEIGHTS || e.kind() == NeedleException.Kind.CONFIG,
                    e.kind() + ": " + e.getMessage());
            TinyEngine.checkMessage(e);
            return;
        }
        Config c = engine.config();
        if ((long) c.vocabSize * c.dModel <= 1 << 20 && (long) c.dModel * (c.numEncoderLayers + c.numDecoderLayers) <= 1 << 14) {
            try {
                engine.generate(new int[] {0, 1 % c.vocabSize, 2 % c.vocabSize}, 2);
            } catch (NeedleException e) {
                // overflowing weights may give NaN logits: a WEIGHTS error, never anything else
                assertEquals(NeedleException.Kind.WEIGHTS, e.kind(), e.getMessage());
            }
        }
    }
}
