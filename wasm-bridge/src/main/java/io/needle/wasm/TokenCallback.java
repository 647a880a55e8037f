package io.needle.wasm;

import org.teavm.jso.JSFunctor;
import org.teavm.jso.JSObject;

/**
 * A JavaScript function {@code (tokenId, piece) => void} that receives each generated token while
 * {@link NeedleWasm#runStream} decodes. See {@link io.needle.engine.TokenListener}: the pieces,
 * followed by the (usually empty) held-back tail, concatenate to the final text.
 */
@JSFunctor
public interface TokenCallback extends JSObject {
    void onToken(int tokenId, String piece);
}
