package io.needle.reliability;

import static io.needle.reliability.TinyEngine.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.needle.engine.NeedleEngine;
import io.needle.engine.NeedleException.Kind;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.SafeTensorsWriter;
import io.needle.synthetic.TestVocab;
import org.junit.jupiter.api.Test;

/**
 * The model configuration is checked before it is used (issue 8 part 1): sizes positive, head
 * counts dividing d_model and each other, known activation, sane numbers; vocab_size matches the
 * embedding table (and every other tensor's shape matches the config); the vocabulary file has
 * vocab_size entries. Each problem is a NeedleException (CONFIG, WEIGHTS or VOCAB) naming it.
 */
class ConfigSanityTest {

    /** The tiny preset (vocab 512, d_model 32, heads 4/2, layers 2/2) with one metadata value changed. */
    private static byte[] withMetadata(String key, String value) {
        SafeTensorsWriter w = ModelWriter.tiny().writer();
        if (value == null) {
            w.removeMetadata(key);
        } else {
            w.metadata(key, value);
        }
        return w.toBytes();
    }

    private static void configFails(String key, String value, String... fragments) {
        byte[] file = withMetadata(key, value);
        fails(Kind.CONFIG, () -> NeedleEngine.load(file, null), fragments);
    }

    @Test
    void theUnchangedModelLoads() {
        assertEquals(512, NeedleEngine.load(ModelWriter.tiny().build(), null).config().vocabSize);
    }

    @Test
    void headCountsMustDivide() {
        configFails("num_heads", "3", "num_heads (3) must divide d_model (32)");
        configFails("num_kv_heads", "3", "num_kv_heads (3) must divide num_heads (4)");
        // 32 heads of size 1: RoPE needs an even head size
        byte[] oddHead = ModelWriter.tiny().writer().metadata("num_heads", "32").metadata("num_kv_heads", "1").toBytes();
        fails(Kind.CONFIG, () -> NeedleEngine.load(oddHead, null), "head_dim (1) must be even");
    }

    @Test
    void sizesMustBePositive() {
        String[] keys = {"vocab_size", "d_model", "num_heads", "num_kv_heads", "num_encoder_layers",
            "num_decoder_layers", "group_size"};
        for (String key : keys) {
            configFails(key, "0", key + " must be a positive integer, got 0");
            configFails(key, "-7", key + " must be a positive integer, got -7");
        }
        byte[] ffnWithoutSize = ModelWriter.tiny().writer().metadata("no_feedforward", "false").metadata("d_ff", "0").toBytes();
        fails(Kind.CONFIG, () -> NeedleEngine.load(ffnWithoutSize, null), "d_ff must be a positive integer");
    }

    @Test
    void requiredValuesMustBePresentAndNumbers() {
        configFails("d_model", null, "missing required metadata 'd_model'");
        configFails("vocab_size", null, "missing required metadata 'vocab_size'");
        configFails("d_model", "abc", "metadata 'd_model' must be an integer, got 'abc'");
        configFails("num_heads", "1.5", "must be an integer");
        configFails("vocab_size", "1e12", "must be an integer");
        configFails("vocab_size", "NaN", "must be an integer");
        configFails("rope_theta", "abc", "metadata 'rope_theta' must be a number");
        configFails("no_feedforward", "maybe", "must be true or false");
    }

    @Test
    void valuesMustBeSane() {
        configFails("vocab_size", "2000000", "vocab_size 2000000 is implausibly large (at most 1048576)");
        configFails("d_model", "1000000", "d_model 1000000 is implausibly large");
        configFails("num_encoder_layers", "100000", "num_encoder_layers 100000 is implausibly large");
        configFails("num_decoder_layers", "5000", "num_decoder_layers 5000 is implausibly large");
        configFails("activation", "relu", "activation must be drelu, swiglu or geglu");
        for (String theta : new String[] {"0", "-1", "NaN", "Infinity"}) {
            configFails("rope_theta", theta, "rope_theta must be a positive number");
        }
    }

    @Test
    void configJsonMustBeAnObjectOfScalars() {
        SafeTensorsWriter w = ModelWriter.tiny().configAsJson(true).writer();
        String good = w.metadata().get("config");
        byte[] notObject = w.metadata("config", "[1,2]").toBytes();
        fails(Kind.CONFIG, () -> NeedleEngine.load(notObject, null), "metadata key 'config' must be a JSON object");
        byte[] notJson = w.metadata("config", "{\"vocab_size\":").toBytes();
        fails(Kind.CONFIG, () -> NeedleEngine.load(notJson, null), "'config' is not valid JSON");
        byte[] nested = w.metadata("config", good.replace("\"vocab_size\":512", "\"vocab_size\":[512]")).toBytes();
        fails(Kind.CONFIG, () -> NeedleEngine.load(nested, null), "config field 'vocab_size' must be a number, boolean or string");
        byte[] deep = w.metadata("config", "[".repeat(100_000)).toBytes();
        fails(Kind.CONFIG, () -> NeedleEngine.load(deep, null), "nesting");
    }

    @Test
    void vocabSizeMustMatchTheEmbedding() {
        // the file's embedding is [512, 32]
        fails(Kind.WEIGHTS, () -> NeedleEngine.load(withMetadata("vocab_size", "600"), null),
                "tensor 'embedding' has shape [512, 32], expected [600, 32]");
        fails(Kind.WEIGHTS, () -> NeedleEngine.load(withMetadata("vocab_size", "100"), null),
                "'embedding'", "expected [100, 32]");
        // d_model changed: the embedding's columns no longer fit either
        byte[] wider = ModelWriter.tiny().writer().metadata("d_model", "64").toBytes();
        fails(Kind.WEIGHTS, () -> NeedleEngine.load(wider, null), "'embedding'", "expected [512, 64]");
        // layer counts beyond the file's tensors: a missing tensor, named
        fails(Kind.WEIGHTS, () -> NeedleEngine.load(withMetadata("num_encoder_layers", "3"), null),
                "missing tensor encoder.layers.2.");
        // fewer kv heads than the k/v projections were written for
        fails(Kind.WEIGHTS, () -> NeedleEngine.load(withMetadata("num_kv_heads", "1"), null),
                "k_proj", "expected [32, 8]");
    }

    @Test
    void vocabularyFileMustMatchVocabSize() {
        byte[] model = ModelWriter.tiny().build(); // vocab_size 512
        fails(Kind.VOCAB, () -> NeedleEngine.load(model, TestVocab.make(600, 1)),
                "the vocabulary has 600 entries but the model's vocab_size is 512");
        fails(Kind.VOCAB, () -> NeedleEngine.load(model, TestVocab.make(400, 1)), "400", "512");
        fails(Kind.VOCAB, () -> NeedleEngine.load(model, "not a vocabulary"), "vocabulary line 1");
        assertEquals(512, NeedleEngine.load(model, TestVocab.make(512, 1)).tokenizer().size());
    }
}
