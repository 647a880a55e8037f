// Node module hooks standing in for a Workers bundler (wrangler): `import m from "./x.wasm"` gives
// a compiled WebAssembly.Module, as Cloudflare Workers do. Registered by wasm-hooks-register.mjs.
export async function load(url, context, nextLoad) {
  if (url.endsWith(".wasm")) {
    return {
      format: "module",
      shortCircuit: true,
      source: `import { readFile } from "node:fs/promises";
export default new WebAssembly.Module(await readFile(new URL(${JSON.stringify(url)})));`,
    };
  }
  return nextLoad(url, context);
}
