// Builds the npm package needle-java-wasm: stages the package files (src/, README.md,
// package.json, needle.wasm from wasm-bridge, runtime.js patched from TeaVM's runtime) in
// OUT/package and runs `npm pack` there, which writes OUT/needle-java-wasm-VERSION.tgz.
// Usage: node scripts/build.mjs WASM_DIR OUT   (run by Maven in the package phase; any Node >= 18)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { patchRuntime } from "./patch-runtime.mjs";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [wasmDir, out] = process.argv.slice(2).map((p) => path.resolve(p));
if (!wasmDir || !out) {
  console.error("usage: node scripts/build.mjs WASM_DIR OUT");
  process.exit(2);
}
for (const f of ["needle.wasm", "needle-runtime.js"]) {
  if (!fs.existsSync(path.join(wasmDir, f))) {
    console.error(`build.mjs: ${path.join(wasmDir, f)} is missing (build wasm-bridge first)`);
    process.exit(1);
  }
}

const stage = path.join(out, "package");
fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });

const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
delete manifest.devDependencies; // the test tools are not the package's
fs.writeFileSync(path.join(stage, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
fs.copyFileSync(path.join(root, "README.md"), path.join(stage, "README.md"));
for (const f of fs.readdirSync(path.join(root, "src"))) {
  fs.copyFileSync(path.join(root, "src", f), path.join(stage, f));
}
fs.copyFileSync(path.join(wasmDir, "needle.wasm"), path.join(stage, "needle.wasm"));
const runtime = patchRuntime(fs.readFileSync(path.join(wasmDir, "needle-runtime.js"), "utf8"));
fs.writeFileSync(path.join(stage, "runtime.js"), runtime);

for (const f of manifest.files) {
  if (!fs.existsSync(path.join(stage, f))) {
    console.error(`build.mjs: package.json lists ${f}, which was not staged`);
    process.exit(1);
  }
}

const tarball = `${manifest.name}-${manifest.version}.tgz`;
fs.rmSync(path.join(out, tarball), { force: true });
execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: stage, stdio: ["ignore", "ignore", "inherit"] });
if (!fs.existsSync(path.join(out, tarball))) {
  console.error(`build.mjs: npm pack did not write ${path.join(out, tarball)}`);
  process.exit(1);
}
const kb = (f) => Math.round(fs.statSync(f).size / 1024);
console.log(`needle-java-wasm: ${path.join(out, tarball)} (${kb(path.join(out, tarball))} KB; needle.wasm ${kb(path.join(stage, "needle.wasm"))} KB)`);
