// What `wrangler deploy` would upload: `wrangler deploy --dry-run` bundles the Worker offline (its
// size is reported), and that very bundle, served by workerd alone (no wrangler, no inspector), answers
// as the JVM on the full-size model; the memory its process gains is reported.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  fileServer, freePort, fullSizeModel, get, jvmRun, post, projectConfig, WORK, WORKER_DIR, WRANGLER, wranglerEnv,
} from "./helpers.mjs";

const DIST = path.join(WORK, "dist");
let dryRun; // wrangler's output

before(async () => {
  fs.rmSync(DIST, { recursive: true, force: true });
  dryRun = await promisify(execFile)(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", DIST],
    { cwd: WORKER_DIR, env: wranglerEnv(), timeout: 120_000 })
    .catch((e) => assert.fail("wrangler deploy --dry-run failed:\n" + e.stdout + e.stderr));
});

test("wrangler deploy --dry-run bundles the Worker: its size, needle.wasm and the SIMD kernels as modules, the catalogue inside", (t) => {
  const out = dryRun.stdout + dryRun.stderr;
  assert.doesNotMatch(out, /\[WARNING\]|\[ERROR\]|✘/, out);
  const m = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(out);
  assert.ok(m, "wrangler reports the upload size:\n" + out);
  const [total, gzip] = [Number(m[1]), Number(m[2])];
  t.diagnostic(`bundle: ${total} KiB, ${gzip} KiB gzipped (Workers allow 3 MB compressed on the Free plan, 10 MB on Paid)`);
  assert.ok(gzip < 3 * 1024, "fits the Free plan's 3 MB");
  const files = fs.readdirSync(DIST);
  const wasm = files.filter((f) => f.endsWith(".wasm")).map((f) => f.replace(/^[0-9a-f]+-/, "")).sort();
  assert.deepEqual(wasm, ["needle-simd.wasm", "needle.wasm"],
    "the engine and its SIMD kernels are uploaded as WebAssembly modules: " + files);
  const bundle = fs.readFileSync(path.join(DIST, "index.js"), "utf8");
  assert.match(bundle, /instantiateSync\(wasmModule, simdModule\)/, "the package's workerd entry was bundled");
  assert.match(bundle, /"create_ticket"/, "the catalogue (src/catalogue.json) is in the bundle");
  const bytes = files.reduce((sum, f) => sum + fs.statSync(path.join(DIST, f)).size, 0);
  assert.ok(bytes < 2 * 1048576, "no model inside the bundle: " + bytes + " bytes");
  for (const name of Object.keys(projectConfig().vars)) {
    assert.match(out, new RegExp(`env\\.${name}\\b`), `the binding ${name} is listed`);
  }
});

let files;
let child;

after(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  await files?.close();
});

function rssKiB(pid) {
  return Number(/^VmRSS:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
}

test("the bundle in workerd alone: the full-size model answers as the JVM; the memory its process gains", async (t) => {
  const model = fullSizeModel();
  files = await fileServer({ "needle.safetensors": model.weights, "vocab.txt": model.vocab });
  const vars = { ...projectConfig().vars, WEIGHTS_URL: files.url("needle.safetensors"), VOCAB_URL: files.url("vocab.txt"), MODEL_CACHE_SECONDS: "0", MAX_NEW_TOKENS: "32" };
  const modules = fs.readdirSync(DIST).filter((f) => f.endsWith(".wasm")).map((f) => `(name = "${f}", wasm = embed "dist/${f}")`);
  const port = await freePort();
  const config = path.join(WORK, "deployed.capnp");
  fs.writeFileSync(config, `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker), (name = "loopback", network = (allow = ["local"])) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ]
);
const worker :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "dist/index.js"), ${modules.join(", ")} ],
  compatibilityDate = "${projectConfig().compatibility_date}",
  bindings = [ ${Object.entries(vars).map(([k, v]) => `(name = "${k}", text = ${JSON.stringify(String(v))})`).join(", ")} ],
  globalOutbound = "loopback",
);
`);
  child = spawn(path.join(WORKER_DIR, "node_modules", ".bin", "workerd"), ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await get(url + "/health");
      break;
    } catch (e) {
      assert.ok(i < 200 && child.exitCode === null, "workerd answers:\n" + log + e);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const bundled = JSON.parse(fs.readFileSync(path.join(WORKER_DIR, "src", "catalogue.json"), "utf8"));
  const tools = JSON.stringify(bundled.tools.map(({ backend: _, ...tool }) => tool));
  const queries = ["What's the weather in London, in fahrenheit?", "I need to talk to someone about my bill"];
  const expected = jvmRun(model, queries.map((query) => ({ query, tools, max_new_tokens: 32 })));

  const before = rssKiB(child.pid);
  const times = [];
  for (let i = 0; i < queries.length; i++) {
    const started = Date.now();
    const res = await post(url + "/route", { query: queries[i] });
    times.push(Date.now() - started);
    assert.equal(res.status, 200, JSON.stringify(res.body) + log);
    assert.equal(res.body.text, expected[i].text);
    assert.deepEqual(res.body.calls, expected[i].calls);
    assert.equal(res.body.complete, expected[i].complete);
  }
  const afterRss = rssKiB(child.pid);
  const mib = (kib) => (kib / 1024).toFixed(1) + " MiB";
  t.diagnostic(`workerd RSS ${mib(before)} before the model, ${mib(afterRss)} after loading it and ${queries.length} requests (+${mib(afterRss - before)}); `
    + `request times ${times.join(", ")} ms (the first downloads and loads the model)`);
  // a regression guard: under wrangler dev's inspector the same work costs the process several hundred MiB
  assert.ok(afterRss - before < 200 * 1024, `the process grew by ${mib(afterRss - before)}`);
  assert.doesNotMatch(log, /error|uncaught/i, log);
});
