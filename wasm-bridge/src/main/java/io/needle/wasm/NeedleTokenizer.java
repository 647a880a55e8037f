package io.needle.wasm;

import io.needle.tokenizer.Tokenizer;
import org.teavm.jso.JSExport;
import org.teavm.jso.JSProperty;

/** The JavaScript view of a {@link Tokenizer} loaded without weights: text to ids and back. */
public final class NeedleTokenizer {
    private final Tokenizer tokenizer;

    NeedleTokenizer(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The SentencePiece ids of {@code text} (no bos/eos added). */
    @JSExport
    public int[] encode(String text) {
        return WasmError.guard(() -> tokenizer.encode(text == null ? "" : text));
    }

    /** The text of {@code ids}, as SentencePiece DecodeIds. */
    @JSExport
    public String decode(int[] ids) {
        return WasmError.guard(() -> tokenizer.decode(ids));
    }

    /** The number of pieces in the vocabulary. */
    @JSExport
    @JSProperty
    public int getSize() {
        return tokenizer.size();
    }
}
