package io.needle.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.model.NeedleModel;
import io.needle.safetensors.SafeTensors;
import io.needle.model.ConfigReader;
import io.needle.synthetic.TestVocab;
import io.needle.testing.ParityRule;
import io.needle.testing.Shared;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every parity fixture (shared/fixtures/parity: p1…p4, the needle-rs layout with export.py
 * metadata, legacy metadata and none) through the JVM API, {@link Needle#load(Path, Path)} from
 * files, compared with the expected ids under the tie rule ({@link ParityRule}); then the same
 * cases with the default kernels (the Vector API ones split over the cores: the tests' JVM has
 * jdk.incubator.vector) and with {@link VectorKernels} alone on one thread, which must give the
 * very same ids.
 * The vocabulary: the real one for the 8192-piece model, else a generated one of the model's size
 * (the vocab size read from the weight file itself: p4 has no metadata).
 */
class NeedleParityTest {
    @TempDir
    Path tmp;

    @TestFactory
    List<DynamicTest> everyParityModelThroughNeedleLoad() {
        List<DynamicTest> tests = new ArrayList<>();
        List<String> models = Shared.parityModels();
        assertTrue(models.containsAll(List.of("p1", "p2", "p3", "p4")), "parity fixtures: " + models);
        for (String m : models) {
            tests.add(DynamicTest.dynamicTest(m, () -> check(m)));
        }
        return tests;
    }

    private void check(String m) throws Exception {
        Map<?, ?> fixture = Shared.parityCases(m);
        Map<?, ?> model = (Map<?, ?>) fixture.get("model");
        Path weights = Shared.fixture("parity/" + model.get("file"));
        int vocabSize = ConfigReader.read(SafeTensors.parse(Files.readAllBytes(weights))).vocabSize;
        Path vocab;
        if (vocabSize == 8192) {
            vocab = Shared.fixture("tokenizer/vocab.txt");
        } else {
            vocab = tmp.resolve(m + "-vocab.txt");
            Files.write(vocab, TestVocab.make(vocabSize, vocabSize).getBytes(StandardCharsets.UTF_8));
        }
        double tieEps = Double.parseDouble(fixture.get("tie_eps").toString());
        List<?> cases = (List<?>) fixture.get("cases");
        assertTrue(!cases.isEmpty(), m + " has cases");
        List<int[]> portable = new ArrayList<>();
        try (Needle needle = Needle.load(weights, vocab, Needle.Kernels.PORTABLE)) {
            assertEquals(vocabSize, needle.engine().config().vocabSize);
            for (Object o : cases) {
                Map<?, ?> c = (Map<?, ?>) o;
                int[] ids = needle.engine().generate(ParityRule.ints(c.get("input_ids")),
                        Integer.parseInt(c.get("max_new_tokens").toString()));
                assertNull(ParityRule.mismatch(c, tieEps, ids), m + " case " + c.get("id"));
                portable.add(ids);
            }
            assertEquals(0, needle.engine().model().hostKernelCount(), "Kernels.PORTABLE");
        }
        try (Needle needle = Needle.load(weights, vocab)) { // the default: the fastest kernels
            assertTrue(needle.engine().model().hostKernelCount() > 0 || Runtime.getRuntime().availableProcessors() == 1);
            for (int i = 0; i < cases.size(); i++) {
                Map<?, ?> c = (Map<?, ?>) cases.get(i);
                int[] ids = needle.engine().generate(ParityRule.ints(c.get("input_ids")),
                        Integer.parseInt(c.get("max_new_tokens").toString()));
                assertArrayEquals(portable.get(i), ids, m + " case " + c.get("id") + " with the fastest kernels");
            }
        }
        assertTrue(VectorKernels.available(), "the tests' JVM has jdk.incubator.vector (surefire argLine)");
        VectorCode.forceHot(); // the vector code itself, not the portable code of a cold start
        NeedleEngine vector = NeedleEngine.load(Files.readAllBytes(weights), Files.readString(vocab),
                VectorKernels.create());
        assertTrue(vector.model().hostKernelCount() > 0, "the Vector API kernels are installed");
        for (int i = 0; i < cases.size(); i++) {
            Map<?, ?> c = (Map<?, ?>) cases.get(i);
            int[] ids = vector.generate(ParityRule.ints(c.get("input_ids")),
                    Integer.parseInt(c.get("max_new_tokens").toString()));
            assertNull(ParityRule.mismatch(c, tieEps, ids), m + " case " + c.get("id") + " with the Vector API kernels");
            assertArrayEquals(portable.get(i), ids, m + " case " + c.get("id") + " with the Vector API kernels");
        }
    }
}
