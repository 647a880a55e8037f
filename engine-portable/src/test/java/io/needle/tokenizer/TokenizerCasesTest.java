package io.needle.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.needle.json.Json;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every case of shared/fixtures/tokenizer/cases.jsonl (made by the reference SentencePiece). */
class TokenizerCasesTest {

    @Test
    void vocabularyLoads() throws Exception {
        Tokenizer t = TokenizerFixtures.tokenizer();
        assertEquals(8192, t.size());
        assertTrue(t.isControl(0) && t.isControl(1) && t.isControl(2));
        assertTrue(t.isUnknown(3));
        assertTrue(t.isUserDefined(4) && t.isUserDefined(5));
        assertTrue(t.isByte(6) && t.isByte(261) && !t.isByte(262));
        assertEquals("<0x41>", t.piece(6 + 0x41));
    }

    @Test
    void encodeAndDecodeMatchEveryCase() throws Exception {
        Tokenizer t = TokenizerFixtures.tokenizer();
        List<TokenizerFixtures.Case> cases = TokenizerFixtures.cases();
        int encodeTotal = 0;
        int encodePass = 0;
        int decodeTotal = 0;
        int decodePass = 0;
        StringBuilder mismatches = new StringBuilder();
        for (TokenizerFixtures.Case c : cases) {
            if (c.kind.equals("encode")) {
                encodeTotal++;
                int[] got = t.encode(c.text);
                if (Arrays.equals(got, c.ids)) {
                    encodePass++;
                } else {
                    mismatches.append("line ").append(c.line).append(" encode ")
                            .append(Json.writeAscii(c.text)).append("\n  expected ")
                            .append(Arrays.toString(c.ids)).append("\n  got      ")
                            .append(Arrays.toString(got)).append('\n');
                }
            } else if (c.kind.equals("decode")) {
                decodeTotal++;
                String got = t.decode(c.ids);
                if (got.equals(c.text)) {
                    decodePass++;
                } else {
                    mismatches.append("line ").append(c.line).append(" decode ")
                            .append(Arrays.toString(c.ids)).append("\n  expected ")
                            .append(Json.writeAscii(c.text)).append("\n  got      ")
                            .append(Json.writeAscii(got)).append('\n');
                }
            } else {
                fail("line " + c.line + ": unknown kind " + c.kind);
            }
        }
        String summary = "tokenizer cases: encode " + encodePass + "/" + encodeTotal
                + ", decode " + decodePass + "/" + decodeTotal;
        System.out.println(summary);
        assertTrue(encodeTotal > 0 && decodeTotal > 0, "no cases found");
        if (mismatches.length() > 0) {
            fail(summary + "\n" + mismatches);
        }
    }

    @Test
    void encodeCasesRoundTripThroughDecode() throws Exception {
        // decode(encode(x)) is x normalized back: what the reference decode of those ids gives.
        Tokenizer t = TokenizerFixtures.tokenizer();
        for (TokenizerFixtures.Case c : TokenizerFixtures.cases()) {
            if (c.kind.equals("encode") && isPlain(c.text)) {
                assertEquals(collapseSpaces(c.text), t.decode(t.encode(c.text)), "line " + c.line);
            }
        }
    }

    /** Text without ▁ and without characters that need no care: spaces are the only whitespace rule. */
    private static boolean isPlain(String s) {
        return s.indexOf('\u2581') < 0 && s.indexOf('\uFFFD') < 0;
    }

    private static String collapseSpaces(String s) {
        StringBuilder sb = new StringBuilder();
        boolean prevSpace = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ') {
                if (!prevSpace) {
                    sb.append(' ');
                }
                prevSpace = true;
            } else {
                sb.append(c);
                prevSpace = false;
            }
        }
        int end = sb.length();
        while (end > 0 && sb.charAt(end - 1) == ' ') {
            end--;
        }
        return sb.substring(0, end);
    }
}
