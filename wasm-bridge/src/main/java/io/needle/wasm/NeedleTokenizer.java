package io.needle.wasm;

import io.needle.tokenizer.Tokenizer;
import org.teavm.jso.JSExport;

/** The JavaScript view of a {@link Tokenizer}: text to ids and back. */
public final class NeedleTokenizer {
    private final Tokenizer tokenizer;

    NeedleTokenizer(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @JSExport
    public int[] encode(String text) {
        return tokenizer.encode(text);
    }

    @JSExport
    public String decode(int[] ids) {
        return tokenizer.decode(ids);
    }
}
