package io.needle.engine;

import java.util.List;

/** What one {@link NeedleEngine#run} returns. */
public final class RunResult {
    /** The output text: the JSON array of calls (leading {@code <tool_call>} dropped, original tool names restored). */
    public final String text;
    /** The parsed calls when {@link #text} is a JSON array, else null. */
    public final List<Object> calls;
    /**
     * True when the output is finished: decoding ended with eos before max_new_tokens ran out, or
     * (constrained) the closing {@code ]} was written, after which only eos is allowed. False means
     * the budget ran out first and {@link #text} is a partial output.
     */
    public final boolean complete;
    /** The generated token ids (eos excluded). */
    public final int[] tokens;
    /** Timings of this request. */
    public final Timings timings;

    public RunResult(String text, List<Object> calls, boolean complete, int[] tokens, Timings timings) {
        this.text = text;
        this.calls = calls;
        this.complete = complete;
        this.tokens = tokens;
        this.timings = timings;
    }
}
