package io.needle.reliability;

import static io.needle.reliability.TinyEngine.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException.Kind;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.SafeTensorsWriter;
import io.needle.synthetic.TestVocab;
import org.junit.jupiter.api.Test;

/**
 * The model configuration is checked before it is used: sizes positive, head counts dividing
 * d_model and each other, known activation, sane numbers, every spelling the exports wrote;
 * metadata that contradicts the tensors refuses the file naming both, missing values are inferred
 * from the tensors; the vocabulary file has vocab_size entries. Each problem is a NeedleException
 * (CONFIG, WEIGHTS or VOCAB) naming it.
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
        // 32 heads of size 1: the q_norm tensors say head_dim 8
        byte[] oddHead = ModelWriter.tiny().writer().metadata("num_heads", "32").metadata("num_kv_heads", "1").toBytes();
        fails(Kind.CONFIG, () -> NeedleEngine.load(oddHead, null),
                "metadata num_heads '32' gives head_dim 1 (d_model 32 / 32) but tensor 'encoder.0.self_attn.q_norm' has shape [8]");
    }

    @Test
    void sizesMustBePositive() {
        for (String key : new String[] {"num_heads", "num_kv_heads", "num_decoder_layers"}) {
            for (String v : new String[] {"0", "-7"}) {
                byte[] file = withMetadata(key, v);
                fails(Kind.CONFIG, () -> NeedleEngine.load(file, null), key);
            }
        }
        configFails("num_heads", "0", "num_heads' must be a positive integer, got 0");
        configFails("num_kv_heads", "-7", "num_kv_heads must be a positive integer, got -7");
        configFails("num_encoder_layers", "0", "metadata num_encoder_layers '0' contradicts tensor 'encoder.1.");
        byte[] ffnWithoutSize = ModelWriter.tiny().writer().metadata("no_feedforward", "False").metadata("ffn_dim", "0").toBytes();
        fails(Kind.CONFIG, () -> NeedleEngine.load(ffnWithoutSize, null), "ffn_dim must be a positive integer");
    }

    @Test
    void valuesMustBeNumbersInEverySpellingTheExportsWrote() {
        configFails("d_model", "abc", "metadata 'd_model' must be an integer, got 'abc'");
        configFails("num_heads", "1.5", "must be an integer");
        configFails("num_heads", "1e12", "must be an integer");
        configFails("num_heads", "NaN", "must be an integer");
        configFails("rope_theta", "abc", "metadata 'rope_theta' must be a number");
        configFails("no_feedforward", "maybe", "metadata 'no_feedforward' must be True or False (also true/false, 1/0), got 'maybe'");
        configFails("max_dec_len", "", "metadata 'max_dec_len' must be an integer, got ''");
        // accepted spellings: "4.0", "true"/"1", "10000"
        assertEquals(4, NeedleEngine.load(withMetadata("num_heads", "4.0"), null).config().numHeads);
        assertEquals(true, NeedleEngine.load(withMetadata("no_feedforward", "1"), null).config().noFeedforward);
        assertEquals(true, NeedleEngine.load(withMetadata("no_feedforward", "true"), null).config().noFeedforward);
        assertEquals(10000f, NeedleEngine.load(withMetadata("rope_theta", "10000"), null).config().ropeTheta);
    }

    @Test
    void missingValuesAreInferredFromTheTensors() {
        for (String key : new String[] {"d_model", "vocab_size", "num_heads", "num_kv_heads",
            "num_encoder_layers", "num_decoder_layers", "no_feedforward"}) {
            io.needle.model.Config c = NeedleEngine.load(withMetadata(key, null), null).config();
            assertEquals(io.needle.model.Config.Source.METADATA_AND_TENSORS, c.source, key);
            assertEquals(32, c.dModel, key);
            assertEquals(512, c.vocabSize, key);
            assertEquals(4, c.numHeads, key);
            assertEquals(2, c.numKvHeads, key);
            assertEquals(2, c.numEncoderLayers, key);
            assertEquals(true, c.noFeedforward, key);
        }
        assertEquals(io.needle.model.Config.Source.METADATA, NeedleEngine.load(ModelWriter.tiny().build(), null).config().source);
    }

    @Test
    void valuesMustBeSane() {
        configFails("num_encoder_layers", "100000", "num_encoder_layers 100000 is implausibly large");
        configFails("num_decoder_layers", "5000", "num_decoder_layers 5000 is implausibly large");
        configFails("max_enc_len", "1", "max_enc_len must be at least 2");
        configFails("max_enc_len", "10000000", "max_enc_len 10000000 is implausibly large");
        configFails("activation", "relu", "activation must be drelu, swiglu or geglu");
        for (String theta : new String[] {"0", "-1", "NaN", "Infinity"}) {
            configFails("rope_theta", theta, "rope_theta must be a positive number");
        }
    }

    @Test
    void bothSpellingsMustAgree() {
        byte[] both = ModelWriter.tiny().writer().metadata("max_seq_len", "512").toBytes();
        fails(Kind.CONFIG, () -> NeedleEngine.load(both, null), "metadata max_enc_len '1024' and max_seq_len '512' disagree");
        byte[] same = ModelWriter.tiny().writer().metadata("max_seq_len", "1024").toBytes();
        assertEquals(1024, NeedleEngine.load(same, null).config().maxEncLen);
    }

    @Test
    void metadataMustAgreeWithTheTensors() {
        // the file's embedding is [512, 32]
        configFails("vocab_size", "600", "metadata vocab_size '600' contradicts tensor 'embedding' of shape [512, 32] (vocab_size 512)");
        configFails("d_model", "64", "metadata d_model '64' contradicts tensor 'embedding'");
        // layer counts beyond the file's tensors: a missing tensor, named
        fails(Kind.WEIGHTS, () -> NeedleEngine.load(withMetadata("num_encoder_layers", "3"), null),
                "missing tensor 'encoder.2.norm'");
        configFails("num_decoder_layers", "1", "metadata num_decoder_layers '1' contradicts tensor 'decoder.1.");
        // fewer kv heads than the k/v projections were written for
        configFails("num_kv_heads", "1", "metadata num_kv_heads '1' gives an output width of 8 (1 x head_dim 8) "
                + "but tensor 'encoder.0.self_attn.wk' has shape [16, 16] (output width 16)");
        // an FFN the metadata denies, an FFN width that is not the tensors'
        byte[] ffn = ModelWriter.tiny().ffn(48, "swiglu").writer().metadata("no_feedforward", "True").toBytes();
        fails(Kind.CONFIG, () -> NeedleEngine.load(ffn, null),
                "metadata no_feedforward 'True' says the model has no feed-forward blocks but the file has tensor 'encoder.0.ffn_gate'");
        byte[] width = ModelWriter.tiny().ffn(48, "swiglu").writer().metadata("ffn_dim", "64").toBytes();
        fails(Kind.CONFIG, () -> NeedleEngine.load(width, null),
                "metadata ffn_dim '64' gives 64 but tensor 'encoder.0.ffn.gate_proj' has shape [16, 48] (output width 48)");
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
