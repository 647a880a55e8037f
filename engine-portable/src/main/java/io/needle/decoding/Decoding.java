package io.needle.decoding;

import io.needle.base.SpecialTokens;
import io.needle.base.NeedleException;
import io.needle.grammar.DecodeConstraint;
import io.needle.grammar.ConstrainedDecoder;

/**
 * The greedy decoding of one request, one step at a time (the loop of {@link Generation}, taken
 * apart so that several requests can step together, see the engine's runBatch): {@link
 * #next()} says what to feed and which logits are needed, {@link #take(float[])} picks the id
 * from them. Starts from [eos]; stops when eos is picked (not emitted), when nothing is allowed,
 * or after maxNewTokens ids.
 */
public final class Decoding {
    private final int vocab;
    private final int maxNewTokens;
    private final boolean ignoreEos;
    private final Generation.IdListener listener;
    private DecodeConstraint constraint;
    private final int[] out;
    private int n;
    private int token = SpecialTokens.EOS;
    private int[] subset; // the ids whose logits the next step needs, or null for all
    private boolean done;
    private boolean stoppedAtEos;
    private int steps;

    public Decoding(int vocab, int maxNewTokens, DecodeConstraint constraint, Generation.IdListener listener,
            boolean ignoreEos) {
        this.vocab = vocab;
        this.maxNewTokens = maxNewTokens;
        this.constraint = constraint;
        this.listener = listener;
        this.ignoreEos = ignoreEos;
        this.out = new int[maxNewTokens];
    }

    /**
     * Prepares the next step; false when decoding is over. Under the grammar ({@link
     * ConstrainedDecoder}, which only masks), when few tokens are allowed only their logits are
     * needed ({@link #subset()}): the same argmax over the same values.
     */
    public boolean next() {
        if (done || n >= maxNewTokens) {
            done = true;
            return false;
        }
        int[] allowed = constraint instanceof ConstrainedDecoder ? ((ConstrainedDecoder) constraint).allowed() : null;
        if (allowed != null && ignoreEos && (allowed.length == 0 || (allowed.length == 1 && allowed[0] == SpecialTokens.EOS))) {
            constraint = null; // the grammar is complete: the benchmark goes on unconstrained
            allowed = null;
        }
        subset = allowed != null && allowed.length * 4 < vocab ? allowed : null;
        return true;
    }

    /** The token to feed at the next step. */
    public int token() {
        return token;
    }

    /** The ids whose logits the next step must compute (all others may be -infinity), or null for all. */
    public int[] subset() {
        return subset;
    }

    /** Takes the step's logits (modified: masked): picks the next id. */
    public void take(float[] logits) {
        steps++;
        checkFinite(logits, steps);
        if (constraint != null) {
            constraint.mask(logits);
        }
        if (ignoreEos) {
            logits[SpecialTokens.EOS] = Float.NEGATIVE_INFINITY;
        }
        int next = Generation.argmax(logits);
        if (next < 0) {
            done = true; // everything masked: the grammar has no way on
            return;
        }
        if (next == SpecialTokens.EOS) {
            stoppedAtEos = true;
            done = true;
            return;
        }
        out[n++] = next;
        if (constraint != null) {
            constraint.accept(next);
        }
        if (listener != null) {
            listener.onId(next);
        }
        token = next;
    }

    /** The generated ids, eos excluded. */
    /** Whether decoding ended because eos was picked. */
    public boolean stoppedAtEos() {
        return stoppedAtEos;
    }

    /** Decoder steps run. */
    public int steps() {
        return steps;
    }

    public int[] ids() {
        int[] ids = new int[n];
        System.arraycopy(out, 0, ids, 0, n);
        return ids;
    }

    /**
     * A NaN logit means the forward pass broke down (weights so large that float32 overflows, as
     * a loader that rejects NaN/Inf values cannot see); an answer built on it would be silently
     * wrong, so decoding stops with an error instead.
     */
    private static void checkFinite(float[] logits, int step) {
        for (int i = 0; i < logits.length; i++) {
            if (Float.isNaN(logits[i])) {
                throw new NeedleException(NeedleException.Kind.WEIGHTS, "the model produced a NaN logit (token "
                        + i + ") at decoding step " + step + ": its weights overflow float32 arithmetic");
            }
        }
    }
}
