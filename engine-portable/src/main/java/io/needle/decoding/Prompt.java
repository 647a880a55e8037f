package io.needle.decoding;

import io.needle.base.SpecialTokens;
import io.needle.tools.ToolCatalog;
import io.needle.tokenizer.Tokenizer;

/**
 * The encoder input of one request (docs/spec/MODEL.md section 3 step 2): the query's tokens truncated to
 * {@code max_enc_len - 2}, then {@code <tools>} ({@link SpecialTokens#TOOLS}), then the tokens of the
 * normalized tools text truncated so the whole is at most {@code max_enc_len} ids (the model's
 * config; 1024 for Needle, {@link #MAX_ENCODER_LEN}).
 */
public final class Prompt {
    /** Needle's longest encoder input, in tokens (the default of a file's {@code max_enc_len}). */
    public static final int MAX_ENCODER_LEN = 1024;
    /** Most query tokens Needle keeps (the rest of the input is {@code <tools>} and at least one tools token). */
    public static final int MAX_QUERY_TOKENS = MAX_ENCODER_LEN - 2;
    /** Id of the {@code <tools>} separator. */

    private Prompt() {
    }

    /** The encoder ids for {@code query} and the already normalized {@code tools}, at most 1024. */
    public static int[] encoderInput(Tokenizer tok, String query, ToolCatalog tools) {
        return encoderInput(tok, query, tools, MAX_ENCODER_LEN);
    }

    /** The encoder ids for {@code query} and the already normalized {@code tools}, at most {@code maxEncLen} (≥ 2). */
    public static int[] encoderInput(Tokenizer tok, String query, ToolCatalog tools, int maxEncLen) {
        // only the kept tokens are computed (the same ids as encode() then cutting)
        int[] q = tok.encodePrefix(query == null ? "" : query, maxEncLen - 2);
        int nq = q.length;
        int[] t = tok.encodePrefix(tools.serialized(), maxEncLen - nq - 1);
        int nt = t.length;
        int[] ids = new int[nq + 1 + nt];
        System.arraycopy(q, 0, ids, 0, nq);
        ids[nq] = SpecialTokens.TOOLS;
        System.arraycopy(t, 0, ids, nq + 1, nt);
        return ids;
    }

    /** The encoder ids for {@code query} and a raw tools text (normalized with {@link ToolCatalog#parse}). */
    public static int[] encoderInput(Tokenizer tok, String query, String toolsText) {
        return encoderInput(tok, query, ToolCatalog.parse(toolsText));
    }
}
