package io.needle.engine;

import io.needle.grammar.ConstrainedDecoder;
import io.needle.model.DecoderState;
import io.needle.model.NeedleModel;

/**
 * Greedy generation (MODEL.md section 3 step 4): encode once, start the decoder from [eos],
 * take the argmax of each position's logits (ties → lowest id), stop when eos is picked (not
 * emitted) or after maxNewTokens ids.
 */
public final class Generation {
    public static final int EOS = 1;

    /** Generated ids, eos excluded. */
    public final int[] ids;
    /** True when decoding stopped because eos was picked. */
    public final boolean stoppedAtEos;
    public final double encodeMs;
    public final double decodeMs;
    /** Decoder steps run (ids plus the eos step when there was one). */
    public final int steps;

    private Generation(int[] ids, boolean stoppedAtEos, double encodeMs, double decodeMs, int steps) {
        this.ids = ids;
        this.stoppedAtEos = stoppedAtEos;
        this.encodeMs = encodeMs;
        this.decodeMs = decodeMs;
        this.steps = steps;
    }

    /** Receives each generated id as it is chosen. */
    public interface IdListener {
        void onId(int id);
    }

    /**
     * Runs encoder + greedy decoder.
     *
     * @param constraint masks logits before each argmax; null = plain argmax
     * @param listener told each generated id; may be null
     */
    public static Generation run(NeedleModel model, int[] encoderIds, int maxNewTokens,
            DecodeConstraint constraint, IdListener listener) {
        return run(model, encoderIds, maxNewTokens, constraint, listener, false);
    }

    /**
     * Runs encoder + greedy decoder; with {@code ignoreEos} (benchmarks) eos is never chosen and
     * exactly maxNewTokens ids come out (see {@link RunOptions#ignoreEos(boolean)}).
     *
     * <p>Under the grammar ({@link ConstrainedDecoder}, which only masks), when few tokens are
     * allowed only their logits are computed: the same argmax over the same values, at a
     * fraction of the output projection's cost. Any other constraint gets the full logits.
     */
    public static Generation run(NeedleModel model, int[] encoderIds, int maxNewTokens,
            DecodeConstraint constraint, IdListener listener, boolean ignoreEos) {
        checkMaxNewTokens(maxNewTokens);
        if (encoderIds == null || encoderIds.length == 0) {
            throw new NeedleException(NeedleException.Kind.INPUT, "the encoder input is empty");
        }
        if (encoderIds.length > Prompt.MAX_ENCODER_LEN) {
            throw new NeedleException(NeedleException.Kind.INPUT, "the encoder input has " + encoderIds.length
                    + " ids, more than the model's limit of " + Prompt.MAX_ENCODER_LEN);
        }
        double t0 = Clock.nowMs();
        NeedleModel.EncoderOutput enc = model.encode(encoderIds);
        DecoderState decoder = model.startDecoder(enc, maxNewTokens);
        double t1 = Clock.nowMs();
        int vocab = model.config.vocabSize;
        int[] out = new int[maxNewTokens];
        int n = 0;
        boolean eos = false;
        int steps = 0;
        int token = EOS;
        while (n < maxNewTokens) {
            int[] allowed = constraint instanceof ConstrainedDecoder ? ((ConstrainedDecoder) constraint).allowed() : null;
            if (allowed != null && ignoreEos && (allowed.length == 0 || (allowed.length == 1 && allowed[0] == EOS))) {
                constraint = null; // the grammar is complete: the benchmark goes on unconstrained
                allowed = null;
            }
            float[] logits = allowed != null && allowed.length * 4 < vocab
                    ? decoder.step(token, allowed, allowed.length)
                    : decoder.step(token);
            steps++;
            checkFinite(logits, steps);
            if (constraint != null) {
                constraint.mask(logits);
            }
            if (ignoreEos) {
                logits[EOS] = Float.NEGATIVE_INFINITY;
            }
            int next = argmax(logits);
            if (next < 0) {
                break; // everything masked: the grammar has no way on
            }
            if (next == EOS) {
                eos = true;
                break;
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
        double t2 = Clock.nowMs();
        int[] ids = new int[n];
        System.arraycopy(out, 0, ids, 0, n);
        return new Generation(ids, eos, t1 - t0, t2 - t1, steps);
    }

    /** The model's decoder length limits generation to {@link RunOptions#DEFAULT_MAX_NEW_TOKENS} ids. */
    public static void checkMaxNewTokens(int n) {
        if (n < 0 || n > RunOptions.DEFAULT_MAX_NEW_TOKENS) {
            throw new NeedleException(NeedleException.Kind.INPUT, "max_new_tokens must be between 0 and "
                    + RunOptions.DEFAULT_MAX_NEW_TOKENS + " (the model's decoder length), got " + n);
        }
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

    /** Index of the largest logit, lowest id on ties; -1 when every logit is -infinity or NaN. */
    public static int argmax(float[] logits) {
        int best = -1;
        float bestVal = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] > bestVal) {
                bestVal = logits[i];
                best = i;
            }
        }
        return best;
    }
}
