// The Worker in the Workers runtime (wrangler dev → workerd on 127.0.0.1) with a generated model
// served by a local file server and local backends that record what they receive. The expected
// answers come from the JVM engine (`needle run --jsonl`) on the same model and inputs.
//
// The tests of this file share one Worker and run in order: errors before the model is needed,
// failed loads, the first (concurrent) load, then /route and /dispatch.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  assertError, fileServer, get, gotOf, jvmRun, model, NODE_FIXTURES, post, QUERIES, recordingBackend, startWorker, TEST_DIR,
} from "./helpers.mjs";

const MODEL = model("drelu-gqa-contrastive");
const MAX_NEW_TOKENS = 96;
const API_KEY = "test-key-5d41402a";

let files; // the model files server
let backend; // the recording backend
let worker;
let catalogue; // the CATALOGUE the Worker runs with
let catalogueTools; // its tools as the engine reads them (no backends)
let expected; // the JVM's answers for QUERIES over the catalogue

function makeCatalogue(base) {
  return {
    tools: [
      {
        name: "get_weather", description: "Get the current weather for a city",
        parameters: {
          location: { type: "string", enum: ["Paris", "London", "Tokyo"], description: "City", required: true },
          units: { type: "string", enum: ["celsius", "fahrenheit"], description: "Units", required: false },
        },
        backend: { url: base + "/weather", method: "POST", args: "json", headers: { "x-api-key": "${TEST_API_KEY}" } },
      },
      {
        name: "setAlarm", description: "Set an alarm",
        parameters: {
          type: "object",
          properties: { time: { type: "string", enum: ["07:00", "08:30"], description: "HH:MM" }, repeat: { type: "boolean", description: "every day" } },
          required: ["time"],
        },
        backend: { service: "ECHO", path: "/alarms/{time}", method: "PUT", args: "query" },
      },
      {
        type: "function",
        function: {
          name: "send_message", description: "Send a text message",
          parameters: { type: "object", properties: { recipient: { type: "string", description: "who" }, text: { type: "string" } }, required: ["recipient"] },
        },
        backend: { url: base + "/messages", method: "GET" },
      },
      {
        name: "lookup_order", description: "Look up an order",
        parameters: { order_id: { type: "integer", description: "Order number", required: true } },
        backend: { url: base + "/orders/{order_id}", method: "GET" },
      },
      {
        name: "play-music", description: "Play music",
        parameters: { genre: { type: "string", enum: ["jazz", "rock", "pop"], required: true }, loud: { type: "boolean", required: false } },
      },
    ],
  };
}

before(async () => {
  files = await fileServer({ "needle.safetensors": MODEL.weights, "vocab.txt": MODEL.vocab });
  backend = await recordingBackend();
  catalogue = makeCatalogue(backend.base);
  catalogueTools = catalogue.tools.map(({ backend: _, ...t }) => t);
  expected = jvmRun(MODEL, QUERIES.map((query) => ({ query, tools: JSON.stringify(catalogueTools), max_new_tokens: MAX_NEW_TOKENS })));
  worker = await startWorker({
    name: "main",
    vars: {
      WEIGHTS_URL: files.url("needle.safetensors"),
      VOCAB_URL: files.url("vocab.txt"),
      MODEL_CACHE_SECONDS: "0",
      MAX_NEW_TOKENS: String(MAX_NEW_TOKENS),
      MAX_BODY_BYTES: "16384",
      BACKEND_TIMEOUT_MS: "1500",
      LOAD_RETRY_SECONDS: "2",
      TEST_API_KEY: API_KEY,
      CATALOGUE: catalogue,
    },
    services: [{ binding: "ECHO", service: "needle-test-echo" }],
    auxiliaries: [{ name: "needle-test-echo", main: path.join(TEST_DIR, "echo-backend.js") }],
  });
});

after(async () => {
  await worker?.stop();
  await files?.close();
  await backend?.close();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("GET /health before the first request: model not loaded, the catalogue and limits, no secrets", async () => {
  const res = await get(worker.url + "/health");
  assert.equal(res.status, 200);
  assert.equal(res.body.status, "ok");
  assert.equal(res.body.model.state, "not_loaded");
  assert.equal(res.body.model.weights, files.url("needle.safetensors"));
  assert.equal(res.body.catalogue.source, "CATALOGUE variable");
  assert.deepEqual(res.body.catalogue.tools, [
    { name: "get_weather", backend: { url: backend.base + "/weather", method: "POST", args: "json" } },
    { name: "setAlarm", backend: { service: "ECHO", path: "/alarms/{time}", method: "PUT", args: "query" } },
    { name: "send_message", backend: { url: backend.base + "/messages", method: "GET", args: "query" } },
    { name: "lookup_order", backend: { url: backend.base + "/orders/{order_id}", method: "GET", args: "query" } },
    { name: "play-music", backend: null },
  ]);
  assert.deepEqual(res.body.limits, { max_body_bytes: 16384, max_new_tokens: MAX_NEW_TOKENS, max_calls: 8, backend_timeout_ms: 1500 });
  assert.doesNotMatch(JSON.stringify(res.body), new RegExp(API_KEY));
  assert.equal(files.count("needle.safetensors"), 0, "/health does not load the model");
});

test("request errors answer 4xx JSON before any model is loaded", async () => {
  const u = worker.url;
  assertError(await get(u + "/nope"), 404, "not_found", /\/nope/);
  const wrongMethod = await get(u + "/route");
  assertError(wrongMethod, 405, "method_not_allowed");
  assert.equal(wrongMethod.headers.get("allow"), "POST");
  assertError(await post(u + "/health", {}), 405, "method_not_allowed");
  assertError(await post(u + "/route", null, { raw: '{"query": "hi",' }), 400, "invalid_json", /not valid JSON/);
  assertError(await post(u + "/dispatch", null, { raw: "not json" }), 400, "invalid_json");
  assertError(await post(u + "/route", null, { raw: "" }), 400, "invalid_json", /empty/);
  assertError(await post(u + "/route", null, { raw: Buffer.from([0x7b, 0xff, 0x7d]) }), 400, "invalid_json", /UTF-8/);
  assertError(await post(u + "/route", ["hi"]), 400, "invalid_request", /JSON object/);
  assertError(await post(u + "/route", {}), 400, "invalid_request", /"query" is missing/);
  assertError(await post(u + "/dispatch", { tools: [] }), 400, "invalid_request", /no "tools"/);
  assertError(await post(u + "/dispatch", {}), 400, "invalid_request", /"query" is missing/);
  assertError(await post(u + "/route", { query: 42 }), 400, "invalid_request", /"query" must be a string/);
  assertError(await post(u + "/route", { query: "hi", tool: [] }), 400, "invalid_request", /unknown field "tool"/);
  assertError(await post(u + "/route", { query: "hi", tools: "get_weather" }), 400, "invalid_request", /"tools" must be an array/);
  assertError(await post(u + "/route", { query: "hi", tools: [42] }), 400, "invalid_request", /tools\[0\]/);
  assertError(await post(u + "/route", { query: "hi", tools: [{ description: "no name" }] }), 400, "invalid_request", /tool 1 needs a "name"/);
  const unknown = await post(u + "/route", { query: "hi", tools: ["get_weather", "book_flight"] });
  assertError(unknown, 400, "unknown_tool", /"book_flight" is not a tool of the catalogue/);
  assert.equal(unknown.body.error.tool, "book_flight");
  assertError(await post(u + "/route", { query: "hi", max_new_tokens: 512 }), 400, "invalid_request", /max_new_tokens/);
  assertError(await post(u + "/route", { query: "hi", max_new_tokens: 1.5 }), 400, "invalid_request", /max_new_tokens/);
  // bodies are capped (MAX_BODY_BYTES = 16384): by Content-Length, and while reading a chunked body
  const big = JSON.stringify({ query: "x".repeat(20_000) });
  assertError(await post(u + "/route", null, { raw: big }), 413, "payload_too_large", /16384/);
  const chunked = new ReadableStream({
    start(c) {
      for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode(i === 0 ? '{"query":"' : "y".repeat(1000)));
      c.close();
    },
  });
  const r = await fetch(u + "/route", { method: "POST", body: chunked, duplex: "half" });
  assertError({ status: r.status, headers: r.headers, body: await r.json() }, 413, "payload_too_large");
  assert.equal(files.count("needle.safetensors"), 0, "no request above needed the model");
});

test("a model that cannot be downloaded or read answers 503 JSON; a failure is remembered for LOAD_RETRY_SECONDS", async () => {
  files.behave("needle.safetensors", { status: 404 });
  const missing = await post(worker.url + "/route", { query: "hi" });
  assertError(missing, 503, "model_unavailable", /could not download .*needle\.safetensors.*404/);
  assert.equal(missing.body.error.kind, "DOWNLOAD");
  assert.equal(missing.headers.get("retry-after"), "2");
  const health = await get(worker.url + "/health");
  assert.equal(health.status, 503);
  assert.equal(health.body.status, "model_failed");
  assert.equal(health.body.model.state, "failed");
  assert.equal(health.body.model.error.kind, "DOWNLOAD");
  // within LOAD_RETRY_SECONDS the failure answers at once, without a download
  const downloads = files.count("needle.safetensors");
  assertError(await post(worker.url + "/dispatch", { query: "hi" }), 503, "model_unavailable");
  assert.equal(files.count("needle.safetensors"), downloads);
  // then the next request tries again: bytes that are no Needle model are an engine error
  await sleep(2100);
  files.behave("needle.safetensors", { bytes: Buffer.from("this is not a safetensors file at all") });
  const garbage = await post(worker.url + "/route", { query: "hi" });
  assertError(garbage, 503, "model_unavailable");
  assert.equal(garbage.body.error.kind, "WEIGHTS");
  assert.equal(files.count("needle.safetensors"), downloads + 1);
  await sleep(2100);
});

test("concurrent first requests share one download, and answer as the JVM", async () => {
  files.behave("needle.safetensors", { delayMs: 500 }); // the real file, slowly: the requests overlap the load
  const weightsBefore = files.count("needle.safetensors");
  const vocabBefore = files.count("vocab.txt");
  const picks = [0, 1, 4, 6, 8, 16];
  const answers = await Promise.all(picks.map((i) => post(worker.url + "/route", { query: QUERIES[i] })));
  answers.forEach((res, k) => {
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assertSameAsJvm(res.body, expected[picks[k]], QUERIES[picks[k]]);
  });
  assert.equal(files.count("needle.safetensors") - weightsBefore, 1, "one weights download for all");
  assert.equal(files.count("vocab.txt") - vocabBefore, 1, "one vocabulary download for all");
  assert.ok(answers.some((r) => r.body.timings.load_ms > 0), "the first requests waited for the load");
  const health = await get(worker.url + "/health");
  assert.equal(health.body.model.state, "loaded");
  assert.equal(health.body.model.weights_bytes, (await import("node:fs")).statSync(MODEL.weights).size);
  // the model's config as the JVM engine read the same file (no __metadata__: inferred from the tensors)
  const jvmConfig = JSON.parse((await import("node:fs")).readFileSync(path.join(NODE_FIXTURES, "manifest.json"), "utf8"))
    .models.find((m) => m.name === MODEL.name).config;
  assert.equal(jvmConfig.source, "tensors");
  assert.deepEqual(health.body.model.config, {
    vocab_size: jvmConfig.vocab_size, d_model: jvmConfig.d_model, num_encoder_layers: jvmConfig.num_encoder_layers,
    num_decoder_layers: jvmConfig.num_decoder_layers, no_feedforward: jvmConfig.no_feedforward, ffn_dim: jvmConfig.ffn_dim,
    activation: jvmConfig.activation, contrastive_dim: jvmConfig.contrastive_dim, source: "tensors",
  });
  // later requests use the loaded model
  await post(worker.url + "/route", { query: "hello" });
  assert.equal(files.count("needle.safetensors") - weightsBefore, 1);
});

function assertSameAsJvm(body, jvm, query) {
  const what = `query ${JSON.stringify(query)}`;
  assert.equal(body.text, jvm.text, what);
  assert.deepEqual(body.calls, jvm.calls, what);
  assert.equal(body.complete, jvm.complete, what);
  assert.deepEqual(Object.keys(body).sort(), ["calls", "complete", "text", "timings"].sort(), what);
  for (const k of ["load_ms", "encode_ms", "decode_ms", "prefill_tokens", "decode_tokens"]) {
    assert.equal(typeof body.timings[k], "number", k);
  }
  assert.equal(body.timings.prefill_tokens, jvm.timings.prefill_tokens, what);
  assert.equal(body.timings.decode_tokens, jvm.timings.decode_tokens, what);
}

test("POST /route over the catalogue answers as the JVM for every query", async () => {
  for (let i = 0; i < QUERIES.length; i++) {
    const res = await post(worker.url + "/route", { query: QUERIES[i] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assertSameAsJvm(res.body, expected[i], QUERIES[i]);
  }
});

test("POST /route with its own tools (any form, catalogue names) and token budget answers as the JVM", async () => {
  const openAi = {
    type: "function",
    function: { name: "bookFlight", description: "Book a flight", parameters: { type: "object", properties: { to: { type: "string", enum: ["Paris", "Rome"] } }, required: ["to"] } },
  };
  const flat = { name: "send_email", description: "Send an email", parameters: { to: { type: "string", required: true } } };
  const cases = [
    { query: "Fly me to Rome", tools: [openAi] },
    { query: "Email bob", tools: [flat, "get_weather"], engineTools: [flat, catalogueTools[0]] },
    { query: "Weather in Tokyo then play jazz", tools: ["play-music", "get_weather"], engineTools: [catalogueTools[4], catalogueTools[0]] },
    // a "backend" member is ignored by /route: the engine sees the tool without it
    { query: "What's the weather in Paris?", tools: [catalogue.tools[0]], engineTools: [catalogueTools[0]] },
    { query: "Anything", tools: [] },
    { query: QUERIES[expected.findIndex((e) => e.calls?.length > 0)], max_new_tokens: 5 },
    { query: "Wake me up at 7", max_new_tokens: 0 },
    { query: "Play some jazz", tools: [openAi, flat], max_new_tokens: 300 },
  ];
  const jvm = jvmRun(MODEL, cases.map((c) => ({
    query: c.query,
    tools: JSON.stringify(c.engineTools ?? c.tools ?? catalogueTools),
    max_new_tokens: c.max_new_tokens ?? MAX_NEW_TOKENS,
  })));
  for (let i = 0; i < cases.length; i++) {
    const { engineTools, ...request } = cases[i];
    const res = await post(worker.url + "/route", request);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assertSameAsJvm(res.body, jvm[i], JSON.stringify(request));
  }
  assert.equal(jvm[5].complete, false, "the 5-token budget cuts the output");
  assert.equal(jvm[5].calls, null);
});

/**
 * A cut output → { calls: the complete calls, partial: the text of the call cut short, or "" }:
 * the longest prefix ending with "}" that is a JSON array once "]" is appended.
 */
function splitCut(text) {
  for (let end = text.length; end > 0; end--) {
    if (text[end - 1] !== "}") continue;
    try {
      const calls = JSON.parse(text.slice(0, end) + "]");
      return { calls, partial: text.slice(end).replace(/^,/, "") };
    } catch {
      // not a boundary between calls
    }
  }
  return { calls: [], partial: text.replace(/^\[/, "") };
}

/** The request a call becomes, per the test catalogue; null when it is not dispatched. */
function expectedDispatch(call) {
  const { name, arguments: args } = call;
  const rest = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  const query = (got) => (Object.keys(got).length === 0 ? "" : "?" + new URLSearchParams(got));
  switch (name) {
    case "get_weather":
      return { via: "url", method: "POST", path: "/weather", got: args, shown: { method: "POST", url: backend.base + "/weather" } };
    case "send_message":
      return { via: "url", method: "GET", path: "/messages", got: rest, shown: { method: "GET", url: backend.base + "/messages" + query(rest) } };
    case "lookup_order": {
      const { order_id: id, ...others } = rest;
      const p = "/orders/" + encodeURIComponent(id);
      return { via: "url", method: "GET", path: p, got: others, shown: { method: "GET", url: backend.base + p + query(others) } };
    }
    case "setAlarm": {
      const { time, ...others } = rest;
      const p = "/alarms/" + encodeURIComponent(time);
      return { via: "service", method: "PUT", path: p, got: others, shown: { method: "PUT", service: "ECHO", path: p + query(others) } };
    }
    default:
      return null;
  }
}

test("POST /dispatch calls the routed backends with exactly the routed arguments and relays their answers", async () => {
  const seen = { url: 0, service: 0, noBackend: 0, several: 0, cut: 0, none: 0 };
  for (let i = 0; i < QUERIES.length; i++) {
    const jvm = expected[i];
    backend.received.length = 0;
    const res = await post(worker.url + "/dispatch", { query: QUERIES[i] });
    const what = `query ${JSON.stringify(QUERIES[i])} → ${jvm.text}`;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.text, jvm.text, what);
    assert.deepEqual(res.body.calls, jvm.calls, what);
    assert.equal(res.body.complete, jvm.complete, what);
    const results = res.body.results;

    // the complete calls: from the JVM's calls, or from its text when the budget cut it
    const { calls, partial } = jvm.complete ? { calls: jvm.calls, partial: "" } : splitCut(jvm.text);
    if (partial !== "") seen.cut++;
    assert.equal(results.length, calls.length + (partial === "" ? 0 : 1), what);
    if (jvm.complete && calls.length === 0) seen.none++;
    if (calls.length > 1) seen.several++;

    const viaUrl = [];
    calls.forEach((call, k) => {
      const r = results[k];
      assert.deepEqual(r.call, call, what);
      const want = expectedDispatch(call);
      if (want === null) {
        assert.equal(r.dispatched, false, what);
        assert.equal(r.status, null);
        assert.match(r.reason, new RegExp(`the tool "${call.name}" has no backend`));
        seen.noBackend++;
        return;
      }
      assert.equal(r.dispatched, true, what + ": " + r.reason);
      assert.equal(r.status, 200, what);
      assert.deepEqual(r.request, want.shown, what + ": what was called");
      if (want.via === "service") {
        assert.deepEqual(r.response, { echo: { method: want.method, path: want.path, query: want.got, contentType: null, body: "" } }, what);
        seen.service++;
      } else {
        assert.deepEqual(r.response, { handled: want.path, method: want.method, got: want.got }, what);
        viaUrl.push(want);
        seen.url++;
      }
    });
    if (partial !== "") {
      const r = results.at(-1);
      assert.equal(r.dispatched, false);
      assert.deepEqual(r.call, { name: /^\{"name":"([^"]*)"/.exec(partial)?.[1] ?? null, arguments: null });
      assert.match(r.reason, /the arguments are incomplete: the output was cut by the token budget \(MAX_NEW_TOKENS = 96\)/);
      assert.equal(r.partial, partial);
    }
    // what the URL backends received: exactly these requests (in any order: calls go out together)
    const got = backend.received.map((x) => ({ method: x.method, path: x.path, got: gotOf(x), key: x.headers["x-api-key"], type: x.headers["content-type"] ?? null }));
    const want = viaUrl.map((w) => ({ method: w.method, path: w.path, got: w.got, key: w.path === "/weather" ? API_KEY : undefined, type: w.method === "POST" ? "application/json" : null }));
    const order = (a) => [...a].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    assert.deepEqual(order(got), order(want), what);
  }
  // the query bank gave every situation
  for (const [k, n] of Object.entries(seen)) {
    assert.ok(n > 0, `no query gave the case "${k}" (${JSON.stringify(seen)})`);
  }
});

/** A query whose JVM answer is one complete get_weather call, and that call. */
function weatherQuery() {
  const i = expected.findIndex((e) => e.complete && e.calls.length === 1 && e.calls[0].name === "get_weather");
  assert.ok(i >= 0, "a query routed to get_weather alone");
  return { query: QUERIES[i], call: expected[i].calls[0] };
}

test("a backend's error status and non-JSON answer are relayed; a backend that does not answer times out", async () => {
  const { query, call } = weatherQuery();
  const request = { method: "POST", url: backend.base + "/weather" };
  try {
    backend.answer("/weather", { status: 502, json: { error: "upstream down" } });
    let res = await post(worker.url + "/dispatch", { query });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.results, [{ call, dispatched: true, status: 502, response: { error: "upstream down" }, request }]);

    backend.answer("/weather", { status: 200, text: "sunny, 21 °C" });
    res = await post(worker.url + "/dispatch", { query });
    assert.deepEqual(res.body.results, [{ call, dispatched: true, status: 200, response: "sunny, 21 °C", request }]);

    backend.answer("/weather", { hang: true });
    const started = Date.now();
    res = await post(worker.url + "/dispatch", { query });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.results, [{ call, dispatched: true, status: null, response: null, reason: "the backend did not answer within 1500 ms", request }]);
    assert.ok(Date.now() - started < 10_000);
  } finally {
    backend.answer("/weather", undefined);
  }
});

test("the Worker logged no errors or warnings (no cross-request promise trouble, no uncaught errors)", () => {
  const log = worker.log();
  assert.doesNotMatch(log, /different request|cross-request|hanging Promise|Uncaught|✘|\[ERROR\]|\[WARNING\]/i, log);
});
