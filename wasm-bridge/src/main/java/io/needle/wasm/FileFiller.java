package io.needle.wasm;

import org.teavm.jso.JSFunctor;
import org.teavm.jso.JSObject;

/**
 * A JavaScript function {@code (address) => void} that copies the weight file, in bulk, into the
 * linear memory at {@code address} (the block {@link SimdKernels} computes on), while
 * {@link NeedleWasm#loadSimd} loads: copying from Java would go byte by byte.
 */
@JSFunctor
public interface FileFiller extends JSObject {
    void fill(int address);
}
