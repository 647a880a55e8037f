package io.needle.wasm;

import org.teavm.jso.JSFunctor;
import org.teavm.jso.JSObject;

/**
 * A JavaScript function {@code (tokenId, piece) => void} that receives each generated token while
 * {@link NeedleWasm#runWith} decodes (streaming). See {@link io.needle.engine.TokenListener}.
 */
@JSFunctor
public interface TokenCallback extends JSObject {
    void onToken(int tokenId, String piece);
}
