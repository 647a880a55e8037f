// Run by init.test.mjs in a fresh process: initializes the package from one kind of input (argv[2])
// and prints {ids, mismatch} for parity case p1[0] (mismatch null under the tie rule), or {error: {name, kind, message}}.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import init, { initSync, NeedleWasm } from "needle-java-wasm";
import { fixture, PACKAGE_DIR, parityMismatch, readJson } from "./helpers.mjs";

const wasmPath = path.join(PACKAGE_DIR, "needle.wasm");
const wasmBytes = () => fs.readFileSync(wasmPath);
const inputs = {
  "nothing": () => undefined,
  "path": () => wasmPath,
  "file-url-string": () => pathToFileURL(wasmPath).href,
  "url": () => pathToFileURL(wasmPath),
  "bytes": () => wasmBytes(),
  "arraybuffer": () => { const b = wasmBytes(); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length); },
  "response": () => new Response(wasmBytes(), { headers: { "content-type": "application/wasm" } }),
  "response-untyped": () => new Response(wasmBytes()),
  "promise-of-response": () => Promise.resolve(new Response(wasmBytes(), { headers: { "content-type": "application/wasm" } })),
  "module": () => new WebAssembly.Module(wasmBytes()),
  "module-with-builtins": () => new WebAssembly.Module(wasmBytes(), { builtins: ["js-string"] }),
  "http": () => process.env.NEEDLE_WASM_URL,
  "bad-bytes": () => new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]),
  "missing-file": () => path.join(PACKAGE_DIR, "nope.wasm"),
  "not-initialized": null,
  // wasm-bindgen's object form (needle-rs's init)
  "module_or_path": () => ({ module_or_path: wasmPath }),
  "module_or_path-promise-of-module": () => ({ module_or_path: Promise.resolve(new WebAssembly.Module(wasmBytes())) }),
  // a valid module that is not needle.wasm: one with a wasm-bindgen export (as needle-rs's
  // needle_wasm_bg.wasm), one without exports
  "needle-rs-wasm": () => wasmWithExport("__wbindgen_malloc"),
  "other-wasm": () => wasmWithExport(null),
};

/** initSync(input) instead of init (wasm-bindgen's initSync). */
const syncInputs = {
  "initSync-module": () => new WebAssembly.Module(wasmBytes()),
  "initSync-object": () => ({ module: new WebAssembly.Module(wasmBytes()) }),
  "initSync-bytes": () => wasmBytes(),
  "initSync-needle-rs-wasm": () => ({ module: wasmWithExport("__wbindgen_malloc") }),
  "initSync-path": () => wasmPath,
};

/** A minimal valid module: one empty function, exported as `name` (null: not exported). */
function wasmWithExport(name) {
  const exportSection = name === null ? [] : (() => {
    const bytes = [...new TextEncoder().encode(name)];
    return [0x07, bytes.length + 4, 0x01, bytes.length, ...bytes, 0x00, 0x00];
  })();
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x02, 0x01, 0x00, ...exportSection, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b]);
}

const mode = process.argv[2];
const p1 = readJson(fixture("parity", "p1.json"));
const c = p1.cases[0];
try {
  if (mode.endsWith("-then-init")) {
    initSync(syncInputs[mode.slice(0, -"-then-init".length)]());
    await init(); // nothing left to do
  } else if (syncInputs[mode]) {
    initSync(syncInputs[mode]());
  } else if (inputs[mode] !== null) {
    await init(inputs[mode]());
  }
  const engine = NeedleWasm.load(fs.readFileSync(fixture("parity", p1.model.file)));
  const ids = engine.generate(c.input_ids, { maxNewTokens: c.max_new_tokens });
  console.log(JSON.stringify({ ids, mismatch: parityMismatch(c, p1.tie_eps, ids) }));
} catch (e) {
  console.log(JSON.stringify({ error: { name: e.name, kind: e.kind, message: e.message } }));
}
