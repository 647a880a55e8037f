// Compiles simd/needle-simd.wat (the Wasm SIMD kernels) with wabt, the WebAssembly Binary
// Toolkit from the npm registry (a devDependency: package-lock.json pins it; installed here by
// node-support/npm-ci-once.sh, once per lock). Returns the module's bytes.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** The bytes of needle-simd.wasm compiled from root/simd/needle-simd.wat. */
export async function buildSimd(root) {
  const wabt = await loadWabt(root);
  const file = path.join(root, "simd", "needle-simd.wat");
  let module;
  try {
    module = wabt.parseWat("needle-simd.wat", fs.readFileSync(file, "utf8"), { simd: true });
    module.validate();
    return Buffer.from(module.toBinary({ log: false, write_debug_names: false }).buffer);
  } catch (e) {
    throw new Error("build-simd: " + file + " does not compile: " + e.message);
  } finally {
    module?.destroy();
  }
}

async function loadWabt(root) {
  // the same install as scripts/node-tests.sh: the dev tools of package-lock.json, once per lock
  execFileSync("bash", [path.join(root, "..", "node-support", "npm-ci-once.sh"), root],
    { stdio: ["ignore", "inherit", "inherit"] });
  const factory = createRequire(path.join(root, "package.json"))("wabt");
  return factory();
}
