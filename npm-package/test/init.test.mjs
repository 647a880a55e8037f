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
