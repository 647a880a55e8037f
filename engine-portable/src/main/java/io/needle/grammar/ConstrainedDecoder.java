package io.needle.grammar;

import io.needle.base.SpecialTokens;
import java.util.HashMap;
import java.util.Map;

/**
 * The constrained decoder of docs/spec/DECODING.md for one request: before each argmax it leaves only the
 * tokens whose whole text the tool-call grammar accepts. {@code <tool_call>} is the only token at
 * step 0; eos only after the closing {@code ]}; control and unknown ids never.
 *
 * <p>Cost: the allowed set of a grammar state is computed by walking the {@link TokenTrie} and
 * cached by the state's signature, so repeated states (inside a free-text string, between keys)
 * cost one lookup.
 */
public final class ConstrainedDecoder implements DecodeConstraint {
    private static final int CACHE_LIMIT = 4096;

    private final TokenTrie trie;
    private final TokenTexts texts;
    private GrammarState state;
    private boolean started;
    private final Map<String, int[]> cache = new HashMap<>();
    private float[] kept = new float[0];
    private long maskNanos;

    /**
     * @param texts per token id, its text as the grammar sees it (shared, not copied)
     */
    public ConstrainedDecoder(ToolGrammar grammar, TokenTrie trie, TokenTexts texts) {
        this.trie = trie;
        this.texts = texts;
        this.state = new GrammarState(grammar);
    }

    /** True once the closing {@code ]} has been produced. */
    public boolean isDone() {
        return started && state.isDone();
    }

    /** The grammar state after the tokens accepted so far (a copy). */
    public GrammarState state() {
        return state.copy();
    }

    /** True once the first token ({@code <tool_call>}) has been accepted. */
    public boolean started() {
        return started;
    }

    /** Total time spent computing masks, in milliseconds. */
    public double maskMs() {
        return maskNanos / 1e6;
    }

    /** The token ids allowed next. */
    public int[] allowed() {
        if (!started) {
            return new int[] {SpecialTokens.TOOL_CALL};
        }
        if (state.isDone()) {
            return new int[] {SpecialTokens.EOS};
        }
        String key = state.signature();
        int[] ids = cache.get(key);
        if (ids == null) {
            ids = trie.allowed(state);
            if (state.atStart()) {
                ids = without(ids, trie.spaceBytePiece());
            }
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(key, ids);
        }
        return ids;
    }

    private static int[] without(int[] ids, int id) {
        int n = 0;
        int[] r = new int[ids.length];
        for (int x : ids) {
            if (x != id) {
                r[n++] = x;
            }
        }
        int[] out = new int[n];
        System.arraycopy(r, 0, out, 0, n);
        return out;
    }

    @Override
    public void mask(float[] logits) {
        long t0 = System.nanoTime();
        int[] ids = allowed();
        if (kept.length < ids.length) {
            kept = new float[ids.length];
        }
        for (int i = 0; i < ids.length; i++) {
            kept[i] = logits[ids[i]];
        }
        for (int i = 0; i < logits.length; i++) {
            logits[i] = Float.NEGATIVE_INFINITY;
        }
        for (int i = 0; i < ids.length; i++) {
            logits[ids[i]] = kept[i];
        }
        maskNanos += System.nanoTime() - t0;
    }

    @Override
    public void accept(int tokenId) {
        if (!started) {
            if (tokenId != SpecialTokens.TOOL_CALL) {
                throw new IllegalStateException("the first token must be <tool_call>, got " + tokenId);
            }
            started = true;
            return;
        }
        int length = texts.length(tokenId);
        if (length == 0) {
            throw new IllegalStateException("token " + tokenId + " has no text and is never allowed here");
        }
        if (state.atStart() && tokenId == trie.spaceBytePiece()) {
            throw new IllegalStateException("the leading space must be the dummy prefix of a piece, not the byte piece <0x20>");
        }
        GrammarState next = state.copy(); // a rejected token leaves the state as it was
        for (int k = 0; k < length; k++) {
            if (!next.feed(texts.byteAt(tokenId, k))) {
                throw new IllegalStateException("token " + tokenId + " is not allowed in this grammar state");
            }
        }
        state = next;
    }
}
