package io.needle.engine;

/** One retrieval result: a description's 0-based index and its similarity to the query. */
public final class ToolScore {
    public final int index;
    public final float score;

    public ToolScore(int index, float score) {
        this.index = index;
        this.score = score;
    }

    @Override
    public String toString() {
        return index + ":" + score;
    }
}
