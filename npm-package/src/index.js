// needle-java-wasm: the Needle tool-calling model (Java engine compiled to WebAssembly by TeaVM)
// for browsers and Node. Cloudflare Workers get workerd.js through the "workerd" export condition.
//
//   import init, { NeedleWasm } from "needle-java-wasm";
//   await init();
//   const engine = NeedleWasm.load(weightBytes, vocabText);
//   engine.run("What's the weather in Paris?", tools);  // '[{"name":"get_weather",…}]'
import { attach, isInitialized, NeedleError } from "./api.js";
import { instantiate, instantiateSync } from "./instantiate.js";
import simdBase64 from "./simd-bytes.js";

export { NeedleWasm, NeedleTokenizer, NeedleError, isInitialized, normalizeTools } from "./api.js";
export { downloadModel, loadModel, DEFAULT_WEIGHTS_URL, DEFAULT_VOCAB_URL, DEFAULT_CACHE_NAME } from "./download.js";

// The JS String Builtins make string passing cheaper where the engine has them (ignored elsewhere).
const COMPILE_OPTIONS = { builtins: ["js-string"] };

let ready = null;

/**
 * Loads and instantiates needle.wasm; call (and await) once before anything else. `input` may be
 * omitted (the needle.wasm next to this file), or a URL or path string, a URL object, the bytes
 * (ArrayBuffer or a view), a Response (or a promise of one) or a compiled WebAssembly.Module; or,
 * as wasm-bindgen's init takes it (needle-rs), an object `{ module_or_path }` holding one of them.
 * Later calls return the first call's promise (after a failure, the next call tries again).
 */
export default function init(input) {
  if (ready === null) {
    if (isInitialized()) {
      ready = Promise.resolve(); // by initSync
      return ready;
    }
    ready = (async () => {
      const [module, simd] = await Promise.all([(async () => {
        const given = await moduleOrPath(await input);
        return checkModule(await compile(given), describe(given));
      })(), compileSimd()]);
      attach(await instantiate(module, simd));
    })();
    ready.catch(() => {
      ready = null;
    });
  }
  return ready;
}

/**
 * Instantiates needle.wasm synchronously, as wasm-bindgen's initSync (needle-rs): `input` is the
 * compiled WebAssembly.Module or the bytes of needle.wasm, or an object `{ module }` holding one.
 * Browsers compile only small modules synchronously on the main thread: call it in a Worker, or
 * use init(). Does nothing once the package is initialized.
 */
export function initSync(input) {
  if (isInitialized()) {
    return;
  }
  const given = isPlainObject(input) && "module" in input ? input.module : input;
  let module;
  if (given instanceof WebAssembly.Module) {
    module = given;
  } else if (given instanceof ArrayBuffer || ArrayBuffer.isView(given)) {
    try {
      module = new WebAssembly.Module(given, COMPILE_OPTIONS);
    } catch (e) {
      throw new NeedleError("INTERNAL", "could not compile the given bytes as needle.wasm: " + e.message, { cause: e });
    }
  } else {
    throw new NeedleError("INPUT", "initSync() takes the compiled WebAssembly.Module or the bytes of needle.wasm "
        + "(or { module }), got " + (given?.constructor?.name ?? typeof given));
  }
  attach(instantiateSync(checkModule(module, "the given module"), compileSimdSync()));
}

/** wasm-bindgen's form `{ module_or_path: input }` → input. */
function moduleOrPath(input) {
  return isPlainObject(input) && "module_or_path" in input ? input.module_or_path : input;
}

/** What init() was given, for an error message. */
function describe(input) {
  if (input === undefined || input === null) {
    return "the package's needle.wasm";
  }
  if (typeof input === "string" || input instanceof URL) {
    return String(input);
  }
  if (typeof Response !== "undefined" && input instanceof Response) {
    return input.url || "the response";
  }
  return input instanceof WebAssembly.Module ? "the given WebAssembly.Module" : "the given bytes";
}

function isPlainObject(v) {
  return v !== null && typeof v === "object" && (Object.getPrototypeOf(v) === Object.prototype
      || Object.getPrototypeOf(v) === null);
}

/**
 * The module itself when it is needle-java-wasm's needle.wasm; else a clear error (the usual
 * mistake: handing over needle-rs's needle_wasm_bg.wasm after switching packages).
 */
function checkModule(module, what) {
  const names = WebAssembly.Module.exports(module).map((e) => e.name);
  if (names.includes("loadSimd")) {
    return module;
  }
  const needleRs = names.some((n) => n.startsWith("__wbindgen") || n.startsWith("needlewasm_"));
  throw new NeedleError("INPUT", (needleRs ? "this is needle-rs's needle_wasm_bg.wasm (" + what + "), not"
      : "this is not") + " needle-java-wasm's needle.wasm" + (needleRs ? "" : " (" + what + ")")
      + ": call init() without an argument (the package's own needle.wasm) or give it needle-java-wasm/needle.wasm");
}

/**
 * The SIMD kernels (needle-simd.wasm, carried in simd-bytes.js), compiled; null where the host has
 * no Wasm SIMD (or cannot compile them): the engine then uses its portable kernels.
 */
async function compileSimd() {
  try {
    const bytes = simdBytes();
    return WebAssembly.validate(bytes) ? await WebAssembly.compile(bytes) : null;
  } catch {
    return null;
  }
}

/** compileSimd, synchronously (for initSync). */
function compileSimdSync() {
  try {
    const bytes = simdBytes();
    return WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    return null;
  }
}

function simdBytes() {
  const text = atob(simdBase64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    bytes[i] = text.charCodeAt(i);
  }
  return bytes;
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
      + "WebAssembly.Module (or { module_or_path: one of them }), got " + (input?.constructor?.name ?? typeof input));
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
