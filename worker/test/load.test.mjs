// The Worker under load (issue 8, part 3): a bounded loopback load test against the Worker in
// workerd (`wrangler dev` on 127.0.0.1), with the smallest generated model so that the test is
// about the Worker rather than the model's arithmetic.
//
// A fixed, seeded schedule of requests (LOAD_REQUESTS, 8 at a time, stopping by itself after
// LOAD_TIME_LIMIT_MS at the latest) mixes valid /route (catalogue tools, own tools, token
// budgets, long and odd queries), /dispatch (with local recording backends) and /health requests
// with hostile ones: malformed JSON, bodies that are not objects or have wrong fields, unknown
// tools, tools the engine refuses (nesting beyond its JSON depth limit), oversize bodies (by
// Content-Length and chunked), deep nesting, wrong paths and methods, and clients that hang up.
// It checks that every valid request answers exactly what the JVM engine answers for the same
// input (so no engine state leaks between requests, whatever ran before), every hostile one a 4xx
// JSON error of its class, that the isolate's memory is flat across the run, and that a fixed
// request answers the same at the end as at the start.
//
// Memory: the isolate's V8 heap after a full collection (what Workers' 128 MB limit is about) must
// stay flat. workerd's RSS is reported, not checked: under `wrangler dev` it grows by some tens of
// KB per request whatever the Worker does (a Worker answering a constant grows as much), from
// Wrangler's own instrumentation; workerd serving the bundle alone stays flat.
//
// NEEDLE_LOAD_REQUESTS and NEEDLE_LOAD_SECONDS override the number of requests and the time limit
// (e.g. a longer soak run by hand).
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { after, before, test } from "node:test";
import { random } from "../../node-support/test-helpers.mjs";
import {
  assertError, fileServer, isolateHeap, jvmRun, model, post, recordingBackend, startWorker, workerdRssKiB,
} from "./helpers.mjs";

const MODEL = model("tiny-drelu"); // the smallest generated model (51 KB, vocabulary of 512)
const LOAD_REQUESTS = Number(process.env.NEEDLE_LOAD_REQUESTS ?? 3000);
const CONCURRENCY = 8;
// the load stops issuing requests after this, done or not (NEEDLE_LOAD_SECONDS for a longer run)
const LOAD_TIME_LIMIT_MS = 1000 * Number(process.env.NEEDLE_LOAD_SECONDS ?? 150);
const WARM_UP = 200; // requests before the first memory measurement
const ROUNDS = 4; // memory is measured after each
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_NEW_TOKENS = 64;
const MAX_BODY_BYTES = 8192;

/** Queries of every sort: short, empty, non-ASCII, lone surrogates, longer than the encoder. */
const QUERIES = [
  "What's the weather in Paris?", "Is my order 1042 on its way?", "Open a ticket: the app crashes on login",
  "Get me a human please", "weather tokyo and order 7", "hello", "", "Réveille-moi à 7h ☀️ — 東京の天気は?",
  "order status for 12345 and then open a high priority ticket", "Thanks!", "\ud800 lone \udfff surrogates",
  "Where is order 98765?", "Text \"quoted\" \\ backslash\nnewline\ttab", "🚀".repeat(40),
  // longer than the encoder's 1024 tokens: the truncation rule (and the body stays under the cap)
  "please check the weather and my order ".repeat(150),
];

let files;
let backend;
let worker;
let catalogue;
let engineTools; // the catalogue's tools as the engine reads them
let expected; // QUERIES over the catalogue, from the JVM
let ownCases; // /route requests with their own tools and budgets, and the JVM's answers

function makeCatalogue(base) {
  return {
    tools: [
      {
        name: "get_weather", description: "Get the current weather for a city",
        parameters: { location: { type: "string", description: "City", required: true }, units: { type: "string", enum: ["celsius", "fahrenheit"], required: false } },
        backend: { url: base + "/weather", method: "POST", args: "json" },
      },
      {
        name: "get_order_status", description: "Look up the status of an order",
        parameters: { type: "object", properties: { order_id: { type: "integer", description: "The order number" } }, required: ["order_id"] },
        backend: { url: base + "/orders/{order_id}", method: "GET" },
      },
      {
        type: "function",
        function: {
          name: "create_ticket", description: "Open a support ticket",
          parameters: { type: "object", properties: { title: { type: "string" }, priority: { type: "string", enum: ["low", "normal", "high"] } }, required: ["title"] },
        },
        backend: { url: base + "/tickets", method: "POST", args: "json" },
      },
      { name: "talk_to_a_human", description: "Hand the conversation over to a person", parameters: {} },
    ],
  };
}

const OWN_TOOL = { name: "play_music", description: "Play music", parameters: { genre: { type: "string", enum: ["jazz", "rock"], required: true }, loud: { type: "boolean", required: false } } };
const OPENAI_TOOL = {
  type: "function",
  function: { name: "book_flight", description: "Book a flight", parameters: { type: "object", properties: { to: { type: "string" }, seats: { type: "integer" } }, required: ["to"] } },
};

before(async () => {
  files = await fileServer({ "needle.safetensors": MODEL.weights, "vocab.txt": MODEL.vocab });
  backend = await recordingBackend();
  catalogue = makeCatalogue(backend.base);
  engineTools = catalogue.tools.map(({ backend: _, ...t }) => t);
  const own = [
    { request: { query: "Play some jazz", tools: [OWN_TOOL] }, engine: [OWN_TOOL] },
    { request: { query: "Fly me to Rome, 2 seats", tools: [OPENAI_TOOL, "get_weather"], max_new_tokens: 40 }, engine: [OPENAI_TOOL, engineTools[0]] },
    { request: { query: "weather then music", tools: ["get_weather", OWN_TOOL, "create_ticket"], max_new_tokens: 7 }, engine: [engineTools[0], OWN_TOOL, engineTools[2]] },
    { request: { query: "Anything", tools: [] }, engine: [] },
    { request: { query: "Wake me up at 7", max_new_tokens: 0 }, engine: engineTools, max: 0 },
    { request: { query: "Where is order 5?", max_new_tokens: 64 }, engine: engineTools },
  ];
  const inputs = [
    ...QUERIES.map((query) => ({ query, tools: JSON.stringify(engineTools), max_new_tokens: MAX_NEW_TOKENS })),
    ...own.map((c) => ({ query: c.request.query, tools: JSON.stringify(c.engine), max_new_tokens: c.request.max_new_tokens ?? MAX_NEW_TOKENS })),
  ];
  const jvm = jvmRun(MODEL, inputs);
  expected = jvm.slice(0, QUERIES.length);
  ownCases = own.map((c, i) => ({ request: c.request, jvm: jvm[QUERIES.length + i] }));
  worker = await startWorker({
    name: "load",
    vars: {
      WEIGHTS_URL: files.url("needle.safetensors"),
      VOCAB_URL: files.url("vocab.txt"),
      MODEL_CACHE_SECONDS: "0",
      MAX_NEW_TOKENS: String(MAX_NEW_TOKENS),
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      BACKEND_TIMEOUT_MS: "10000",
      CATALOGUE: catalogue,
    },
  });
});

after(async () => {
  await worker?.stop();
  await files?.close();
  await backend?.close();
});


/** An answer as the engine's: text, calls, complete and the token counts equal the JVM's. */
function assertSameAsJvm(body, jvm, what) {
  assert.equal(body.text, jvm.text, what);
  assert.deepEqual(body.calls, jvm.calls, what);
  assert.equal(body.complete, jvm.complete, what);
  assert.equal(body.timings.prefill_tokens, jvm.timings.prefill_tokens, what);
  assert.equal(body.timings.decode_tokens, jvm.timings.decode_tokens, what);
}

const MALFORMED_JSON = [
  '{"query": "hi",', "not json", "", '{"query": "unterminated}', "[1, 2", '{"query": "a"} trailing', "NaN",
  "{'query': 'single quotes'}", '{"query": "a",}', "\u0000", '{"query": "\\x41"}', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
  Buffer.from('{"query": "caf\xe9"}', "latin1"), "{".repeat(4000),
];

const INVALID_REQUESTS = [
  { path: "/route", body: [], message: /JSON object/ },
  { path: "/route", body: "a string", message: /JSON object/ },
  { path: "/route", body: 42, message: /JSON object/ },
  { path: "/route", body: null, message: /JSON object/ },
  { path: "/route", body: {}, message: /"query" is missing/ },
  { path: "/route", body: { query: 5 }, message: /"query" must be a string/ },
  { path: "/route", body: { query: "hi", extra: 1 }, message: /unknown field "extra"/ },
  { path: "/route", body: { query: "hi", tools: "get_weather" }, message: /"tools" must be an array/ },
  { path: "/route", body: { query: "hi", tools: [42] }, message: /tools\[0\]/ },
  { path: "/route", body: { query: "hi", tools: [{ description: "no name" }] }, message: /needs a "name"/ },
  { path: "/route", body: { query: "hi", max_new_tokens: 512 }, message: /max_new_tokens/ },
  { path: "/route", body: { query: "hi", max_new_tokens: -1 }, message: /max_new_tokens/ },
  { path: "/route", body: { query: "hi", max_new_tokens: "8" }, message: /max_new_tokens/ },
  { path: "/dispatch", body: { query: "hi", tools: [] }, message: /no "tools"/ },
  { path: "/dispatch", body: {}, message: /"query" is missing/ },
  { path: "/dispatch", body: { query: "hi", max_new_tokens: 3 }, message: /unknown field/ },
  // nesting that JSON.parse takes but is no request: an array body, a tool that is an array
  { path: "/route", raw: "[".repeat(3000) + "]".repeat(3000), message: /JSON object/ },
  { path: "/route", raw: '{"query":"hi","tools":' + "[".repeat(3000) + "]".repeat(3000) + "}", message: /tools\[0\]/ },
];

/** A tool whose parameters nest deeper than the engine's JSON limit (Json.MAX_DEPTH = 512). */
function deepTool(depth) {
  return '{"query":"hi","tools":[{"name":"deep","parameters":' + '{"a":'.repeat(depth) + "1" + "}".repeat(depth) + "}]}";
}

/**
 * The kinds of request, with their share of the schedule: `make(rng)` gives the request
 * ({ method, path, body | raw | stream, abandon }), `check(res)` throws when the answer is wrong.
 */
const KINDS = [
  {
    name: "route", valid: true, weight: 30,
    make: (rng) => {
      const k = Math.floor(rng() * QUERIES.length);
      return { path: "/route", body: { query: QUERIES[k] }, k };
    },
    check: (res, req) => {
      assert.equal(res.status, 200, res.text);
      assertSameAsJvm(res.body, expected[req.k], `/route ${JSON.stringify(QUERIES[req.k]).slice(0, 80)}`);
    },
  },
  {
    name: "route-own-tools", valid: true, weight: 14,
    make: (rng) => {
      const k = Math.floor(rng() * ownCases.length);
      return { path: "/route", body: ownCases[k].request, k };
    },
    check: (res, req) => {
      assert.equal(res.status, 200, res.text);
      assertSameAsJvm(res.body, ownCases[req.k].jvm, "/route " + JSON.stringify(ownCases[req.k].request).slice(0, 80));
    },
  },
  {
    name: "dispatch", valid: true, weight: 15,
    make: (rng) => {
      const k = Math.floor(rng() * QUERIES.length);
      return { path: "/dispatch", body: { query: QUERIES[k] }, k };
    },
    check: (res, req) => {
      assert.equal(res.status, 200, res.text);
      const what = `/dispatch ${JSON.stringify(QUERIES[req.k]).slice(0, 80)}`;
      assertSameAsJvm(res.body, expected[req.k], what);
      const results = res.body.results;
      assert.ok(Array.isArray(results), what);
      if (expected[req.k].complete) assert.equal(results.length, expected[req.k].calls.length, what);
      for (const r of results) {
        if (r.dispatched) {
          // the local backends answer every request: a failure here is the Worker's
          assert.equal(r.status, 200, what + ": " + JSON.stringify(r));
          assert.equal(typeof r.response?.handled, "string", what + ": " + JSON.stringify(r));
          dispatchedCalls++;
        } else {
          assert.equal(typeof r.reason, "string", what);
        }
      }
    },
  },
  {
    name: "health", valid: true, weight: 3,
    make: () => ({ method: "GET", path: "/health" }),
    check: (res) => {
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, "ok");
      assert.equal(res.body.model.state, "loaded");
    },
  },
  {
    name: "malformed-json", weight: 10,
    make: (rng) => ({ path: rng() < 0.5 ? "/route" : "/dispatch", raw: MALFORMED_JSON[Math.floor(rng() * MALFORMED_JSON.length)] }),
    check: (res) => assertError(res, 400, "invalid_json"),
  },
  {
    name: "invalid-request", weight: 9,
    make: (rng) => {
      const c = INVALID_REQUESTS[Math.floor(rng() * INVALID_REQUESTS.length)];
      return { path: c.path, raw: c.raw ?? JSON.stringify(c.body), message: c.message };
    },
    check: (res, req) => assertError(res, 400, "invalid_request", req.message),
  },
  {
    name: "unknown-tool", weight: 5,
    make: (rng) => {
      const name = ["book_flight", "GET_WEATHER", "", "get_weather ", "constructor", "__proto__"][Math.floor(rng() * 6)];
      return { path: "/route", body: { query: "hi", tools: ["get_weather", name] }, tool: name };
    },
    check: (res, req) => {
      assertError(res, 400, "unknown_tool");
      assert.equal(res.body.error.tool, req.tool);
    },
  },
  {
    name: "engine-refused", weight: 3,
    make: () => ({ path: "/route", raw: deepTool(600) }),
    check: (res) => {
      assertError(res, 400, "invalid_request", /deep|nest|depth/i);
      assert.equal(res.body.error.kind, "JSON");
    },
  },
  {
    name: "oversize", weight: 5,
    make: (rng) => {
      const size = MAX_BODY_BYTES + 1 + Math.floor(rng() * 3 * MAX_BODY_BYTES);
      if (rng() < 0.5) {
        return { path: rng() < 0.5 ? "/route" : "/dispatch", raw: JSON.stringify({ query: "x".repeat(size) }) };
      }
      return { path: "/route", stream: size }; // chunked: no Content-Length, refused while reading
    },
    check: (res) => assertError(res, 413, "payload_too_large"),
  },
  {
    name: "not-found", weight: 1,
    make: (rng) => {
      const method = rng() < 0.5 ? "GET" : "POST";
      const path = ["/", "/routes", "/route/x", "/%00", "/dispatch/../health2"][Math.floor(rng() * 5)];
      return { method, path, body: method === "POST" ? { query: "hi" } : undefined };
    },
    check: (res) => assertError(res, 404, "not_found"),
  },
  {
    name: "wrong-method", weight: 2,
    make: (rng) => {
      const [method, path] = [["GET", "/route"], ["PUT", "/route"], ["DELETE", "/dispatch"], ["POST", "/health"], ["PATCH", "/health"]][Math.floor(rng() * 5)];
      return { method, path, body: method === "GET" || method === "DELETE" ? undefined : { query: "hi" } };
    },
    check: (res) => assertError(res, 405, "method_not_allowed"),
  },
  {
    // a client that hangs up before the answer: whatever happens to it, the Worker goes on
    name: "abandoned", weight: 3,
    make: (rng) => ({ path: rng() < 0.5 ? "/route" : "/dispatch", body: { query: QUERIES[Math.floor(rng() * QUERIES.length)] }, abandon: 1 + Math.floor(rng() * 5) }),
    check: () => {},
  },
];

let dispatchedCalls = 0; // calls /dispatch made to the backends
let abandoned = 0; // requests the client gave up before the answer

function chunkedBody(size) {
  const piece = new TextEncoder().encode("y".repeat(1000));
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent === 0) {
        c.enqueue(new TextEncoder().encode('{"query":"'));
      }
      if (sent >= size) {
        c.close();
        return;
      }
      c.enqueue(piece);
      sent += piece.length;
    },
  });
}

/** Sends one request; { status, type, text, body, headers, ms } or { aborted } or { error }. */
async function send(req) {
  const method = req.method ?? "POST";
  const init = { method, headers: {} };
  if (req.stream !== undefined) {
    init.body = chunkedBody(req.stream);
    init.duplex = "half";
  } else if (req.raw !== undefined) {
    init.body = req.raw;
  } else if (req.body !== undefined) {
    init.body = JSON.stringify(req.body);
  }
  if (init.body !== undefined) init.headers["content-type"] = "application/json";
  init.signal = req.abandon ? AbortSignal.timeout(req.abandon) : AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const started = performance.now();
  try {
    const r = await fetch(worker.url + req.path, init);
    const text = await r.text();
    const ms = performance.now() - started;
    const type = r.headers.get("content-type") ?? "";
    let body;
    if (/^application\/json/.test(type)) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    return { status: r.status, headers: r.headers, type, text, body, ms };
  } catch (e) {
    const ms = performance.now() - started;
    if (req.abandon && (e.name === "TimeoutError" || e.name === "AbortError")) return { aborted: true, ms };
    return { error: `${e.name}: ${e.message}${e.cause ? " (" + e.cause.message + ")" : ""}`, ms };
  }
}

/** The answer must be JSON (content-type and body) before any other check. */
function checkAnswer(kind, req, res) {
  if (res.error !== undefined) {
    throw new Error("no answer: " + res.error);
  }
  if (res.aborted) {
    return;
  }
  assert.match(res.type, /^application\/json/, `${kind.name}: content-type ${res.type}: ${res.text.slice(0, 200)}`);
  assert.notEqual(res.body, undefined, `${kind.name}: not JSON: ${res.text.slice(0, 200)}`);
  kind.check(res, req);
}

const quantile = (sorted, q) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const mib = (bytes) => (bytes / 1048576).toFixed(1) + " MiB";

test(`the Worker under load: ${LOAD_REQUESTS} requests, ${CONCURRENCY} at a time, valid and hostile`, async (t) => {
  const fixed = { query: QUERIES[1] };
  // the first request loads the model; its answer is the reference for the end of the run
  const first = await post(worker.url + "/route", fixed);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assertSameAsJvm(first.body, expected[1], "the fixed request, first");

  // the schedule: a seeded shuffle of the kinds by weight
  const rng = random(0x5eed);
  const total = KINDS.reduce((s, k) => s + k.weight, 0);
  const schedule = [];
  for (let i = 0; i < LOAD_REQUESTS; i++) {
    let r = rng() * total;
    const kind = KINDS.find((k) => (r -= k.weight) < 0) ?? KINDS[0];
    schedule.push({ kind, req: kind.make(rng) });
  }

  const stats = new Map(KINDS.map((k) => [k.name, { sent: 0, failed: 0, ms: [] }]));
  const failures = [];
  const latencies = [];
  const statuses = {};
  const codes = {}; // the error answers by code
  const memory = [];
  const measure = async (label) => {
    const heap = await isolateHeap(worker);
    memory.push({ label, used: heap.usedSize, total: heap.totalSize, buffers: heap.backingStorageSize, rssKiB: workerdRssKiB(worker.pid) });
  };

  const started = Date.now();
  const deadline = started + LOAD_TIME_LIMIT_MS;
  let next = 0;
  let stoppedByTime = false;
  // runs schedule[from, to) with CONCURRENCY clients
  const run = async (to) => {
    const client = async () => {
      while (next < to) {
        if (Date.now() > deadline) {
          stoppedByTime = true;
          return;
        }
        const { kind, req } = schedule[next++];
        const s = stats.get(kind.name);
        s.sent++;
        const res = await send(req);
        if (res.aborted) {
          abandoned++;
        } else if (res.error === undefined) {
          s.ms.push(res.ms);
          latencies.push(res.ms);
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          const code = res.body?.error?.code;
          if (code !== undefined) codes[code] = (codes[code] ?? 0) + 1;
        }
        try {
          checkAnswer(kind, req, res);
        } catch (e) {
          s.failed++;
          if (failures.length < 20) failures.push(`${kind.name} ${req.method ?? "POST"} ${req.path}: ${String(e.message).split("\n").slice(0, 6).join(" | ")}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
  };

  await run(Math.min(WARM_UP, schedule.length));
  await measure("after warm-up");
  const perRound = Math.ceil((schedule.length - next) / ROUNDS);
  for (let round = 1; round <= ROUNDS && next < schedule.length && !stoppedByTime; round++) {
    await run(Math.min(schedule.length, next + perRound));
    backend.received.length = 0; // the recording backend's log: not the Worker's memory
    await measure(`after ${next} requests`);
  }
  const loadMs = Date.now() - started;

  // the same fixed request, after everything else: the same answer (no state leaked)
  const last = await post(worker.url + "/route", fixed);
  assert.equal(last.status, 200, JSON.stringify(last.body));
  assertSameAsJvm(last.body, expected[1], "the fixed request, last");
  assert.equal(last.body.text, first.body.text);
  assert.deepEqual(last.body.calls, first.body.calls);

  // the model was downloaded once: the isolate served the whole run (no crash, no reload)
  assert.equal(files.count("needle.safetensors"), 1, "one model download for the whole run");

  // the summary
  const sorted = [...latencies].sort((a, b) => a - b);
  const engineMs = ["route", "route-own-tools", "dispatch"].flatMap((k) => stats.get(k).ms).sort((a, b) => a - b);
  const sent = [...stats.values()].reduce((n, x) => n + x.sent, 0);
  const failed = [...stats.values()].reduce((n, x) => n + x.failed, 0);
  const byKind = [...stats.entries()].map(([k, x]) => `${k} ${x.sent}${x.failed ? ` (${x.failed} FAILED)` : ""}`).join(", ");
  const firstMem = memory[0];
  const lastMem = memory.at(-1);
  const kept = (m) => m.used + m.buffers;
  const ms = (q, list) => quantile(list, q).toFixed(1);
  t.diagnostic(`load summary: ${sent} requests in ${(loadMs / 1000).toFixed(1)} s (${(sent / (loadMs / 1000)).toFixed(0)}/s, ${CONCURRENCY} concurrent), `
    + `${failed} failed; answers ${JSON.stringify(statuses)}, errors by code ${JSON.stringify(codes)}, ${abandoned} abandoned by the client; `
    + `latency p50 ${ms(0.5, sorted)} ms, p95 ${ms(0.95, sorted)} ms (engine requests p50 ${ms(0.5, engineMs)} ms, p95 ${ms(0.95, engineMs)} ms); `
    + `isolate heap after GC first ${mib(kept(firstMem))}, last ${mib(kept(lastMem))}; workerd RSS first ${mib(firstMem.rssKiB * 1024)}, last ${mib(lastMem.rssKiB * 1024)}`);
  t.diagnostic(`by kind: ${byKind}; ${dispatchedCalls} backend calls dispatched; max latency ${sorted.at(-1).toFixed(1)} ms`);
  t.diagnostic("memory (isolate heap after a full GC: used / total, ArrayBuffers; workerd RSS): " + memory.map((m) =>
    `${m.label}: ${mib(m.used)} / ${mib(m.total)}, ${mib(m.buffers)}; RSS ${mib(m.rssKiB * 1024)}`).join("; "));
  if (stoppedByTime) t.diagnostic(`stopped by the time limit (${LOAD_TIME_LIMIT_MS / 1000} s) after ${sent} of ${LOAD_REQUESTS} requests`);

  assert.deepEqual(failures, [], `${failed} requests answered wrong`);
  assert.ok(sent >= Math.min(LOAD_REQUESTS, 1000), `only ${sent} requests were sent before the time limit`);
  assert.ok(dispatchedCalls > 0, "/dispatch called some backend");
  // flat memory: what the isolate keeps after a full collection does not grow with the requests
  // it served (RSS: see the top of this file)
  assert.ok(kept(lastMem) <= kept(firstMem) + 8 * 1048576,
    `the isolate kept ${mib(kept(firstMem))} after the warm-up, ${mib(kept(lastMem))} at the end`);
});

/**
 * workerd reports a client that hung up before its answer was written (the "abandoned" requests)
 * as an error of its own: "disconnected: ... Broken pipe" or "Connection reset by peer". Those
 * are expected (at most one per abandoned request); anything else in the log is not.
 */
test("the Worker logged no errors or warnings under load (but the clients that hung up)", () => {
  const plain = worker.log().replace(/\x1b\[[0-9;]*m/g, "");
  const disconnect = /✘ \[ERROR\] kj::[^\n]*disconnected: [^\n]*(Broken pipe|Connection reset by peer)[^\n]*\n(\s*\n)*(\s*stack:[^\n]*\n?)?/g;
  const hangUps = plain.match(disconnect)?.length ?? 0;
  const rest = plain.replace(disconnect, "");
  assert.ok(hangUps <= abandoned, `${hangUps} disconnections logged for ${abandoned} abandoned requests`);
  assert.doesNotMatch(rest, /different request|cross-request|hanging Promise|Uncaught|✘|\[ERROR\]|\[WARNING\]|internal error/i, rest);
});
