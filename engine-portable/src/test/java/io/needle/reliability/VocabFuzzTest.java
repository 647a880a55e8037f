package io.needle.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.needle.base.NeedleException;
import io.needle.tokenizer.StreamDecoder;
import io.needle.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Fuzzes the vocabulary reader (docs/FUZZING.md): {@link Tokenizer#fromVocab}. Property: only a
 * NeedleException of kind VOCAB escapes; a vocabulary that loads has at least the 262 fixed
 * pieces and tokenizes text (its own lines included) into valid ids that decode, stream and
 * prefix-encode consistently, whatever its pieces (spaces inside pieces, odd scores, ...).
 */
class VocabFuzzTest {
    private static final String[] TEXTS = {
        "What's the weather in Paris?", "  a  b\u2581c ", "<tools>[{\"name\":\"x\"}]<tool_call>", "\u65e5\u672c \ud83c\udf89 \ud800",
    };

    @FuzzTest(maxDuration = "2m")
    void readVocabAndTokenize(byte[] input) {
        String text = FuzzText.decode(input);
        Tokenizer tok;
        try {
            tok = Tokenizer.fromVocab(text);
        } catch (NeedleException e) {
            assertEquals(NeedleException.Kind.VOCAB, e.kind(), e.getMessage());
            TinyEngine.checkMessage(e);
            return;
        }
        assertTrue(tok.size() >= 262, "size " + tok.size());
        String own = text.length() > 300 ? text.substring(text.length() - 300) : text;
        for (String s : new String[] {TEXTS[0], TEXTS[1], TEXTS[2], TEXTS[3], own}) {
            int[] ids = tok.encode(s);
            for (int id : ids) {
                assertTrue(id >= 0 && id < tok.size() && !tok.isUnknown(id) && !tok.isControl(id), "id " + id);
                tok.tokenBytes(id);
            }
            String decoded = tok.decode(ids);
            StreamDecoder stream = new StreamDecoder(tok);
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                sb.append(stream.push(id));
            }
            assertEquals(decoded, sb.append(stream.finish()).toString());
            int k = ids.length / 2;
            assertArrayEquals(Arrays.copyOf(ids, k), tok.encodePrefix(s, k));
        }
    }
}
