// needle-java-wasm: the Needle tool-calling model (Java engine compiled to WebAssembly by TeaVM)
// for browsers and Node. Cloudflare Workers get workerd.js through the "workerd" export condition.
//
//   import init, { NeedleWasm } from "needle-java-wasm";
//   await init();
//   const engine = NeedleWasm.load(weightBytes, vocabText);
//   engine.run("What's the weather in Paris?", tools);  // '[{"name":"get_weather",…}]'
import { attach, isInitialized, NeedleError } from "./api.js";
import { instantiate } from "./instantiate.js";
import simdBase64 from "./simd-bytes.js";

export { NeedleWasm, NeedleTokenizer, NeedleError, isInitialized, normalizeTools } from "./api.js";
export { downloadModel, DEFAULT_WEIGHTS_URL, DEFAULT_VOCAB_URL, DEFAULT_CACHE_NAME } from "./download.js";

// The JS String Builtins make string passing cheaper where the engine has them (ignored elsewhere).
const COMPILE_OPTIONS = { builtins: ["js-string"] };

let ready = null;

/**
 * Loads and instantiates needle.wasm; call (and await) once before anything else. `input` may be
 * omitted (the needle.wasm next to this file), or a URL or path string, a URL object, the bytes
 * (ArrayBuffer or a view), a Response (or a promise of one) or a compiled WebAssembly.Module.
 * Later calls return the first call's promise (after a failure, the next call tries again).
 */
export default function init(input) {
  if (ready === null) {
    ready = (async () => {
      const [module, simd] = await Promise.all([(async () => compile(await input))(), compileSimd()]);
      attach(await instantiate(module, simd));
    })();
    ready.catch(() => {
      ready = null;
    });
  }
  return ready;
}

/**
 * The SIMD kernels (needle-simd.wasm, carried in simd-bytes.js), compiled; null where the host has
 * no Wasm SIMD (or cannot compile them): the engine then uses its portable kernels.
 */
async function compileSimd() {
  try {
    const text = atob(simdBase64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      bytes[i] = text.charCodeAt(i);
    }
    return WebAssembly.validate(bytes) ? await WebAssembly.compile(bytes) : null;
  } catch {
    return null;
  }
}

async function compile(input) {
  if (input === undefined || input === null) {
    return compile(new URL("./needle.wasm", import.meta.url));
  }
  if (input instanceof WebAssembly.Module) {
    return input;
  }
  if (typeof Response !== "undefined" && input instanceof Response) {
    return compileResponse(input);
  }
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
    return compileBytes(input, "the given bytes");
  }
  if (typeof input === "string" || input instanceof URL) {
    const url = toUrl(input);
    if (url === null || url.protocol === "file:") {
      return compileBytes(await readFile(url ?? input), String(input));
    }
    let response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new NeedleError("DOWNLOAD", "could not fetch " + url + ": " + e.message, { cause: e });
    }
    return compileResponse(response);
  }
  throw new NeedleError("INPUT", "init() takes nothing, a URL, a path, bytes, a Response or a "
      + "WebAssembly.Module, got " + (input?.constructor?.name ?? typeof input));
}

/** A URL for a URL object or an absolute URL string; null for a plain path (Node). */
function toUrl(input) {
  if (input instanceof URL) {
    return input;
  }
  if (typeof process !== "undefined" && process.versions?.node && !/^[a-z][a-z0-9+.-]+:/i.test(input)) {
    return null; // a file path (a drive letter is one character, so C:\… is a path too)
  }
  return new URL(input, globalThis.location?.href);
}

async function readFile(pathOrUrl) {
  const { readFile } = await import("node:fs/promises");
  try {
    return await readFile(pathOrUrl);
  } catch (e) {
    throw new NeedleError("DOWNLOAD", "could not read " + pathOrUrl + ": " + e.message, { cause: e });
  }
}

async function compileResponse(response) {
  if (!response.ok) {
    throw new NeedleError("DOWNLOAD", "could not fetch " + response.url + ": HTTP " + response.status);
  }
  const type = response.headers.get("content-type") ?? "";
  if (typeof WebAssembly.compileStreaming === "function" && type.split(";")[0].trim() === "application/wasm") {
    try {
      return await WebAssembly.compileStreaming(response, COMPILE_OPTIONS);
    } catch (e) {
      throw new NeedleError("INTERNAL", "could not compile needle.wasm: " + e.message, { cause: e });
    }
  }
  return compileBytes(await response.arrayBuffer(), response.url || "the response");
}

async function compileBytes(bytes, what) {
  try {
    return await WebAssembly.compile(bytes, COMPILE_OPTIONS);
  } catch (e) {
    throw new NeedleError("INTERNAL", "could not compile " + what + " as needle.wasm (this host needs "
        + "WebAssembly GC: Node 22+, Chrome 119+, Firefox 120+, Safari 18.2+): " + e.message, { cause: e });
  }
}
