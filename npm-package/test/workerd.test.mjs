// The Cloudflare Workers entry ("workerd" export condition): no code generation from strings in
// what it ships; it works in V8 with code generation from strings disabled; and it serves requests
// in workerd itself (the Workers runtime, from the npm package "workerd"), on 127.0.0.1 only.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { fixture, manifest, nodeFixture, PACKAGE_DIR, parityMismatch, readJson, TEST_DIR } from "./helpers.mjs";

const packageJson = readJson(path.join(PACKAGE_DIR, "package.json"));
const shippedJs = packageJson.files.filter((f) => f.endsWith(".js"));

test("the package maps the workerd condition to workerd.js, which imports needle.wasm", () => {
  assert.equal(packageJson.exports["."].workerd, "./workerd.js");
  const src = fs.readFileSync(path.join(PACKAGE_DIR, "workerd.js"), "utf8");
  assert.match(src, /^import wasmModule from "\.\/needle\.wasm";$/m);
  assert.match(src, /instantiateSync\(wasmModule\)/);
  assert.doesNotMatch(src, /^\s*await /m, "no top-level await");
});

test("no shipped file generates code from strings (new Function, eval)", () => {
  assert.ok(shippedJs.includes("runtime.js") && shippedJs.includes("workerd.js"));
  for (const f of shippedJs) {
    const src = fs.readFileSync(path.join(PACKAGE_DIR, f), "utf8");
    assert.doesNotMatch(src, /new\s+Function\b/, f);
    assert.doesNotMatch(src, /\beval\s*\(/, f);
    assert.doesNotMatch(src, /(^|[^.\w])Function\s*\(/, f);
    assert.doesNotMatch(src, /setTimeout\s*\(\s*["'`]/, f);
  }
});

test("in V8 with code generation from strings disabled, through the workerd condition", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--conditions=workerd",
    "--disallow-code-generation-from-strings", "--import", path.join(TEST_DIR, "wasm-hooks-register.mjs"),
    path.join(TEST_DIR, "workerd-child.mjs")], { timeout: 120_000, maxBuffer: 1 << 24 });
  const out = JSON.parse(stdout.trim().split("\n").pop());
  assert.equal(out.initializedAtImport, true, "instantiated at import, before init()");
  assert.match(out.codeGeneration, /^blocked/);
  const p1 = readJson(fixture("parity", "p1.json"));
  out.parity.forEach((ids, i) => assert.equal(parityMismatch(p1.cases[i], p1.tie_eps, ids), null));
  for (const r of out.runs) assert.equal(r.text, r.expected);
  const m = manifest().models.find((x) => x.name === "swiglu-contrastive");
  assert.equal(out.streamed, m.runs[0].text);
  assert.deepEqual(out.retrieve.map(([i]) => i), m.retrieve[0].results.map(([i]) => i));
  assert.equal(out.error.kind, "JSON");
});

const workerd = process.env.NEEDLE_WORKERD;

test("in workerd: a Worker loads a model and answers as the JVM", { skip: !workerd && "NEEDLE_WORKERD is not set", timeout: 120_000 }, async (t) => {
  const m = manifest().models.find((x) => x.name === "tiny-drelu");
  const p1 = readJson(fixture("parity", "p1.json"));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "needle-workerd-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // the Worker first (workerd's main module), the package's files as modules named
  // needle-java-wasm/…, the test data as data/text/json modules
  const modules = [`(name = "worker.js", esModule = embed "worker.js")`];
  for (const f of [...shippedJs, "needle.wasm"]) {
    fs.copyFileSync(path.join(PACKAGE_DIR, f), path.join(dir, f));
    const type = f.endsWith(".wasm") ? "wasm" : "esModule";
    modules.push(`(name = "needle-java-wasm/${f}", ${type} = embed "${f}")`);
  }
  fs.copyFileSync(nodeFixture(m.weights), path.join(dir, "model.bin"));
  fs.copyFileSync(nodeFixture(m.vocab), path.join(dir, "vocab.txt"));
  fs.copyFileSync(fixture("parity", p1.model.file), path.join(dir, "p1.bin"));
  fs.writeFileSync(path.join(dir, "cases.json"), JSON.stringify({ runs: m.runs, p1: p1.cases }));
  fs.writeFileSync(path.join(dir, "worker.js"), `
import init, { NeedleWasm } from "needle-java-wasm/workerd.js";
import weights from "model.bin";
import p1 from "p1.bin";
import vocab from "vocab.txt";
import cases from "cases.json";

let engine = null; // loaded on the first request, kept for the next ones
export default {
  async fetch(request) {
    try {
      await init();
      engine ??= NeedleWasm.load(new Uint8Array(weights), vocab);
      const out = { runs: cases.runs.map((r) => engine.runDetailed(r.query, r.tools,
        { maxNewTokens: r.max_new_tokens, constrain: r.constrain }).text) };
      const parity = NeedleWasm.load(new Uint8Array(p1));
      out.p1 = cases.p1.map((c) => parity.generate(c.input_ids, { maxNewTokens: c.max_new_tokens }));
      try {
        engine.run("hi", "[{");
      } catch (e) {
        out.error = { name: e.name, kind: e.kind, message: e.message };
      }
      return Response.json(out);
    } catch (e) {
      return new Response(String(e && e.stack || e), { status: 500 });
    }
  },
};
`);
  modules.push(`(name = "model.bin", data = embed "model.bin")`,
    `(name = "p1.bin", data = embed "p1.bin")`, `(name = "vocab.txt", text = embed "vocab.txt")`,
    `(name = "cases.json", json = embed "cases.json")`);
  const port = await freePort();
  fs.writeFileSync(path.join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .needleWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ]
);
const needleWorker :Workerd.Worker = (
  modules = [ ${modules.join(",\n    ")} ],
  compatibilityDate = "2025-09-01",
);
`);
  const child = spawn(workerd, ["serve", path.join(dir, "config.capnp")], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  t.after(() => child.kill());

  let response = null;
  const deadline = Date.now() + 60_000;
  while (response === null && Date.now() < deadline && child.exitCode === null) {
    try {
      response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(30_000) });
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  assert.ok(response !== null, "workerd answered; its log:\n" + log);
  const body = await response.text();
  assert.equal(response.status, 200, body + "\n" + log);
  const out = JSON.parse(body);
  assert.deepEqual(out.runs, m.runs.map((r) => r.text));
  out.p1.forEach((ids, i) => assert.equal(parityMismatch(p1.cases[i], p1.tie_eps, ids), null));
  assert.equal(out.error.kind, "JSON");
  assert.match(out.error.message, /not valid JSON/);
  // a second request reuses the loaded engine
  const again = await fetch(`http://127.0.0.1:${port}/`);
  assert.deepEqual((await again.json()).runs, out.runs);
});

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
