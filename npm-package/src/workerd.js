// needle-java-wasm for Cloudflare Workers (the "workerd" export condition). Workers cannot compile
// WebAssembly or code from strings at request time: the bundler (wrangler) turns the .wasm import
// into a compiled WebAssembly.Module, which is instantiated here, synchronously, at global scope,
// with a runtime that never compiles code from strings. init() exists for the same code to run
// everywhere; here it has nothing left to do.
import wasmModule from "./needle.wasm";
import simdModule from "./needle-simd.wasm";
import { attach } from "./api.js";
import { instantiateSync } from "./instantiate.js";

export { NeedleWasm, NeedleTokenizer, NeedleError, isInitialized, normalizeTools } from "./api.js";
export { downloadModel, loadModel, DEFAULT_WEIGHTS_URL, DEFAULT_VOCAB_URL, DEFAULT_CACHE_NAME } from "./download.js";

attach(instantiateSync(wasmModule, simdModule));

/** Already done at import; resolves at once (any argument is ignored). */
export default function init() {
  return Promise.resolve();
}

/** Already done at import (wasm-bindgen's initSync, for code written for needle-rs); does nothing. */
export function initSync() {}
