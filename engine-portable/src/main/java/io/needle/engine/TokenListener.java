package io.needle.engine;

/** Receives each generated token as it is produced (streaming). */
public interface TokenListener {
    /**
     * @param tokenId the generated id
     * @param piece the text this token adds to the output (may be empty, e.g. for a byte token
     *     that starts a multi-byte character; the bytes then appear with the token that completes it)
     */
    void onToken(int tokenId, String piece);

    /**
     * Called once when decoding ends with any text still held back (bytes of an unfinished UTF-8
     * character, an unfinished tool name); usually empty. The pieces plus this tail concatenate to
     * exactly the final text.
     */
    default void onFinish(String tail) {
    }
}
