// Instantiates needle.wasm with TeaVM's runtime (runtime.js): the imports TeaVM's code expects,
// the linear memory TeaVM's module asks for, the SIMD kernels (needle-simd.wasm, instantiated on
// that same memory), then the raw exports (load, loadSimd, reserveSimd, loadTokenizer, normalizeTools).
// Nothing here compiles code: both entries (index.js, workerd.js) hand over WebAssembly.Modules.
import { defaults } from "./runtime.js";

/** True when `module` was compiled with the JS String Builtins (it then imports no wasm:js-string). */
function usesStringBuiltins(module) {
  return !WebAssembly.Module.imports(module).some((i) => i.module === "wasm:js-string");
}

/** The linear memory and heap bounds TeaVM's module asks for (as TeaVM's own loader sets them up). */
function linkMemory(imports, module) {
  const sections = WebAssembly.Module.customSections(module, "teavm.memoryRequirements");
  const requirements = sections.length === 1 ? JSON.parse(new TextDecoder().decode(sections[0])) : {};
  const heapOffset = (((requirements.dataSize ?? 0) + 7) >> 3) << 3;
  const maxSize = 0x7fffffff;
  const memory = new WebAssembly.Memory({
    initial: Math.max(requirements.min ?? 0, 1),
    maximum: ((maxSize - 1) >> 16) + 1,
  });
  imports.env = { memory };
  imports.teavmMemory = {
    linearMemory: () => memory.buffer,
    notifyHeapResized: () => {},
    heapOffset: new WebAssembly.Global({ value: "i32", mutable: false }, heapOffset),
    maxSize: new WebAssembly.Global({ value: "i32", mutable: false }, maxSize),
  };
  return memory;
}

/**
 * The import module "needleSimd" of needle.wasm (wasm-bridge's io.needle.wasm.SimdModule): the
 * exports of needle-simd.wasm instantiated on needle.wasm's linear memory (so the engine calls
 * them wasm to wasm, passing addresses), or, without a SIMD module (a host without Wasm SIMD),
 * available() = 0 and the engine keeps its portable kernels.
 */
const SIMD_FUNCTIONS = ["int4", "logits", "logitsAt", "blockRows", "attend"];

function simdImports(simdModule, memory) {
  if (simdModule) {
    try {
      const { exports } = new WebAssembly.Instance(simdModule, { env: { memory } });
      const imports = { available: () => 1 };
      for (const name of SIMD_FUNCTIONS) {
        if (typeof exports[name] !== "function") {
          throw new Error("needle-simd.wasm does not export " + name);
        }
        imports[name] = exports[name];
      }
      return imports;
    } catch {
      // fall through: the portable kernels
    }
  }
  const absent = () => {
    throw new Error("needle-java-wasm: the SIMD kernels are not available on this host");
  };
  const imports = { available: () => 0 };
  for (const name of SIMD_FUNCTIONS) {
    imports[name] = absent;
  }
  return imports;
}

function importsFor(module, simdModule) {
  const imports = {};
  const runtime = defaults(imports, {}, usesStringBuiltins(module));
  const memory = linkMemory(imports, module);
  imports.needleSimd = simdImports(simdModule, memory);
  return { imports, runtime, memory, simd: imports.needleSimd.available() === 1 };
}

/**
 * The raw exports, `memory`: the linear memory (api.js copies weights there for the SIMD kernels),
 * and `simd`: whether the SIMD kernels were instantiated.
 */
function rawExports(instance, runtime, memory, simd) {
  runtime.supplyExports(instance.exports);
  const raw = { memory, simd };
  for (const name of ["load", "loadSimd", "reserveSimd", "loadTokenizer", "normalizeTools"]) {
    const value = instance.exports[name];
    if (!(value instanceof WebAssembly.Global)) {
      throw new Error("needle-java-wasm: needle.wasm does not export " + name + " (a mismatched .wasm file?)");
    }
    raw[name] = value.value;
  }
  return raw;
}

/**
 * Instantiates a compiled needle.wasm (and the compiled SIMD kernels, or null); resolves to its
 * raw exports.
 */
export async function instantiate(module, simdModule = null) {
  const { imports, runtime, memory, simd } = importsFor(module, simdModule);
  const instance = await WebAssembly.instantiate(module, imports);
  return rawExports(instance, runtime, memory, simd);
}

/** The same, synchronously (for Cloudflare Workers, at global scope). */
export function instantiateSync(module, simdModule = null) {
  const { imports, runtime, memory, simd } = importsFor(module, simdModule);
  return rawExports(new WebAssembly.Instance(module, imports), runtime, memory, simd);
}
