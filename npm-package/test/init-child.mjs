// Run by init.test.mjs in a fresh process: initializes the package from one kind of input (argv[2])
// and prints {ids, mismatch} for parity case p1[0] (mismatch null under the tie rule), or {error: {name, kind, message}}.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import init, { NeedleWasm } from "needle-java-wasm";
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
};

const mode = process.argv[2];
const p1 = readJson(fixture("parity", "p1.json"));
const c = p1.cases[0];
try {
  if (inputs[mode] !== null) await init(inputs[mode]());
  const engine = NeedleWasm.load(fs.readFileSync(fixture("parity", p1.model.file)));
  const ids = engine.generate(c.input_ids, { maxNewTokens: c.max_new_tokens });
  console.log(JSON.stringify({ ids, mismatch: parityMismatch(c, p1.tie_eps, ids) }));
} catch (e) {
  console.log(JSON.stringify({ error: { name: e.name, kind: e.kind, message: e.message } }));
}
