// What `npm publish` would publish: `npm pack --dry-run --json` in the staged package folder
// (scripts/build.mjs stages it: NEEDLE_PACKAGE_STAGE) lists exactly the files package.json names,
// every file its entry points name and every module the shipped modules import is among them,
// nothing from the sources or the tests leaks in, and the metadata a registry shows is there
// (license and its files, keywords, the repository when the root pom's needle.repository.url is
// set). While it is not set, the staged package refuses to be published (its prepublishOnly).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { dirFromEnv } from "../../node-support/test-helpers.mjs";
import { PACKAGE_DIR, readJson } from "./helpers.mjs";

const STAGE = dirFromEnv("NEEDLE_PACKAGE_STAGE", "scripts/node-tests.sh");
const REPOSITORY_ROOT = dirFromEnv("NEEDLE_REPOSITORY_ROOT", "scripts/node-tests.sh");
const run = promisify(execFile);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const manifest = readJson(path.join(STAGE, "package.json"));

/** The dry run's report: [{ name, version, files: [{ path, size, mode }], ... }]. */
async function dryRun(dir) {
  const { stdout } = await run(npm, ["pack", "--dry-run", "--json", "--ignore-scripts", "--loglevel=error"], { cwd: dir });
  const reports = JSON.parse(stdout);
  assert.equal(reports.length, 1, stdout);
  return reports[0];
}

let packed;
const packedFiles = async () => {
  packed ??= await dryRun(STAGE);
  return packed.files.map((f) => f.path).sort();
};

/** Every string in an exports map (conditions nest). */
function targets(value) {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(targets);
  if (value && typeof value === "object") return Object.values(value).flatMap(targets);
  return [];
}

const relative = (p) => path.posix.normalize(p.replace(/^\.\//, ""));

test("npm pack --dry-run: exactly package.json's files, the manifest and the licenses", async () => {
  const files = await packedFiles();
  assert.equal(packed.name, "needle-java-wasm");
  assert.equal(packed.version, manifest.version);
  assert.ok(manifest.files.every((f) => !/[*?{}[\]]/.test(f) && !f.endsWith("/")),
    "files lists single files (no globs or folders that could take in more): " + manifest.files);
  assert.deepEqual(files, [...new Set([...manifest.files, "package.json"])].sort());
  for (const f of ["package.json", "README.md", "LICENSE", "LICENSE-TEAVM", "index.js", "index.d.ts", "needle.wasm"]) {
    assert.ok(files.includes(f), f + " is packed");
  }
});

test("nothing from the sources or the tests is packed", async () => {
  const leaks = (await packedFiles()).filter((f) =>
    f.includes("/") // the package is flat: src/, test/, scripts/, simd/, bench/, node_modules/ stay out
    || /\.(test\.mjs|ts|wat|tgz|map)$/.test(f) && f !== "index.d.ts"
    || /^(tsconfig|package-lock)\.json$/.test(f));
  assert.deepEqual(leaks, []);
  assert.equal(manifest.devDependencies, undefined, "the test tools are not the package's dependencies");
});

test("every entry point (main, types, exports, sideEffects) is a packed file", async () => {
  const files = await packedFiles();
  const entries = [manifest.main, manifest.types, ...targets(manifest.exports), ...manifest.sideEffects];
  assert.ok(entries.length >= 8, "entry points: " + entries);
  for (const entry of entries) {
    assert.ok(files.includes(relative(entry)), `${entry} (named by package.json) is not packed`);
  }
  assert.deepEqual(Object.keys(manifest.exports).sort(), [".", "./needle-simd.wasm", "./needle.wasm", "./package.json"]);
});

test("every module the packed modules import, and every file they load beside them, is packed", async () => {
  const files = await packedFiles();
  const scripts = files.filter((f) => f.endsWith(".js"));
  assert.ok(scripts.length >= 5, "packed modules: " + scripts);
  let seen = 0;
  for (const script of scripts) {
    const text = fs.readFileSync(path.join(STAGE, script), "utf8");
    const specifiers = [
      ...text.matchAll(/\bfrom\s+["'](\.[^"']+)["']/g),
      ...text.matchAll(/\bimport\s*\(\s*["'](\.[^"']+)["']\s*\)/g),
      ...text.matchAll(/\bimport\s+["'](\.[^"']+)["']/g),
      ...text.matchAll(/new URL\(\s*["'](\.[^"']+)["']\s*,\s*import\.meta\.url\s*\)/g),
    ].map((m) => m[1]);
    for (const specifier of specifiers) {
      seen++;
      assert.ok(files.includes(relative(specifier)), `${script} loads ${specifier}, which is not packed`);
    }
  }
  assert.ok(seen >= 5, "relative imports found: " + seen);
});

test("the metadata: license and its files, keywords, engines, module type", () => {
  assert.equal(manifest.license, "MIT AND Apache-2.0");
  const license = fs.readFileSync(path.join(STAGE, "LICENSE"), "utf8");
  assert.equal(license, fs.readFileSync(path.join(REPOSITORY_ROOT, "LICENSE"), "utf8"), "the repository's LICENSE");
  assert.match(license, /^MIT License\n\nCopyright \(c\) \d{4} /);
  assert.match(license, /Permission is hereby granted, free of charge/);
  const teavm = fs.readFileSync(path.join(STAGE, "LICENSE-TEAVM"), "utf8");
  assert.match(teavm, /runtime\.js/);
  assert.match(teavm, /Apache License\s+Version 2\.0, January 2004/);
  assert.match(teavm, /END OF TERMS AND CONDITIONS/);
  const runtimeHead = fs.readFileSync(path.join(STAGE, "runtime.js"), "utf8").split("\n")[0];
  assert.ok(/^\/\/ TeaVM .*Apache License 2\.0.*patched/.test(runtimeHead), "runtime.js says it is TeaVM's code, changed: " + runtimeHead);
  assert.ok(Array.isArray(manifest.keywords) && manifest.keywords.length >= 5, "keywords: " + manifest.keywords);
  for (const k of ["tool-calling", "webassembly", "wasm"]) assert.ok(manifest.keywords.includes(k), k);
  assert.ok(manifest.keywords.every((k) => typeof k === "string" && k === k.toLowerCase() && !/\s/.test(k)));
  assert.equal(manifest.type, "module");
  assert.match(manifest.engines.node, /^>=\d+$/);
  assert.equal(manifest.private, undefined, "the staged package is publishable");
  // the installed package is the staged one
  assert.deepEqual(readJson(path.join(PACKAGE_DIR, "package.json")).files, manifest.files);
  assert.equal(fs.readFileSync(path.join(PACKAGE_DIR, "LICENSE"), "utf8"), license);
});

test("the repository: from needle.repository.url when set; without it the package refuses to be published", async () => {
  const check = (dir) => run(npm, ["run", "--silent", "prepublishOnly"], { cwd: dir });
  if (manifest.repository) {
    assert.equal(manifest.repository.type, "git");
    assert.match(manifest.repository.url, /^git\+https:\/\/\S+\.git$/);
    assert.equal(manifest.repository.directory, "npm-package");
    await check(STAGE);
    return;
  }
  const refused = await check(STAGE).then(() => null, (e) => e);
  assert.ok(refused, "prepublishOnly lets a package without a repository through");
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /needle-java-wasm: not published: package\.json has no repository\. Set needle\.repository\.url in the root pom\.xml/);
  // with a repository (as scripts/build.mjs writes it from the property) the check passes
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), "needle-pack-"));
  try {
    const withRepository = { ...manifest, repository: { type: "git", url: "git+https://example.invalid/o/r.git", directory: "npm-package" } };
    fs.writeFileSync(path.join(copy, "package.json"), JSON.stringify(withRepository));
    await check(copy);
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
});
