package io.needle.base;

/**
 * The fixed ids of Needle's vocabulary (docs/spec/MODEL.md section 5): control pieces 0-3, then the
 * two user-defined pieces. One place for every class that needs them.
 */
public final class SpecialTokens {
    /** {@code <pad>}: masked out of attention. */
    public static final int PAD = 0;
    /** {@code </s>}: starts the decoder input; picking it ends generation. */
    public static final int EOS = 1;
    /** {@code <s>} (unused by the recipe). */
    public static final int BOS = 2;
    /** {@code <unk>}. */
    public static final int UNK = 3;
    /** {@code <tool_call>}: the first token of an answer, dropped from the text. */
    public static final int TOOL_CALL = 4;
    /** {@code <tools>}: separates the query from the tools in the encoder input. */
    public static final int TOOLS = 5;

    private SpecialTokens() {
    }
}
