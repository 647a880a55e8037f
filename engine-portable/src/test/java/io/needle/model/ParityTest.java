package io.needle.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.testing.ParityRule;
import io.needle.testing.Shared;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Java API against the parity fixtures (expected ids from an independent float64 reference). */
class ParityTest {

    @Test
    void everyParityCaseMatchesThroughTheJavaApi() {
        List<String> failures = new ArrayList<>();
        int cases = 0;
        for (String m : Shared.parityModels()) {
            Map<?, ?> fixture = Shared.parityCases(m);
            Map<?, ?> model = (Map<?, ?>) fixture.get("model");
            NeedleEngine engine = NeedleEngine.load(Shared.bytes("parity/" + model.get("file")), null);
            double tieEps = Double.parseDouble(fixture.get("tie_eps").toString());
            for (Object c : (List<?>) fixture.get("cases")) {
                Map<?, ?> tc = (Map<?, ?>) c;
                int[] ids = engine.generate(ParityRule.ints(tc.get("input_ids")),
                        Integer.parseInt(tc.get("max_new_tokens").toString()));
                String mismatch = ParityRule.mismatch(tc, tieEps, ids);
                if (mismatch != null) {
                    failures.add(m + " " + tc.get("id") + ": " + mismatch);
                }
                cases++;
            }
        }
        assertTrue(cases >= 11, "expected the parity fixtures to hold cases, found " + cases);
        assertEquals(List.of(), failures);
    }

    @Test
    void firstStepLogitsMatchTheReference() {
        for (String m : Shared.parityModels()) {
            Map<?, ?> fixture = Shared.parityCases(m);
            Map<?, ?> model = (Map<?, ?>) fixture.get("model");
            NeedleEngine engine = NeedleEngine.load(Shared.bytes("parity/" + model.get("file")), null);
            for (Object c : (List<?>) fixture.get("cases")) {
                Map<?, ?> tc = (Map<?, ?>) c;
                Map<?, ?> first = (Map<?, ?>) tc.get("first_step_logits");
                NeedleModel nm = engine.model();
                float[] logits = nm.startDecoder(nm.encode(ParityRule.ints(tc.get("input_ids"))), 1).step(1);
                int[] top = ParityRule.ints(first.get("top5_ids"));
                List<?> values = (List<?>) first.get("top5_values");
                for (int i = 0; i < top.length; i++) {
                    double expected = Double.parseDouble(values.get(i).toString());
                    assertEquals(expected, logits[top[i]], 1e-3 * Math.max(1, Math.abs(expected)),
                            m + " " + tc.get("id") + " logit of " + top[i]);
                }
            }
        }
    }

    @Test
    void contrastiveEmbeddingsMatchTheReference() {
        int checked = 0;
        for (String m : Shared.parityModels()) {
            Map<?, ?> fixture = Shared.parityCases(m);
            Map<?, ?> model = (Map<?, ?>) fixture.get("model");
            NeedleEngine engine = NeedleEngine.load(Shared.bytes("parity/" + model.get("file")), null);
            boolean has = Boolean.TRUE.equals(model.get("has_contrastive"));
            assertEquals(has, engine.model().hasContrastiveHead(), m);
            if (!has) {
                continue;
            }
            for (Object o : (List<?>) fixture.get("embeddings")) {
                Map<?, ?> e = (Map<?, ?>) o;
                List<?> expected = (List<?>) e.get("embedding");
                float[] got = engine.model().contrastiveEmbedding(ParityRule.ints(e.get("ids")));
                assertEquals(expected.size(), got.length, m);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(Double.parseDouble(expected.get(i).toString()), got[i], 1e-5, m + " dim " + i);
                }
                checked++;
            }
        }
        assertFalse(checked == 0, "no embeddings were checked");
    }
}
