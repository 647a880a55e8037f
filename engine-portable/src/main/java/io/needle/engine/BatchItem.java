package io.needle.engine;

/** One (query, tools) pair of a batch run. */
public final class BatchItem {
    public final String query;
    public final String tools;

    public BatchItem(String query, String tools) {
        this.query = query;
        this.tools = tools;
    }
}
