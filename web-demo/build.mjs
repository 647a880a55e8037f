// Builds the demo: a static folder any web server can serve (no server-side code, no bundler).
//
//   node web-demo/build.mjs [PACKAGE] [OUT]
//
// PACKAGE is the packed npm package needle-java-wasm (needle-java-wasm-VERSION.tgz, which
// `./run-tests` or `mvn package` writes to npm-package/target/) or the folder holding it
// (default: npm-package/target). OUT (default: web-demo/dist) receives the page (src/*) and the
// package's files in OUT/needle-java-wasm/, unpacked from the tarball as `npm install` would.
// Any Node.js 18+; nothing to install.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
const [packageArg, outArg] = process.argv.slice(2);
const out = path.resolve(outArg ?? path.join(here, "dist"));

function fail(message) {
  console.error("web-demo/build.mjs: " + message);
  process.exit(1);
}

/** The tarball: the given file, or the newest needle-java-wasm-*.tgz in the given folder. */
function findTarball(arg) {
  const p = path.resolve(arg ?? path.join(here, "..", "npm-package", "target"));
  if (!fs.existsSync(p)) {
    fail(p + " does not exist: build the npm package first (./run-tests, or mvn package -pl npm-package -am)");
  }
  if (fs.statSync(p).isFile()) {
    return p;
  }
  const found = fs.readdirSync(p).filter((f) => /^needle-java-wasm-.*\.tgz$/.test(f))
    .map((f) => path.join(p, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (found.length === 0) {
    fail("no needle-java-wasm-*.tgz in " + p + ": build the npm package first");
  }
  return found[0];
}

/** The regular files of a (gzipped) tar archive: [{name, data}]. ustar and pax long names. */
function untar(gz) {
  const tar = zlib.gunzipSync(gz);
  const entries = [];
  let paxPath = null;
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) {
      break;
    }
    const field = (start, length) => header.subarray(start, start + length).toString("utf8").replace(/\0.*$/s, "");
    const size = parseInt(field(124, 12).trim() || "0", 8);
    const type = field(156, 1) || "0";
    const prefix = field(345, 155);
    const name = paxPath ?? (prefix ? prefix + "/" : "") + field(0, 100);
    const data = tar.subarray(offset + 512, offset + 512 + size);
    paxPath = null;
    if (type === "x") {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
      paxPath = m ? m[1] : null;
    } else if (type === "0" || type === "\0") {
      entries.push({ name, data: Buffer.from(data) });
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

const tarball = findTarball(packageArg);
const entries = untar(fs.readFileSync(tarball));
if (!entries.some((e) => e.name === "package/index.js") || !entries.some((e) => e.name === "package/needle.wasm")) {
  fail(tarball + " is not the needle-java-wasm package (no package/index.js and package/needle.wasm)");
}

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, "needle-java-wasm"), { recursive: true });
const shell = [];
const hash = crypto.createHash("sha256");
for (const { name, data } of entries) {
  const relative = name.replace(/^package\//, "");
  if (relative.includes("..") || path.isAbsolute(relative)) {
    fail("unexpected path in the tarball: " + name);
  }
  const target = path.join(out, "needle-java-wasm", relative);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, data);
  shell.push("needle-java-wasm/" + relative);
  hash.update(relative).update(data);
}

const src = path.join(here, "src");
const pageFiles = fs.readdirSync(src).sort();
for (const f of pageFiles) {
  if (f === "sw.js") {
    continue;
  }
  const data = fs.readFileSync(path.join(src, f));
  fs.writeFileSync(path.join(out, f), data);
  shell.push(f);
  hash.update(f).update(data);
}
// the service worker learns the files to keep offline and a name for this build's copy of them
const sw = fs.readFileSync(path.join(src, "sw.js"), "utf8");
const build = hash.digest("hex").slice(0, 12);
const filled = sw
  .replace("/* SHELL */ []", JSON.stringify(shell.filter((f) => !f.endsWith(".d.ts") && !f.endsWith("README.md"))))
  .replace("/* BUILD */ \"dev\"", JSON.stringify(build));
if (filled === sw) {
  fail("src/sw.js lost its SHELL and BUILD placeholders");
}
fs.writeFileSync(path.join(out, "sw.js"), filled);

const bytes = (dir) => fs.readdirSync(dir, { withFileTypes: true }).reduce((s, d) => s + (d.isDirectory()
  ? bytes(path.join(dir, d.name)) : fs.statSync(path.join(dir, d.name)).size), 0);
console.log("web-demo: " + out + " (" + Math.round(bytes(out) / 1024) + " KB, from " + path.basename(tarball)
  + "; build " + build + ")");
