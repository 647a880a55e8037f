package io.needle.grammar;

/**
 * The hook through which a constrained decoder (docs/spec/DECODING.md) takes part in greedy decoding:
 * before each argmax it masks the logits of tokens the grammar forbids, and it is told which
 * token was chosen.
 */
public interface DecodeConstraint {
    /** Sets every forbidden token's logit to negative infinity (eos included while not allowed). */
    void mask(float[] logits);

    /** The token chosen at this step (never eos: decoding stops there). */
    void accept(int tokenId);
}
