// Instantiates needle.wasm with TeaVM's runtime (runtime.js): the imports TeaVM's code expects,
// the linear memory TeaVM's module asks for, then the raw exports (load, loadTokenizer).
// Nothing here compiles code: both entries (index.js, workerd.js) hand over a WebAssembly.Module.
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
}

function importsFor(module) {
  const imports = {};
  const runtime = defaults(imports, {}, usesStringBuiltins(module));
  linkMemory(imports, module);
  return { imports, runtime };
}

function rawExports(instance, runtime) {
  runtime.supplyExports(instance.exports);
  const raw = {};
  for (const name of ["load", "loadTokenizer"]) {
    const value = instance.exports[name];
    if (!(value instanceof WebAssembly.Global)) {
      throw new Error("needle-java-wasm: needle.wasm does not export " + name + " (a mismatched .wasm file?)");
    }
    raw[name] = value.value;
  }
  return raw;
}

/** Instantiates a compiled needle.wasm; resolves to its raw exports. */
export async function instantiate(module) {
  const { imports, runtime } = importsFor(module);
  const instance = await WebAssembly.instantiate(module, imports);
  return rawExports(instance, runtime);
}

/** The same, synchronously (for Cloudflare Workers, at global scope). */
export function instantiateSync(module) {
  const { imports, runtime } = importsFor(module);
  return rawExports(new WebAssembly.Instance(module, imports), runtime);
}
