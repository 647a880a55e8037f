// The Cloudflare Workers entry ("workerd" export condition): no code generation from strings in
// what it ships; it works in V8 with code generation from strings disabled; and a Worker using
// the package, bundled by wrangler (offline, `deploy --dry-run`), serves requests in workerd (the
// Workers runtime) on 127.0.0.1.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { fixture, freePort, manifest, nodeFixture, PACKAGE_DIR, parityMismatch, readJson, TEST_DIR, workerdAnswer } from "./helpers.mjs";

const packageJson = readJson(path.join(PACKAGE_DIR, "package.json"));
const shippedJs = packageJson.files.filter((f) => f.endsWith(".js"));

test("the package maps the workerd condition to workerd.js, which imports needle.wasm", () => {
  assert.equal(packageJson.exports["."].workerd, "./workerd.js");
  const src = fs.readFileSync(path.join(PACKAGE_DIR, "workerd.js"), "utf8");
  assert.match(src, /^import wasmModule from "\.\/needle\.wasm";$/m);
  assert.match(src, /^import simdModule from "\.\/needle-simd\.wasm";$/m);
  assert.match(src, /instantiateSync\(wasmModule, simdModule\)/);
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
  assert.deepEqual(out.exports, Object.keys(await import("needle-java-wasm")).sort(), "the same exports as the main entry");
  assert.match(out.codeGeneration, /^blocked/);
  const p1 = readJson(fixture("parity", "p1.json"));
  out.parity.forEach((ids, i) => assert.equal(parityMismatch(p1.cases[i], p1.tie_eps, ids), null));
  assert.equal(out.simd, true, "the SIMD kernels, from the imported needle-simd.wasm module");
  for (const r of out.runs) assert.equal(r.text, r.expected);
  const m = manifest().models.find((x) => x.name === "swiglu-contrastive");
  assert.equal(out.streamed, m.runs[0].text);
  assert.deepEqual(out.retrieve.map(([i]) => i), m.retrieve[0].results.map(([i]) => i));
  assert.equal(out.error.kind, "JSON");
});

// wrangler (bundler) and workerd (the Workers runtime) from npm-package's devDependencies
const tools = process.env.NEEDLE_TEST_TOOLS;

test("wrangler bundles a Worker using the package; workerd serves it and answers as the JVM",
  { skip: !tools && "NEEDLE_TEST_TOOLS is not set", timeout: 180_000 }, async (t) => {
  const m = manifest().models.find((x) => x.name === "tiny-drelu");
  const p1 = readJson(fixture("parity", "p1.json"));
  // a Worker project beside the test folder, so "needle-java-wasm" resolves to the installed package
  const project = fs.mkdtempSync(path.join(path.dirname(TEST_DIR), "worker-"));
  t.after(() => fs.rmSync(project, { recursive: true, force: true }));
  fs.mkdirSync(path.join(project, "src"));
  fs.copyFileSync(nodeFixture(m.weights), path.join(project, "src", "model.bin"));
  fs.copyFileSync(nodeFixture(m.vocab), path.join(project, "src", "vocab.txt"));
  fs.copyFileSync(fixture("parity", p1.model.file), path.join(project, "src", "p1.bin"));
  fs.writeFileSync(path.join(project, "src", "cases.json"), JSON.stringify({ runs: m.runs, p1: p1.cases }));
  fs.writeFileSync(path.join(project, "wrangler.toml"),
    'name = "needle-smoke"\nmain = "src/worker.js"\ncompatibility_date = "2025-09-01"\n');
  fs.writeFileSync(path.join(project, "src", "worker.js"), `
import init, { NeedleWasm } from "needle-java-wasm";
import weights from "./model.bin";
import p1 from "./p1.bin";
import vocab from "./vocab.txt";
import cases from "./cases.json";

let engine = null; // loaded on the first request, kept for the next ones
export default {
  async fetch(request) {
    try {
      await init();
      engine ??= NeedleWasm.load(new Uint8Array(weights), vocab);
      const out = { simd: engine.simd, runs: cases.runs.map((r) => engine.runDetailed(r.query, r.tools,
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

  // bundle as `wrangler deploy` would (offline: --dry-run writes the upload to dist/)
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", HOME: project, XDG_CONFIG_HOME: project };
  const bundled = await promisify(execFile)(process.execPath,
    [path.join(tools, "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"],
    { cwd: project, env, timeout: 120_000 }).catch((e) => assert.fail("wrangler failed:\n" + e.stdout + e.stderr));
  assert.doesNotMatch(bundled.stdout + bundled.stderr, /WARNING|ERROR/, bundled.stdout + bundled.stderr);
  const dist = path.join(project, "dist");
  const files = fs.readdirSync(dist);
  const wasm = files.filter((f) => f.endsWith(".wasm"));
  assert.equal(wasm.length, 2, "needle.wasm and needle-simd.wasm are separate (compiled) modules: " + files);
  const bundle = fs.readFileSync(path.join(dist, "worker.js"), "utf8");
  assert.match(bundle, /instantiateSync\(wasmModule, simdModule\)/, "the workerd entry was bundled");

  // serve dist/ with workerd on 127.0.0.1, the Worker as its main module
  const types = { ".wasm": "wasm", ".bin": "data", ".txt": "text", ".js": "esModule" };
  const modules = ["worker.js", ...files.filter((f) => f !== "worker.js" && types[path.extname(f)])]
    .map((f) => `(name = "${f}", ${types[path.extname(f)]} = embed "dist/${f}")`);
  const port = await freePort();
  fs.writeFileSync(path.join(project, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .needleWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ]
);
const needleWorker :Workerd.Worker = (
  modules = [ ${modules.join(",\n    ")} ],
  compatibilityDate = "2025-09-01",
);
`);
  const { response, log } = await workerdAnswer(t, tools, path.join(project, "config.capnp"), port);
  const body = await response.text();
  assert.equal(response.status, 200, body + "\n" + log);
  const out = JSON.parse(body);
  assert.equal(out.simd, true, "the Wasm SIMD kernels run in workerd");
  assert.deepEqual(out.runs, m.runs.map((r) => r.text));
  out.p1.forEach((ids, i) => assert.equal(parityMismatch(p1.cases[i], p1.tie_eps, ids), null));
  assert.equal(out.error.kind, "JSON");
  assert.match(out.error.message, /not valid JSON/);
  // a second request reuses the loaded engine
  const again = await fetch(`http://127.0.0.1:${port}/`);
  assert.deepEqual((await again.json()).runs, out.runs);
});
