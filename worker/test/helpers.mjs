// Shared by the Worker's tests: the generated models, the JVM engine as the reference (the CLI's
// `run --jsonl`), local HTTP servers (model files, recording backends) and the Worker itself run by
// `wrangler dev` in workerd. Everything listens on 127.0.0.1; Wrangler is told not to reach the
// network. scripts/test.sh sets the environment variables read here.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { closeServer, dirFromEnv as fromEnv, freePort, listen } from "../../node-support/test-helpers.mjs";
import { isolateHeapAt } from "./isolate-heap.mjs";

export { freePort } from "../../node-support/test-helpers.mjs";

const dirFromEnv = (name) => fromEnv(name, "scripts/test.sh");

export const TEST_DIR = path.dirname(fileURLToPath(import.meta.url));
export const WORKER_DIR = path.dirname(TEST_DIR);
/** Generated models and vocabularies (wasm-bridge's NodeFixturesTest writes them). */
export const NODE_FIXTURES = dirFromEnv("NEEDLE_NODE_FIXTURES");
/** ../shared (the real vocabulary is in fixtures/tokenizer). */
export const SHARED = dirFromEnv("NEEDLE_SHARED");
/** The JVM command line (cli/TARGET/needle-cli.jar). */
export const CLI_JAR = dirFromEnv("NEEDLE_CLI_JAR");
/** A scratch folder for Wrangler configurations, state and bundles. */
export const WORK = dirFromEnv("NEEDLE_WORKER_WORK");
export const WRANGLER = path.join(WORKER_DIR, "node_modules", "wrangler", "bin", "wrangler.js");

export const model = (name) => ({
  name,
  weights: path.join(NODE_FIXTURES, name + ".safetensors"),
  vocab: path.join(NODE_FIXTURES, name + ".vocab.txt"),
});
export const fullSizeModel = () => ({
  name: "fullsize",
  weights: path.join(NODE_FIXTURES, "fullsize.safetensors"),
  vocab: path.join(SHARED, "fixtures", "tokenizer", "vocab.txt"),
});

/**
 * The environment Wrangler runs in: no metrics, error reports, banner (and its update check) or
 * cf-object fetch; and should anything still try, the Cloudflare API and the npm registry (update
 * checks) point at a closed port of 127.0.0.1. Its logs, settings and dev registry stay in WORK.
 */
export function wranglerEnv() {
  const nowhere = "http://127.0.0.1:9";
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    CLOUDFLARE_API_BASE_URL: nowhere + "/client/v4",
    npm_config_registry: nowhere + "/",
    XDG_CONFIG_HOME: path.join(WORK, "config"),
    WRANGLER_REGISTRY_PATH: path.join(WORK, "dev-registry"),
    WRANGLER_LOG_PATH: path.join(WORK, "wrangler-logs"),
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    CI: "true",
  };
}

/** The Worker's own wrangler.jsonc (whole-line // comments stripped). */
export function projectConfig() {
  const text = fs.readFileSync(path.join(WORKER_DIR, "wrangler.jsonc"), "utf8");
  return JSON.parse(text.split("\n").filter((l) => !l.trim().startsWith("//")).join("\n"));
}

/**
 * The JVM engine's answers: one `needle run --jsonl` process for many (query, tools, max,
 * require_call?) inputs. `tools` is the JSON text the Worker gives the engine. Returns the --json objects, in order, as
 * the Worker's JSON answers carry them: through JSON.stringify, which writes a number -0 as 0 (the
 * model may write an integer argument as "-0"; `text` keeps it, and a backend receives 0 either way).
 */
export function jvmRun(m, inputs) {
  const stdin = inputs.map((i) => JSON.stringify({
    query: i.query, tools: i.tools, max_new_tokens: i.max_new_tokens, require_call: i.require_call,
  })).join("\n") + "\n";
  const out = execFileSync("java", ["-jar", CLI_JAR, "run", "--jsonl", "--weights", m.weights, "--vocab", m.vocab],
    { input: stdin, maxBuffer: 1 << 26, timeout: 300_000 }).toString("utf8");
  const lines = out.trimEnd().split("\n");
  assert.equal(lines.length, inputs.length, "one JVM answer per input:\n" + out);
  return lines.map((l, i) => {
    assert.ok(!l.startsWith("error:"), `the JVM failed on input ${i}: ${l}`);
    return JSON.parse(JSON.stringify(JSON.parse(l)));
  });
}

/**
 * Serves files at /NAME, counting the requests per path. `behave(name, how)` switches a path to
 * { status } (an error), { bytes } (other content) or { delayMs } before answering.
 */
export async function fileServer(files) {
  const counts = {};
  const behaviour = {};
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, "http://x").pathname.slice(1));
    counts[name] = (counts[name] ?? 0) + 1;
    const how = behaviour[name] ?? {};
    const answer = () => {
      if (!(name in files)) {
        res.writeHead(404).end("no such file");
      } else if (how.status) {
        res.writeHead(how.status, { "content-type": "text/plain" }).end("refused by the test");
      } else {
        const bytes = how.bytes ?? fs.readFileSync(files[name]);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length }).end(bytes);
      }
    };
    if (how.delayMs) setTimeout(answer, how.delayMs);
    else answer();
  });
  const base = await listen(server);
  return {
    url: (name) => `${base}/${encodeURIComponent(name)}`,
    count: (name) => counts[name] ?? 0,
    behave: (name, how) => { behaviour[name] = how; },
    close: () => closeServer(server),
  };
}

/**
 * A backend that records every request ({method, path, query, headers, body, url: the request
 * target as sent}) and answers JSON (per path: { status, json } or { text } or { hang: true },
 * with { headers } more headers; default 200 with what it got).
 */
export async function recordingBackend() {
  const received = [];
  const answers = {};
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url, "http://x");
      const record = {
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        url: req.url,
      };
      received.push(record);
      const a = answers[url.pathname] ?? {};
      if (a.hang) return; // never answers (the Worker's timeout must fire)
      if (a.text !== undefined) {
        res.writeHead(a.status ?? 200, { "content-type": "text/plain", ...a.headers }).end(a.text);
        return;
      }
      const body = JSON.stringify(a.json ?? { handled: record.path, method: record.method, got: gotOf(record) });
      res.writeHead(a.status ?? 200, { "content-type": "application/json", ...a.headers }).end(body);
    });
  });
  const base = await listen(server);
  return {
    base,
    received,
    answer: (p, a) => { if (a === undefined) delete answers[p]; else answers[p] = a; },
    close: () => closeServer(server),
  };
}

/** What a backend got: its JSON body, or its query when there is no body. */
export function gotOf(record) {
  return record.body === "" ? record.query : JSON.parse(record.body);
}

/** The process groups of the `wrangler dev`s started here: killed if this process ends first. */
const running = new Set();
function killRunning() {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}
process.once("exit", killRunning);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    killRunning();
    process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
  });
}

/**
 * Runs the Worker (worker/src/index.js) with `wrangler dev` on 127.0.0.1: the project's
 * wrangler.jsonc with `vars` overriding its vars, plus `services` and auxiliary Workers
 * ({ name, main }) for service bindings, and `config` (more configuration: r2_buckets…);
 * `keepState` keeps the local state (Cache API, R2…) of an earlier run with the same name.
 * Resolves when /health answers; `stop()` ends it.
 */
export async function startWorker({ name, vars = {}, services = [], auxiliaries = [], keepState = false, config: extra = {} }) {
  const project = projectConfig();
  const dir = path.join(WORK, name);
  if (!keepState) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(dir, { recursive: true });
  const config = {
    name: "needle-worker-" + name,
    main: path.join(WORKER_DIR, project.main),
    compatibility_date: project.compatibility_date,
    vars: { ...project.vars, ...vars },
    services,
    ...extra,
  };
  const configs = [path.join(dir, "wrangler.json")];
  fs.writeFileSync(configs[0], JSON.stringify(config, null, 2));
  for (const aux of auxiliaries) {
    const file = path.join(dir, aux.name + ".wrangler.json");
    fs.writeFileSync(file, JSON.stringify({ name: aux.name, main: aux.main, compatibility_date: project.compatibility_date }));
    configs.push(file);
  }
  const port = await freePort();
  const inspector = await freePort();
  const args = [WRANGLER, "dev", ...configs.flatMap((c) => ["-c", c]), "--ip", "127.0.0.1", "--port", String(port),
    "--inspector-ip", "127.0.0.1", "--inspector-port", String(inspector), "--persist-to", path.join(dir, "state"),
    "--show-interactive-dev-session=false", "--log-level", "warn"];
  const child = spawn(process.execPath, args, { cwd: dir, env: wranglerEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
  running.add(child.pid);
  child.once("exit", () => running.delete(child.pid));
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      try {
        process.kill(-child.pid, "SIGTERM"); // wrangler and the workerd it started (its process group)
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`wrangler dev exited with ${child.exitCode}:\n${log}`);
    }
    try {
      const r = await fetch(url + "/health", { signal: AbortSignal.timeout(5000) });
      await r.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error("wrangler dev did not answer on " + url + " within 90 s:\n" + log);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { url, stop, log: () => log, pid: child.pid, inspectorPort: inspector };
}

/**
 * Runs `needle serve` (the JVM command line's OpenAI-compatible server) on a free port of 127.0.0.1
 * with model `m` and the environment `env` (NEEDLE_API_KEY…); resolves when it prints its URL:
 * { baseURL (…/v1), stop(), log() }.
 */
export async function startNeedleServe(m, env = {}) {
  const child = spawn("java", ["-jar", CLI_JAR, "serve", "--weights", m.weights, "--vocab", m.vocab, "--host", "127.0.0.1",
    "--port", "0"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  running.add(child.pid);
  child.once("exit", () => running.delete(child.pid));
  let out = "";
  let log = "";
  child.stderr.on("data", (d) => { log += d; });
  const baseURL = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("needle serve did not start within 120 s:\n" + out + log)), 120_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^needle serve: (http:\/\/127\.0\.0\.1:\d+\/v1) /m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`needle serve exited with ${code}:\n${out}${log}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  };
  return { baseURL, stop, log: () => log };
}

/** The resident memory (KiB) of the workerd processes a wrangler dev (by its process id) runs. */
export function workerdRssKiB(rootPid) {
  const children = new Map();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // gone
    }
  }
  let total = 0;
  const walk = (pid) => {
    for (const c of children.get(pid) ?? []) {
      try {
        const status = fs.readFileSync(`/proc/${c}/status`, "utf8");
        if (/^Name:\s*workerd/m.test(status)) {
          total += Number(/^VmRSS:\s*(\d+)/m.exec(status)?.[1] ?? 0);
        }
      } catch {
        // gone
      }
      walk(c);
    }
  };
  walk(rootPid);
  return total;
}

/** POST a JSON value (or raw text with { raw }) and return { status, headers, body (parsed JSON) }. */
export async function post(url, value, { raw, headers } = {}) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: raw ?? JSON.stringify(value),
    signal: AbortSignal.timeout(120_000),
  });
  return { status: r.status, headers: r.headers, body: await jsonOf(r) };
}

export async function get(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  return { status: r.status, headers: r.headers, body: await jsonOf(r) };
}

async function jsonOf(r) {
  const text = await r.text();
  assert.match(r.headers.get("content-type") ?? "", /^application\/json/, "a JSON answer: " + text);
  return JSON.parse(text);
}

/** An error answer: JSON {error: {status, code, message}}, the given status and code, no stack trace. */
export function assertError(res, status, code, messagePattern) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error?.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code, JSON.stringify(res.body));
  assert.equal(typeof res.body.error.message, "string");
  if (messagePattern) assert.match(res.body.error.message, messagePattern);
  const text = JSON.stringify(res.body);
  assert.doesNotMatch(text, /\bat [\w.<>]+ \(|\.js:\d+:\d+|\\n\s+at /, "no stack trace: " + text);
  assert.deepEqual(Object.keys(res.body), ["error"]);
}

/**
 * The V8 heap of the Worker's isolate, after a full garbage collection, through `wrangler dev`'s
 * inspector: { usedSize, totalSize, backingStorageSize } in bytes (backingStorageSize: ArrayBuffers,
 * WebAssembly memories included). A few tries: wrangler's proxy answers a session's first messages
 * unreliably.
 */
export async function isolateHeap(worker) {
  return (await isolateHeapAt(worker.inspectorPort, { tries: 3 })).usage;
}

/** Queries: the model is random, so what matters is the variety of outputs they give. */
export const QUERIES = [
  "What's the weather in Paris?", "Wake me up at 7", "Text Alice that I'm late", "Where is my order 12345?",
  "Play some jazz", "Is it raining in London and play rock", "Set an alarm for 8:30 every day", "Tell Bob hi",
  "weather tokyo fahrenheit", "Play loud pop music", "hello", "What time is it?", "Book a table", "Turn it up",
  "Order status please", "Send a message to Carol", "Weather forecast for tomorrow", "Alarm at seven", "Play music",
  "Check order 42 and text Dan", "Remind me", "What's the temperature", "Call mom", "Is it sunny?",
  "Stop the music", "How cold is it in Tokyo?", "Message Eve: dinner at 8", "Track package 998",
  "Wake me at 8:30 tomorrow", "Put on some rock", "Do I need an umbrella in London?", "Text my boss I'm sick",
  "Where's order 7?", "Weather in Paris in celsius please", "Play pop quietly", "Set two alarms",
  "Send hi to Frank and play jazz", "Order 555 status and weather in Tokyo", "Good morning", "Thanks!",
  "Alarm 7am daily", "London weather fahrenheit", "Jazz please", "What's up", "Text Grace",
  "Has my order shipped?", "Rock music loud", "Paris forecast", "Wake up call at 08:30", "Any news?",
  "Réveille-moi à 7h ☀️ — 東京の天気は?", "",
];
