package io.needle.engine;

import io.needle.tokenizer.Tokenizer;

/**
 * The encoder input of one request (MODEL.md section 3 step 2): the query's tokens truncated to
 * {@link #MAX_QUERY_TOKENS}, then {@code <tools>} ({@link #TOOLS_ID}), then the tokens of the
 * normalized tools text truncated so the whole is at most {@link #MAX_ENCODER_LEN} ids.
 */
public final class Prompt {
    /** Longest encoder input, in tokens. */
    public static final int MAX_ENCODER_LEN = 1024;
    /** Most query tokens kept (the rest of the input is {@code <tools>} and at least one tools token). */
    public static final int MAX_QUERY_TOKENS = 1022;
    /** Id of the {@code <tools>} separator. */
    public static final int TOOLS_ID = 5;

    private Prompt() {
    }

    /** The encoder ids for {@code query} and the already normalized {@code tools}. */
    public static int[] encoderInput(Tokenizer tok, String query, ToolCatalog tools) {
        // only the kept tokens are computed (the same ids as encode() then cutting)
        int[] q = tok.encodePrefix(query == null ? "" : query, MAX_QUERY_TOKENS);
        int nq = q.length;
        int[] t = tok.encodePrefix(tools.serialized(), MAX_ENCODER_LEN - nq - 1);
        int nt = t.length;
        int[] ids = new int[nq + 1 + nt];
        System.arraycopy(q, 0, ids, 0, nq);
        ids[nq] = TOOLS_ID;
        System.arraycopy(t, 0, ids, nq + 1, nt);
        return ids;
    }

    /** The encoder ids for {@code query} and a raw tools text (normalized with {@link ToolCatalog#parse}). */
    public static int[] encoderInput(Tokenizer tok, String query, String toolsText) {
        return encoderInput(tok, query, ToolCatalog.parse(toolsText));
    }
}
