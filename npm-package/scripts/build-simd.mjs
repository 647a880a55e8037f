// Compiles simd/needle-simd.wat (the Wasm SIMD kernels) with wabt, the WebAssembly Binary
// Toolkit from the npm registry (a devDependency: package-lock.json pins it; it is installed with
// `npm ci` here when missing). Returns the module's bytes.
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
  const require = createRequire(path.join(root, "package.json"));
  const stamp = path.join(root, "node_modules", ".needle-lock-sha256");
  let factory;
  try {
    factory = require("wabt");
  } catch {
    // the same install (and stamp) as scripts/node-tests.sh: the dev tools of package-lock.json
    console.error("build-simd: installing the dev tools of package-lock.json (npm ci)");
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
    const hash = (await import("node:crypto")).createHash("sha256")
      .update(fs.readFileSync(path.join(root, "package-lock.json"))).digest("hex");
    fs.writeFileSync(stamp, hash + "\n");
    factory = require("wabt");
  }
  return factory();
}
