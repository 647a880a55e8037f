// The Worker's request timed in Node and in workerd in one run, and the memory a loaded model adds
// to the workerd isolate and process while 8 requests run at once (issue 14.4; BENCHMARKS.md,
// "The Worker in workerd").
//
//   1. bundles the Worker as `wrangler deploy` would (offline: --dry-run) in a scratch project with
//      the staged npm package, and serves the bundle with workerd alone (no wrangler dev, no
//      inspector client attached while timing) on 127.0.0.1; the weights and vocabulary come from
//      a local file server, as from R2 or a URL;
//   2. loads the same package in this Node process (the package's Node entry) with the same files;
//   3. times the same request both ways, alternating: POST /route {query} over the bundled
//      catalogue (src/catalogue.json) in workerd, engine.runDetailed(query, the catalogue's tools,
//      {maxNewTokens}) in Node (the call /route makes); medians after warm-up runs. The workerd
//      figure is the client's wall clock (workerd's own clocks stand still while code runs); the
//      HTTP round trip of /health is printed beside it;
//   4. memory: workerd's RSS (its process) and what the model adds to its isolate (objects and
//      linear memory: the live objects of a heap snapshot through workerd's inspector (V8 takes it
//      after a full collection), plus the Wasm linear memory the load adds (measured in Node, the
//      same package and model: the inspector does not report a Wasm memory)) before the model, and
//      while 8 requests run at once after it loaded (the RSS peak sampled every 5 ms, the snapshot
//      between two of those requests).
//
// Usage: node worker/bench/bench.mjs [--package npm-package/target/package] [--jar cli/target/needle-cli.jar]
//          [--weights W --vocab V] [--src worker/src] [--runs 9] [--warmup 4] [--max-new-tokens 32] [--query TEXT]
//          [--json FILE] [--concurrent 8] [--v8-flags "FLAG ..." (workerd's V8 flags)]
//          [--rss-only (no heap snapshots: workerd's RSS without their memory)] [--smaps (prints workerd's largest mappings before and after the
//          load, after the timed requests and after the concurrent ones)]
// Without --weights, the full-size random model (ModelWriter.fullSize(), seed 1, as `needle bench`)
// is written with the jar's classes, and the real vocabulary is ../shared/fixtures/tokenizer/vocab.txt.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isolateHeapAt } from "../test/isolate-heap.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const workerDir = path.dirname(here);
const repo = path.dirname(workerDir);
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf("--" + name);
  return i >= 0 ? args[i + 1] : dflt;
};
const pkg = path.resolve(opt("package", path.join(repo, "npm-package", "target", "package")));
const jar = path.resolve(opt("jar", path.join(repo, "cli", "target", "needle-cli.jar")));
const runs = Number(opt("runs", "9"));
const warmup = Number(opt("warmup", "4"));
const maxNewTokens = Number(opt("max-new-tokens", "32"));
const query = opt("query", "What's the weather in Paris?");
const jsonOut = opt("json", null);
const CONCURRENT = Number(opt("concurrent", "8"));
// V8 flags for workerd (config v8Flags), to find where its memory goes: e.g. --v8-flags
// "--liftoff-only" (no optimizing compiles of the Wasm code), "--max-semi-space-size=1" (MiB)
// --rss-only: no heap snapshots (V8 builds a snapshot in malloc'd memory, which the process keeps:
// its RSS then counts the snapshots too); the isolate figures are then 0
const rssOnly = args.includes("--rss-only");
const v8Flags = (opt("v8-flags", "") ?? "").split(/\s+/).filter((f) => f !== "");
const PER_CLIENT = 3; // requests each of the 8 clients sends in the memory phase

const work = fs.mkdtempSync(path.join(os.tmpdir(), "needle-worker-bench-"));
const children = [];
const cleanup = () => {
  for (const c of children) {
    if (c.exitCode === null) c.kill("SIGTERM");
  }
  fs.rmSync(work, { recursive: true, force: true });
};
process.on("exit", cleanup);

// ---- the model files
let weightsPath = opt("weights", null);
let vocabPath = opt("vocab", path.join(repo, "..", "shared", "fixtures", "tokenizer", "vocab.txt"));
if (weightsPath === null) {
  weightsPath = path.join(work, "fullsize.safetensors");
  const gen = path.join(work, "WriteFullSize.java");
  fs.writeFileSync(gen, `public class WriteFullSize {
  public static void main(String[] a) throws Exception {
    java.nio.file.Files.write(java.nio.file.Paths.get(a[0]), io.needle.synthetic.ModelWriter.fullSize().seed(1).build());
  }
}
`);
  execFileSync("java", ["-cp", jar, gen, weightsPath], { stdio: "inherit" });
}
weightsPath = path.resolve(weightsPath);
vocabPath = path.resolve(vocabPath);
const weights = fs.readFileSync(weightsPath);
const vocab = fs.readFileSync(vocabPath, "utf8");

// ---- the bundle: a scratch copy of the Worker with the staged package, bundled offline
const project = path.join(work, "worker");
fs.cpSync(path.resolve(opt("src", path.join(workerDir, "src"))), path.join(project, "src"), { recursive: true });
fs.copyFileSync(path.join(workerDir, "wrangler.jsonc"), path.join(project, "wrangler.jsonc"));
fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "needle-worker-bench", private: true, type: "module" }));
fs.cpSync(pkg, path.join(project, "node_modules", "needle-java-wasm"), { recursive: true });
const nowhere = "http://127.0.0.1:9";
execFileSync(process.execPath, [path.join(workerDir, "node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"], {
  cwd: project,
  stdio: ["ignore", "ignore", "inherit"],
  env: {
    ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false", CLOUDFLARE_API_BASE_URL: nowhere + "/client/v4", npm_config_registry: nowhere + "/",
    XDG_CONFIG_HOME: path.join(work, "config"), WRANGLER_LOG_PATH: path.join(work, "wrangler-logs"), NO_COLOR: "1", CI: "true",
  },
});
const projectVars = JSON.parse(fs.readFileSync(path.join(workerDir, "wrangler.jsonc"), "utf8")
  .split("\n").filter((l) => !l.trim().startsWith("//")).join("\n"));

// ---- the files, served on 127.0.0.1
const files = http.createServer((req, res) => {
  const body = req.url === "/needle.safetensors" ? weights : req.url === "/vocab.txt" ? Buffer.from(vocab) : null;
  res.writeHead(body ? 200 : 404, { "content-length": body ? body.length : 0 });
  res.end(body ?? undefined);
});
const filesUrl = await listen(files);

// ---- workerd alone, serving the bundle
const port = await freePort();
const inspectorPort = await freePort();
const vars = { ...projectVars.vars, WEIGHTS_URL: filesUrl + "/needle.safetensors", VOCAB_URL: filesUrl + "/vocab.txt",
  MODEL_CACHE_SECONDS: "0", MAX_NEW_TOKENS: String(maxNewTokens) };
const wasmModules = fs.readdirSync(path.join(project, "dist")).filter((f) => f.endsWith(".wasm"))
  .map((f) => `(name = "${f}", wasm = embed "dist/${f}")`);
fs.writeFileSync(path.join(project, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker), (name = "loopback", network = (allow = ["local"])) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
  v8Flags = [ ${v8Flags.map((f) => JSON.stringify(f)).join(", ")} ]
);
const worker :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "dist/index.js"), ${wasmModules.join(", ")} ],
  compatibilityDate = "${projectVars.compatibility_date}",
  bindings = [ ${Object.entries(vars).map(([k, v]) => `(name = "${k}", text = ${JSON.stringify(String(v))})`).join(", ")} ],
  globalOutbound = "loopback",
);
`);
const workerd = spawn(path.join(workerDir, "node_modules", ".bin", "workerd"),
  ["serve", "--inspector-addr=127.0.0.1:" + inspectorPort, path.join(project, "config.capnp")], { stdio: ["ignore", "pipe", "pipe"] });
children.push(workerd);
let log = "";
process.on("uncaughtException", (e) => {
  console.error(e, "\nworkerd " + (workerd.exitCode === null ? "running" : "exited " + workerd.exitCode) + ":\n" + log);
  process.exit(1);
});
workerd.stdout.on("data", (d) => { log += d; });
workerd.stderr.on("data", (d) => { log += d; });
const url = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    await request("GET", url + "/health");
    break;
  } catch (e) {
    if (i > 300 || workerd.exitCode !== null) throw new Error("workerd does not answer:\n" + log + e);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- Node: the same package, the same files
const { default: init, NeedleWasm } = await import(pathToFileURL(path.join(pkg, "index.js")).href);
await init();
const catalogue = JSON.parse(fs.readFileSync(path.join(workerDir, "src", "catalogue.json"), "utf8"));
const toolsText = JSON.stringify(catalogue.tools.map(({ backend: _, ...tool }) => tool));
// the Wasm linear memory the load adds (the weights, one copy, and the kernels' buffers): V8 counts a
// Wasm memory as external memory in Node; workerd's inspector does not report it, and it is the
// same size there (the same package, model and code)
const outsideBuffers = () => { const u = process.memoryUsage(); return u.external - u.arrayBuffers; };
const externalBefore = outsideBuffers();
const engine = NeedleWasm.load(weights, vocab);
engine.runDetailed(query, toolsText, { maxNewTokens }); // the kernels' buffers grow on the first request
const linearMemory = outsideBuffers() - externalBefore;

// ---- memory before the model (workerd)
const rssBefore = workerdRss();
const smapsBefore = args.includes("--smaps") ? largestMappings() : "";
const isolateBefore = await isolateMemory();

// ---- the first request loads the model in workerd
let t0 = performance.now();
const first = await request("POST", url + "/route", { query });
const firstMs = performance.now() - t0;
if (first.status !== 200) throw new Error("/route failed: " + JSON.stringify(first.body) + log);
const health = (await request("GET", url + "/health")).body;
const rssLoaded = workerdRss();
if (args.includes("--smaps")) {
  console.log("workerd's largest mappings before the model:\n" + smapsBefore + "\nafter the load:\n" + largestMappings());
}
const isolateLoaded = await isolateMemory(args.includes("--heap-by-name"));

// ---- timing, alternating
const nodeMs = [];
const workerdMs = [];
const healthMs = [];
let nodeResult;
for (let i = -warmup; i < runs; i++) {
  t0 = performance.now();
  nodeResult = engine.runDetailed(query, toolsText, { maxNewTokens });
  const n = performance.now() - t0;
  t0 = performance.now();
  const r = await request("POST", url + "/route", { query });
  const w = performance.now() - t0;
  t0 = performance.now();
  await request("GET", url + "/health");
  const h = performance.now() - t0;
  if (r.body.text !== nodeResult.text) {
    throw new Error(`workerd answered ${JSON.stringify(r.body.text)}, Node ${JSON.stringify(nodeResult.text)}`);
  }
  if (i >= 0) {
    nodeMs.push(n);
    workerdMs.push(w);
    healthMs.push(h);
  }
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
// a longer tail of workerd runs: does its code get faster (tier-up) with more requests?
const tail = [];
for (let i = 0; i < 3 * runs; i++) {
  t0 = performance.now();
  await request("POST", url + "/route", { query });
  tail.push(performance.now() - t0);
}

const rssWarm = workerdRss();
const smapsWarm = args.includes("--smaps") ? largestMappings() : "";
const isolateWarm = await isolateMemory();

// ---- memory while 8 requests run at once
let rssPeak = 0;
const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, workerdRss()); }, 5);
let isolateDuring = null;
const clients = [];
for (let c = 0; c < CONCURRENT; c++) {
  clients.push((async () => {
    for (let k = 0; k < PER_CLIENT; k++) {
      const r = await request("POST", url + "/route", { query });
      if (r.status !== 200) throw new Error("/route under load: " + JSON.stringify(r.body));
    }
  })());
}
await new Promise((r) => setTimeout(r, 200)); // all 8 are in workerd by now
isolateDuring = await isolateMemory(args.includes("--heap-by-name")); // the others waiting
await Promise.all(clients);
clearInterval(sampler);
rssPeak = Math.max(rssPeak, workerdRss());
const rssAfter = workerdRss();
if (args.includes("--smaps")) {
  console.log(`after the ${warmup + runs + tail.length} timed requests:\n${smapsWarm}\nafter the ${CONCURRENT} x ${PER_CLIENT} requests at once:\n${largestMappings()}`);
}

const f = (v, d = 1) => v.toFixed(d);
const mib = (b) => (b / 1048576).toFixed(1) + " MiB";
const nodeMed = median(nodeMs);
const workerdMed = median(workerdMs);
const isolateAdded = isolateDuring.objects - isolateBefore.objects + linearMemory;
console.log(`\nThe Worker's request in Node and in workerd, same run: Node ${process.version}, workerd ${execFileSync(path.join(workerDir, "node_modules", ".bin", "workerd"), ["--version"], { encoding: "utf8" }).trim()}; `
  + `load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
console.log(`model ${path.basename(weightsPath)} (${mib(weights.length)}), vocabulary ${vocabPath}; SIMD kernels: Node ${engine.simd}, workerd ${health.model?.simd}`);
console.log(`request: /route ${JSON.stringify(query)} over the bundled catalogue (${catalogue.tools.length} tools): `
  + `${nodeResult.timings.prefillTokens} encoder tokens, ${nodeResult.timings.decodeTokens} decode steps (max ${maxNewTokens}); same text both ways`);
console.log(`medians of ${runs} after ${warmup}, alternating: Node ${f(nodeMed)} ms (encode ${f(nodeResult.timings.encodeMs)} ms, decode ${f(nodeResult.timings.decodeMs)} ms in the last run), `
  + `workerd ${f(workerdMed)} ms (client wall clock; /health round trip ${f(median(healthMs))} ms); workerd/Node ${f(workerdMed / nodeMed, 2)}x`);
console.log(`workerd over ${tail.length} more requests: first third ${f(median(tail.slice(0, runs)))} ms, last third ${f(median(tail.slice(-runs)))} ms; `
  + `the first request (download + load + run) ${f(firstMs, 0)} ms (engine load ${health.model?.load_ms} ms)`);
console.log(`memory, workerd: the model adds to the isolate +${mib(isolateAdded)} while ${CONCURRENT} requests run at once: `
  + `live objects ${mib(isolateBefore.objects)} before the model, ${mib(isolateDuring.objects)} then (+${mib(isolateDuring.objects - isolateBefore.objects)}; `
  + `a heap snapshot after a full collection), plus the Wasm linear memory the load adds (+${mib(linearMemory)}, measured in Node); `
  + `V8's heap in use (with garbage made since that collection) +${mib(isolateDuring.used - isolateBefore.used)}; `
  + `process RSS ${mib(rssBefore)} before, peak ${mib(rssPeak)} during: +${mib(rssPeak - rssBefore)} (after: ${mib(rssAfter)})`);
console.log(`  on the way: after the model loaded (one request) live objects +${mib(isolateLoaded.objects - isolateBefore.objects)}, RSS +${mib(rssLoaded - rssBefore)}; `
  + `after the ${warmup + runs + tail.length} timed requests live objects +${mib(isolateWarm.objects - isolateBefore.objects)}, RSS +${mib(rssWarm - rssBefore)}`);
if (jsonOut) {
  fs.writeFileSync(jsonOut, JSON.stringify({
    node: process.version, loadavg: os.loadavg(), runs, warmup, query, maxNewTokens, simd: { node: engine.simd, workerd: health.model?.simd },
    prefillTokens: nodeResult.timings.prefillTokens, decodeTokens: nodeResult.timings.decodeTokens,
    linearMemory, nodeMs, workerdMs, healthMs, tail, firstMs, isolateBefore, isolateLoaded, isolateWarm, isolateDuring, rssBefore, rssLoaded, rssWarm, rssPeak, rssAfter,
  }, null, 1));
}
engine.free();
files.close();
workerd.kill("SIGTERM");
process.exit(0);

// ---- helpers

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

function freePort() {
  return new Promise((resolve) => {
    const s = http.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** One HTTP request on a fresh connection (no keep-alive: workerd closes idle ones): { status, body }. */
function request(method, target, body) {
  const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(target, {
      method, agent: false, timeout: 120_000,
      headers: data === null ? {} : { "content-type": "application/json", "content-length": data.length },
    }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode, body: parsed });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(method + " " + target + ": no answer in 120 s")));
    req.on("error", reject);
    req.end(data ?? undefined);
  });
}

/** workerd's 12 largest mappings by resident size, one a line (a diagnosis aid: --smaps). */
function largestMappings() {
  const maps = [];
  let cur = null;
  for (const line of fs.readFileSync(`/proc/${workerd.pid}/smaps`, "utf8").split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      const [from, to] = line.split(" ")[0].split("-").map((x) => parseInt(x, 16));
      cur = { head: line.replace(/\s+/g, " "), size: to - from, rss: 0 };
      maps.push(cur);
    } else if (line.startsWith("Rss:")) {
      cur.rss = Number(line.split(/\s+/)[1]) * 1024;
    }
  }
  maps.sort((a, b) => b.rss - a.rss);
  return maps.slice(0, 12).map((m) => `  ${(m.rss / 1048576).toFixed(1)} of ${(m.size / 1048576).toFixed(1)} MiB  ${m.head}`).join("\n");
}

/** Prints the 12 largest kinds of objects of a heap snapshot (a diagnosis aid: --heap-by-name). */
function heapByName(snap) {
  const f = snap.snapshot.meta.node_fields;
  const [si, ni, ti] = ["self_size", "name", "type"].map((k) => f.indexOf(k));
  const types = snap.snapshot.meta.node_types[ti];
  const by = new Map();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const key = types[snap.nodes[i + ti]] + ":" + snap.strings[snap.nodes[i + ni]].slice(0, 50).replace(/\s+/g, " ");
    by.set(key, (by.get(key) ?? 0) + snap.nodes[i + si]);
  }
  console.log([...by].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `  ${(v / 1048576).toFixed(2)} MiB ${k}`).join("\n"));
}

/** workerd's resident set in bytes. */
function workerdRss() {
  return 1024 * Number(/^VmRSS:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${workerd.pid}/status`, "utf8"))[1]);
}

/**
 * The isolate's memory through workerd's inspector: a heap snapshot (V8 takes it after a full
 * collection), then Runtime.getHeapUsage: { objects (the snapshot's), used, buffers, total }.
 */
async function isolateMemory(printKinds = false) {
  if (rssOnly) {
    return { objects: 0, used: 0, buffers: 0, heapTotal: 0 };
  }
  const { usage: u, snapshot: snap } = await isolateHeapAt(inspectorPort, { keepSnapshot: true, timeoutMs: 120_000 });
  if (printKinds) {
    heapByName(snap);
  }
  // the snapshot's objects (live after its full collection), without ArrayBuffer contents (the
  // Wasm linear memory shows there whenever a JavaScript view of it is alive)
  const f = snap.snapshot.meta.node_fields;
  const [si, ni, ti] = ["self_size", "name", "type"].map((k) => f.indexOf(k));
  let objects = 0;
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const name = snap.strings[snap.nodes[i + ni]];
    if (!(snap.snapshot.meta.node_types[ti][snap.nodes[i + ti]] === "native" && name.includes("JSArrayBufferData"))) {
      objects += snap.nodes[i + si];
    }
  }
  return { objects, used: u.usedSize, buffers: u.backingStorageSize ?? 0, heapTotal: u.totalSize };
}
