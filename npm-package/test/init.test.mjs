// init(input?) from every kind of input, each in a fresh process (the module initializes once).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { closeServer, listen, PACKAGE_DIR, TEST_DIR } from "./helpers.mjs";

const run = promisify(execFile);
let server;
let wasmUrl;

before(async () => {
  const wasm = fs.readFileSync(path.join(PACKAGE_DIR, "needle.wasm"));
  server = http.createServer((req, res) => {
    if (req.url === "/needle.wasm") {
      res.writeHead(200, { "content-type": "application/wasm", "content-length": wasm.length });
      res.end(wasm);
    } else {
      res.writeHead(404).end();
    }
  });
  wasmUrl = (await listen(server)) + "/needle.wasm";
});

after(() => closeServer(server));

async function child(mode) {
  const { stdout } = await run(process.execPath, [path.join(TEST_DIR, "init-child.mjs"), mode],
    { env: { ...process.env, NEEDLE_WASM_URL: wasmUrl }, timeout: 60_000 });
  return JSON.parse(stdout.trim().split("\n").pop());
}

for (const mode of ["nothing", "path", "file-url-string", "url", "bytes", "arraybuffer", "response",
  "response-untyped", "promise-of-response", "module", "module-with-builtins", "http"]) {
  test(`init(${mode}) then a parity case`, async () => {
    const out = await child(mode);
    assert.equal(out.error, undefined, JSON.stringify(out.error));
    assert.equal(out.mismatch, null);
    assert.ok(out.ids.length > 0);
  });
}

for (const mode of ["module_or_path", "module_or_path-promise-of-module", "initSync-module", "initSync-object",
  "initSync-bytes", "initSync-module-then-init"]) {
  test(`${mode.startsWith("initSync") ? "initSync" : "init"}(${mode}) (wasm-bindgen's forms, needle-rs's) then a parity case`, async () => {
    const out = await child(mode);
    assert.equal(out.error, undefined, JSON.stringify(out.error));
    assert.equal(out.mismatch, null);
    assert.ok(out.ids.length > 0);
  });
}

test("init() or initSync() with needle-rs's wasm file says so in one line", async () => {
  for (const mode of ["needle-rs-wasm", "initSync-needle-rs-wasm"]) {
    const out = await child(mode);
    assert.equal(out.error.kind, "INPUT", mode);
    assert.match(out.error.message, /^this is needle-rs's needle_wasm_bg\.wasm \(the given (bytes|module)\), not needle-java-wasm's needle\.wasm: call init\(\) without an argument/);
  }
  const other = await child("other-wasm");
  assert.equal(other.error.kind, "INPUT");
  assert.match(other.error.message, /^this is not needle-java-wasm's needle\.wasm \(the given bytes\): call init\(\)/);
  const path = await child("initSync-path");
  assert.equal(path.error.kind, "INPUT");
  assert.match(path.error.message, /initSync\(\) takes the compiled WebAssembly\.Module or the bytes of needle\.wasm/);
});

test("using the package before init() is a STATE error", async () => {
  const out = await child("not-initialized");
  assert.equal(out.error.kind, "STATE");
  assert.match(out.error.message, /await init\(\)/);
});

test("init() with bytes that are not needle.wasm fails clearly", async () => {
  const out = await child("bad-bytes");
  assert.equal(out.error.kind, "INTERNAL");
  assert.match(out.error.message, /could not compile/);
});

test("init() with a missing file fails clearly", async () => {
  const out = await child("missing-file");
  assert.equal(out.error.kind, "DOWNLOAD");
  assert.match(out.error.message, /nope\.wasm/);
});
