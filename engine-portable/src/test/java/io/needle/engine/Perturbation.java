package io.needle.engine;

import io.needle.base.SpecialTokens;
import io.needle.decoding.Generation;
import io.needle.grammar.DecodeConstraint;
import io.needle.tokenizer.Tokenizer;

/**
 * A test-side {@link DecodeConstraint} around the real constrained decoder: after the grammar has
 * masked the logits, it adds seeded noise to the allowed ones so that random models (which tend to
 * answer {@code []} at once) write calls with arguments of every kind. It never turns a masked
 * (-infinity) logit into an allowed one, so whatever it does the grammar's guarantees must hold.
 *
 * <ul>
 *   <li>noise: uniform [0, noise) added to every allowed logit (0 = the model alone);</li>
 *   <li>for the first {@code holdSteps} steps, tokens containing {@code ]} and eos lose 1000 (they
 *       still win when nothing else is allowed), so outputs do not end at once;</li>
 *   <li>with probability {@code structure} per step, tokens containing a quote, comma, colon or
 *       brace gain 1000, so strings and values end after a few tokens and calls progress.</li>
 * </ul>
 */
final class Perturbation implements DecodeConstraint {
    private final DecodeConstraint inner;
    private final boolean[] closes;
    private final boolean[] structural;
    private final float noise;
    private final int holdSteps;
    private final double structure;
    private long state;
    private int step;

    /** Per-vocabulary token classes, computed once per tokenizer. */
    static final class Classes {
        final boolean[] closes;
        final boolean[] structural;

        Classes(Tokenizer tok) {
            closes = new boolean[tok.size()];
            structural = new boolean[tok.size()];
            for (int id = 0; id < tok.size(); id++) {
                for (byte b : tok.tokenBytes(id)) {
                    closes[id] |= b == ']';
                    structural[id] |= b == '"' || b == ',' || b == ':' || b == '}' || b == '{';
                }
            }
            closes[SpecialTokens.EOS] = true;
        }
    }

    Perturbation(DecodeConstraint inner, Classes classes, long seed, float noise, int holdSteps, double structure) {
        this.inner = inner;
        this.closes = classes.closes;
        this.structural = classes.structural;
        this.noise = noise;
        this.holdSteps = holdSteps;
        this.structure = structure;
        this.state = seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        if (state == 0) {
            state = 1;
        }
    }

    /** xorshift64*: cheap, seeded. */
    private long next() {
        state ^= state >>> 12;
        state ^= state << 25;
        state ^= state >>> 27;
        return state * 0x2545F4914F6CDD1DL;
    }

    private float uniform() {
        return (next() >>> 40) / (float) (1L << 24);
    }

    @Override
    public void mask(float[] logits) {
        if (inner != null) {
            inner.mask(logits);
        }
        boolean hold = step < holdSteps;
        boolean push = uniform() < structure;
        step++;
        for (int i = 0; i < logits.length; i++) {
            float v = logits[i];
            if (v == Float.NEGATIVE_INFINITY) {
                continue;
            }
            if (noise > 0) {
                v += noise * uniform();
            }
            if (hold && closes[i]) {
                v -= 1000f;
            }
            if (push && structural[i]) {
                v += 1000f;
            }
            logits[i] = v;
        }
    }

    @Override
    public void accept(int tokenId) {
        if (inner != null) {
            inner.accept(tokenId);
        }
    }
}
