package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.engine.NeedleEngine;
import io.needle.engine.RunResult;
import io.needle.testing.ModelWriter;
import io.needle.tokenizer.Tokenizer;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The main-code generators of {@code needle demo} (and benchmarks): {@link RandomModel}, {@link RandomVocab}. */
class RandomModelTest {

    @Test
    void sameBytesAsTheTestWriter() {
        assertArrayEquals(ModelWriter.tiny().seed(3).build(), RandomModel.tiny().seed(3).build());
        assertArrayEquals(new ModelWriter().build(), new RandomModel().build(), "defaults");
        assertArrayEquals(
                new ModelWriter().seed(9).vocabSize(600).dModel(48).heads(6, 2).layers(1, 3).ffn(40, "swiglu")
                        .contrastive(16).groupSize(16).maxSeqLen(512).build(),
                new RandomModel().seed(9).vocabSize(600).dModel(48).heads(6, 2).layers(1, 3).ffn(40, "swiglu")
                        .contrastive(16).groupSize(16).maxSeqLen(512).build());
    }

    @Test
    void fullSizePresetHasTheRealShape() {
        RandomModel m = RandomModel.fullSize();
        assertEquals("vocab 8192, d_model 512, heads 8/4, layers 12+8, INT4, no FFN", m.describe());
        assertEquals(8192, m.vocabSize());
    }

    @Test
    void vocabulariesOfAnySizeLoad() {
        for (int size : new int[] {RandomVocab.MIN_SIZE, 400, 1024, 8192}) {
            String text = RandomVocab.make(size, 5);
            Tokenizer t = Tokenizer.fromVocab(text); // rejects duplicates and a wrong layout
            assertEquals(size, t.size());
            assertEquals(size, text.split("\n", -1).length - 1, "LF-terminated lines");
            assertEquals(text, RandomVocab.make(size, 5), "seeded");
            Set<String> pieces = new HashSet<>();
            for (String line : text.split("\n")) {
                String piece = line.substring(0, line.indexOf('\t'));
                assertTrue(pieces.add(piece) && !piece.contains(" ") && !piece.isEmpty(), piece);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> RandomVocab.make(RandomVocab.MIN_SIZE - 1, 1));
        // the built-in words are reachable pieces: "weather" is one token
        Tokenizer t = Tokenizer.fromVocab(RandomVocab.make(1024, 1));
        assertEquals(1, t.encode("weather").length);
    }

    @Test
    void randomModelAndVocabularyRunTheWholePipeline() {
        NeedleEngine e = NeedleEngine.load(DemoCommand.model().build(), RandomVocab.make(DemoCommand.VOCAB_SIZE, 1));
        RunResult r = e.run("What's the weather in Paris?", DemoCommand.TOOLS);
        assertTrue(r.tokens.length > 0);
        assertTrue(r.text.startsWith("["), r.text);
    }
}
