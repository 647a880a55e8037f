package io.needle.engine;

import io.needle.decoding.Generation;
import io.needle.grammar.DecodeConstraint;

/** Options of one {@link NeedleEngine#run} call. Mutable builder style: {@code new RunOptions().maxNewTokens(32)}. */
public final class RunOptions {
    /** The model's limit: 511 generated tokens (a 512-position buffer starting with eos). */
    public static final int DEFAULT_MAX_NEW_TOKENS = Generation.MAX_NEW_TOKENS;

    private int maxNewTokens = DEFAULT_MAX_NEW_TOKENS;
    private boolean constrain = true;
    private boolean requireCall;
    private TokenListener listener;
    private boolean ignoreEos;
    private ConstraintWrapper wrapper; // tests only

    /**
     * Test hook (package-private): wraps the decode constraint of {@link NeedleEngine#run} (null when
     * unconstrained), e.g. to perturb logits so that random models write varied calls.
     */
    interface ConstraintWrapper {
        DecodeConstraint wrap(DecodeConstraint inner);
    }

    public int maxNewTokens() {
        return maxNewTokens;
    }

    public RunOptions maxNewTokens(int n) {
        Generation.checkMaxNewTokens(n);
        this.maxNewTokens = n;
        return this;
    }

    public boolean constrain() {
        return constrain;
    }

    public RunOptions constrain(boolean on) {
        this.constrain = on;
        return this;
    }

    /** True when the output must hold at least one call (see {@link #requireCall(boolean)}). */
    public boolean requireCall() {
        return requireCall;
    }

    /**
     * With constrained decoding, refuse the empty answer {@code []} whenever one of the tools can be
     * called, so the output holds at least one call (the model still chooses which): OpenAI's
     * {@code tool_choice: "required"}, and with a one-tool list a named function. Default false.
     * No effect without constraints ({@link #constrain(boolean)} false).
     */
    public RunOptions requireCall(boolean on) {
        this.requireCall = on;
        return this;
    }

    /** True when eos is never chosen (benchmarks only; see {@link #ignoreEos(boolean)}). */
    public boolean ignoreEos() {
        return ignoreEos;
    }

    /**
     * For benchmarks, which need a fixed number of decoder steps: eos is never chosen, so exactly
     * {@link #maxNewTokens()} tokens are generated; once the grammar allows nothing but eos, the
     * remaining steps are plain argmax. The output text is then not a meaningful answer.
     */
    public RunOptions ignoreEos(boolean on) {
        this.ignoreEos = on;
        return this;
    }

    public TokenListener listener() {
        return listener;
    }

    public RunOptions listener(TokenListener l) {
        this.listener = l;
        return this;
    }

    ConstraintWrapper wrapper() {
        return wrapper;
    }

    RunOptions wrapper(ConstraintWrapper w) {
        this.wrapper = w;
        return this;
    }
}
