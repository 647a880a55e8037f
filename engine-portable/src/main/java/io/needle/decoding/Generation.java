package io.needle.decoding;

import io.needle.base.SpecialTokens;
import io.needle.base.Clock;
import io.needle.base.NeedleException;
import io.needle.grammar.DecodeConstraint;
import io.needle.grammar.ConstrainedDecoder;
import io.needle.model.DecoderState;
import io.needle.model.NeedleModel;

/**
 * Greedy generation (docs/spec/MODEL.md section 3 step 4): encode once, start the decoder from [eos],
 * take the argmax of each position's logits (ties → lowest id), stop when eos is picked (not
 * emitted) or after maxNewTokens ids.
 */
public final class Generation {

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
     * exactly maxNewTokens ids come out (the engine's RunOptions.ignoreEos).
     *
     * <p>Under the grammar ({@link ConstrainedDecoder}, which only masks), when few tokens are
     * allowed only their logits are computed: the same argmax over the same values, at a
     * fraction of the output projection's cost. Any other constraint gets the full logits.
     */
    public static Generation run(NeedleModel model, int[] encoderIds, int maxNewTokens,
            DecodeConstraint constraint, IdListener listener, boolean ignoreEos) {
        checkMaxNewTokens(maxNewTokens);
        checkEncoderInput(encoderIds, model.config.maxEncLen);
        double t0 = Clock.nowMs();
        DecoderState decoder = model.encodeAndStart(encoderIds, maxNewTokens);
        double t1 = Clock.nowMs();
        Decoding d = new Decoding(model.config.vocabSize, maxNewTokens, constraint, listener, ignoreEos);
        try {
            while (d.next()) {
                int[] subset = d.subset();
                d.take(subset != null ? decoder.step(d.token(), subset, subset.length) : decoder.step(d.token()));
            }
        } finally {
            decoder.release();
        }
        double t2 = Clock.nowMs();
        return new Generation(d.ids(), d.stoppedAtEos(), t1 - t0, t2 - t1, d.steps());
    }

    /** A finished decoding's result (used by batched decoding, which times the steps itself). */
    public static Generation of(Decoding d, double encodeMs, double decodeMs) {
        return new Generation(d.ids(), d.stoppedAtEos(), encodeMs, decodeMs, d.steps());
    }

    /** The encoder input must be 1 to {@code maxEncLen} (the model's max_enc_len) ids. */
    public static void checkEncoderInput(int[] encoderIds, int maxEncLen) {
        if (encoderIds == null || encoderIds.length == 0) {
            throw new NeedleException(NeedleException.Kind.INPUT, "the encoder input is empty");
        }
        if (encoderIds.length > maxEncLen) {
            throw new NeedleException(NeedleException.Kind.INPUT, "the encoder input has " + encoderIds.length
                    + " ids, more than the model's limit of " + maxEncLen + " (max_enc_len)");
        }
    }

    /** The most ids one request generates: the original decodes into a 512-position buffer that starts with eos. */
    public static final int MAX_NEW_TOKENS = 511;

    /** The model's decoder length limits generation to {@link #MAX_NEW_TOKENS} ids. */
    public static void checkMaxNewTokens(int n) {
        if (n < 0 || n > MAX_NEW_TOKENS) {
            throw new NeedleException(NeedleException.Kind.INPUT, "max_new_tokens must be between 0 and "
                    + MAX_NEW_TOKENS + " (the model's decoder length), got " + n);
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
