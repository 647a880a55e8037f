// OpenAI's chat completions API, driven by the official `openai` npm client, against both servers
// that speak it: the Worker in workerd (wrangler dev) and the JVM's `needle serve`, both on
// 127.0.0.1 with the same generated model and the same API key. Every answer is compared with the
// JVM engine's (`needle run --jsonl`, with "require_call" where the request requires a call), and
// the two servers' answers with each other. The cases pick their queries by the JVM's answers
// (a query the model answers with calls, one it answers with none, one with two calls), never by
// outputs written down here.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { answerOf as answerFor, outputCalls } from "../src/openai.js";
import { fileServer, jvmRun, model, QUERIES, startNeedleServe, startWorker } from "./helpers.mjs";

const MODEL = model("drelu-gqa-contrastive");
const MAX = 96;
const KEY = "sk-needle-test-" + "3c9f1a7e";

/** The catalogue in OpenAI's form (the tools of worker.test.mjs, as SDK users write them). */
const fn = (name, description, properties, required) => ({
  type: "function",
  function: { name, description, parameters: { type: "object", properties, required } },
});
const TOOLS = [
  fn("get_weather", "Get the current weather for a city", {
    location: { type: "string", enum: ["Paris", "London", "Tokyo"], description: "City" },
    units: { type: "string", enum: ["celsius", "fahrenheit"] },
  }, ["location"]),
  fn("setAlarm", "Set an alarm", { time: { type: "string", enum: ["07:00", "08:30"] }, repeat: { type: "boolean" } }, ["time"]),
  fn("send_message", "Send a text message", { recipient: { type: "string" }, text: { type: "string" } }, ["recipient"]),
  fn("lookup_order", "Look up an order", { order_id: { type: "integer" } }, ["order_id"]),
  fn("play-music", "Play music", { genre: { type: "string", enum: ["jazz", "rock", "pop"] }, loud: { type: "boolean" } }, ["genre"]),
];

let files;
let worker;
let serve;
/** @type {{name: string, client: OpenAI, base: string}[]} */
let targets;
/** The JVM's answers for QUERIES over TOOLS. */
let expected;

const jvm = (inputs) => jvmRun(MODEL, inputs.map((i) => ({ max_new_tokens: MAX, ...i, tools: JSON.stringify(i.tools) })));
const calls = (r) => r.calls?.length ?? 0;
/** The first query whose JVM answer passes `test` (failing when none does). */
function pick(what, ok) {
  const i = expected.findIndex(ok);
  assert.ok(i >= 0, `no query of the bank gives ${what} on the test model`);
  return QUERIES[i];
}
const answerOf = (query) => expected[QUERIES.indexOf(query)];

before(async () => {
  files = await fileServer({ "needle.safetensors": MODEL.weights, "vocab.txt": MODEL.vocab });
  expected = jvm(QUERIES.map((query) => ({ query, tools: TOOLS })));
  [worker, serve] = await Promise.all([
    startWorker({
      name: "openai",
      vars: {
        WEIGHTS_URL: files.url("needle.safetensors"), VOCAB_URL: files.url("vocab.txt"), MODEL_CACHE_SECONDS: "0",
        API_TOKEN: KEY, MAX_BODY_BYTES: "65536", CATALOGUE: [],
      },
    }),
    startNeedleServe(MODEL, { NEEDLE_API_KEY: KEY }),
  ]);
  targets = [
    { name: "Worker", base: worker.url + "/v1" },
    { name: "needle serve", base: serve.baseURL },
  ].map((t) => ({ ...t, client: new OpenAI({ apiKey: KEY, baseURL: t.base, maxRetries: 0, timeout: 120_000 }) }));
});

after(async () => {
  await worker?.stop();
  await serve?.stop();
  await files?.close();
});

const request = (query, extra = {}) => ({
  model: "needle",
  messages: [{ role: "system", content: "You route requests to tools." }, { role: "user", content: query }],
  tools: TOOLS,
  max_tokens: MAX,
  ...extra,
});

/** The -0 an argument may hold, as the JVM answers carry it (through JSON.stringify). */
const wire = (v) => JSON.parse(JSON.stringify(v));

/**
 * A completion answers as the JVM engine did: the calls (names; arguments as JSON values and as the
 * exact text the model wrote, in order) or the model's text as content; the finish reason; usage.
 */
function assertAnswers(c, want, { parallel = true, label = "" } = {}) {
  const where = label + " " + JSON.stringify(c);
  assert.equal(c.object, "chat.completion", where);
  assert.equal(c.model, "needle");
  assert.match(c.id, /^chatcmpl-[0-9a-f]{24}$/);
  assert.equal(c.choices.length, 1);
  const [choice] = c.choices;
  assert.equal(choice.message.role, "assistant");
  assert.deepEqual(c.usage, {
    prompt_tokens: want.timings.prefill_tokens,
    completion_tokens: want.tokens.length,
    total_tokens: want.timings.prefill_tokens + want.tokens.length,
  }, where);
  assert.ok(want.complete, "the case needs a complete JVM answer: " + want.text);
  if (calls(want) === 0) {
    assert.equal(choice.message.tool_calls, undefined, where);
    assert.equal(choice.message.content, want.text, where);
    assert.equal(choice.finish_reason, "stop", where);
    return;
  }
  assert.equal(choice.message.content, null, where);
  assert.equal(choice.finish_reason, "tool_calls", where);
  const n = parallel ? calls(want) : 1;
  assert.equal(choice.message.tool_calls.length, n, where);
  let from = 0;
  choice.message.tool_calls.forEach((tc, i) => {
    assert.match(tc.id, /^call_[0-9a-f]{24}$/);
    assert.equal(tc.type, "function");
    assert.equal(tc.function.name, want.calls[i].name, where);
    assert.deepEqual(wire(JSON.parse(tc.function.arguments)), want.calls[i].arguments, where);
    const at = want.text.indexOf(tc.function.arguments, from);
    assert.ok(at >= 0, `the arguments as the model wrote them: ${tc.function.arguments} in ${want.text}`);
    from = at + tc.function.arguments.length;
  });
}

/** A completion without what differs from run to run (ids, time). */
function stable(c) {
  return {
    ...c, id: undefined, created: undefined,
    choices: c.choices.map((ch) => ({
      ...ch, message: { ...ch.message, tool_calls: ch.message.tool_calls?.map((tc) => ({ ...tc, id: undefined })) },
    })),
  };
}

/** The error a request gets: the SDK's APIError (failing when the request succeeds). */
async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, String(e?.stack ?? e));
    return e;
  }
  assert.fail("the request succeeded");
}

test("GET /v1/models lists the one model, needle; models.retrieve finds it and nothing else", async () => {
  for (const t of targets) {
    const list = [];
    for await (const m of t.client.models.list()) list.push(m);
    assert.deepEqual(list, [{ id: "needle", object: "model", created: 0, owned_by: "needle-java-wasm" }], t.name);
    assert.deepEqual(await t.client.models.retrieve("needle"), list[0]);
    const e = await failure(t.client.models.retrieve("gpt-4o"));
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal(e.code, "model_not_found");
  }
});

test("plain requests: every query answers as the JVM engine, calls and no calls, the same from both servers", async (ctx) => {
  let withCalls = 0;
  let without = 0;
  for (let i = 0; i < QUERIES.length; i++) {
    const want = expected[i];
    const answers = [];
    for (const t of targets) {
      const c = await t.client.chat.completions.create(request(QUERIES[i]));
      if (want.complete) {
        assertAnswers(c, want, { label: t.name });
      } else {
        assert.equal(c.choices[0].finish_reason, "length", t.name);
      }
      answers.push(stable(c));
    }
    assert.deepEqual(answers[0], answers[1], "the Worker and needle serve answer alike: " + QUERIES[i]);
    if (want.complete) {
      if (calls(want) > 0) withCalls++;
      else without++;
    }
  }
  ctx.diagnostic(`${QUERIES.length} queries: ${withCalls} answered with calls, ${without} without, the others cut by the budget`);
  assert.ok(withCalls >= 3 && without >= 2, `the bank's answers vary: ${withCalls} with calls, ${without} without`);
});

test("tool_choice names a function: the grammar gets that one tool and a call is required", async (ctx) => {
  const noCall = pick("no call", (r) => r.complete && calls(r) === 0);
  const withCall = pick("a call", (r) => r.complete && calls(r) > 0);
  const cases = [];
  for (const query of [noCall, withCall]) {
    for (const tool of TOOLS) {
      cases.push({ query, tool });
    }
  }
  const free = jvm(cases.map((c) => ({ query: c.query, tools: [c.tool] })));
  const required = jvm(cases.map((c) => ({ query: c.query, tools: [c.tool], require_call: true })));
  let answered = 0;
  for (let k = 0; k < cases.length; k++) {
    const { query, tool } = cases[k];
    const body = request(query, { tool_choice: { type: "function", function: { name: tool.function.name } } });
    if (calls(free[k]) > 0) {
      assert.equal(required[k].text, free[k].text, "where the model calls, requiring a call changes nothing");
    }
    for (const t of targets) {
      const c = await t.client.chat.completions.create(body);
      if (!required[k].complete) {
        assert.equal(c.choices[0].finish_reason, "length");
        continue;
      }
      assert.ok(calls(required[k]) >= 1, required[k].text);
      assertAnswers(c, required[k], { label: t.name + " " + tool.function.name });
      for (const tc of c.choices[0].message.tool_calls) {
        assert.equal(tc.function.name, tool.function.name);
      }
      answered++;
    }
  }
  const forcedCases = cases.filter((c, k) => free[k].text.startsWith("[]") && required[k].complete).length;
  ctx.diagnostic(`${cases.length} named choices on ${targets.length} servers: ${answered} answers with the named call; ${forcedCases} of the cases forced a call the model would not have made`);
  assert.ok(forcedCases >= 1, "some case forces a call the model would not have made");
});

test('tool_choice "required": both servers force a call through the grammar', async () => {
  const noCall = pick("no call", (r) => r.complete && calls(r) === 0);
  const withCall = pick("a call", (r) => r.complete && calls(r) > 0);
  const [forced, same] = jvm([noCall, withCall].map((query) => ({ query, tools: TOOLS, require_call: true })));
  assert.ok(forced.complete && calls(forced) >= 1, forced.text);
  assert.equal(same.text, answerOf(withCall).text);
  for (const t of targets) {
    assertAnswers(await t.client.chat.completions.create(request(withCall, { tool_choice: "required" })), same, { label: t.name });
    assertAnswers(await t.client.chat.completions.create(request(noCall, { tool_choice: "required" })), forced, { label: t.name });
  }
});

test('tool_choice "none": the model runs without tools and answers [] as content', async () => {
  const withCall = pick("a call", (r) => r.complete && calls(r) > 0);
  const [want] = jvm([{ query: withCall, tools: [] }]);
  assert.equal(want.text, "[]");
  const answers = [];
  for (const t of targets) {
    const c = await t.client.chat.completions.create(request(withCall, { tool_choice: "none" }));
    assertAnswers(c, want, { label: t.name });
    answers.push(stable(c));
  }
  assert.deepEqual(answers[0], answers[1]);
});

test("parallel_tool_calls false: only the first call", async () => {
  const two = pick("two calls", (r) => r.complete && calls(r) >= 2);
  for (const t of targets) {
    const c = await t.client.chat.completions.create(request(two, { parallel_tool_calls: false }));
    assertAnswers(c, answerOf(two), { parallel: false, label: t.name });
  }
});

test("max_completion_tokens cuts the answer: finish_reason length, the calls as far as they went", async () => {
  const withCall = pick("a call", (r) => r.complete && calls(r) > 0);
  const budget = answerOf(withCall).tokens.length - 2;
  const [want] = jvm([{ query: withCall, tools: TOOLS, max_new_tokens: budget }]);
  assert.equal(want.complete, false);
  const answers = [];
  for (const t of targets) {
    const c = await t.client.chat.completions.create(request(withCall, { max_completion_tokens: budget, max_tokens: 400 }));
    assert.equal(c.choices[0].finish_reason, "length", t.name);
    assert.equal(c.usage.completion_tokens, budget);
    const tcs = c.choices[0].message.tool_calls;
    assert.ok(tcs.length >= 1);
    for (const tc of tcs) assert.ok(want.text.includes(tc.function.arguments), tc.function.arguments);
    answers.push(stable(c));
  }
  assert.deepEqual(answers[0], answers[1]);
});

/** A stream's chunks folded into {calls: [{id, name, arguments}], content, finish_reason, usage}. */
async function fold(stream) {
  const calls = [];
  let content = null;
  let finish = null;
  let usage = null;
  let id = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    id ??= chunk.id;
    assert.equal(chunk.id, id);
    if (chunk.usage) {
      usage = chunk.usage;
      assert.deepEqual(chunk.choices, []);
      continue;
    }
    const [choice] = chunk.choices;
    assert.equal(finish, null, "nothing after the finish reason but the usage");
    finish = choice.finish_reason;
    if (typeof choice.delta.content === "string") content = (content ?? "") + choice.delta.content;
    for (const tc of choice.delta.tool_calls ?? []) {
      if (tc.index === calls.length) {
        assert.match(tc.id, /^call_/);
        assert.equal(tc.type, "function");
        calls.push({ id: tc.id, name: tc.function.name, arguments: tc.function.arguments });
      } else {
        assert.equal(tc.index, calls.length - 1, "deltas of the last call only");
        calls[tc.index].arguments += tc.function.arguments;
      }
    }
  }
  return { calls, content, finish_reason: finish, usage };
}

test("stream: true answers server-sent chunks with tool-call deltas that add up to the same answer; [DONE] ends it", async () => {
  const two = pick("two calls", (r) => r.complete && calls(r) >= 2);
  const noCall = pick("no call", (r) => r.complete && calls(r) === 0);
  const queries = [...new Set([two, noCall, ...QUERIES.slice(0, 12)])];
  let streamedCalls = 0;
  for (const t of targets) {
    for (const query of queries) {
      for (const parallel of [true, false]) {
        const extra = parallel ? {} : { parallel_tool_calls: false };
        const whole = await t.client.chat.completions.create(request(query, extra));
        const folded = await fold(await t.client.chat.completions.create(
          request(query, { ...extra, stream: true, stream_options: { include_usage: true } })));
        const [choice] = whole.choices;
        assert.equal(folded.finish_reason, choice.finish_reason, t.name + " " + query);
        assert.equal(folded.content, choice.message.content);
        assert.deepEqual(folded.usage, whole.usage);
        assert.deepEqual(folded.calls.map(({ name, arguments: a }) => ({ name, arguments: a })),
          (choice.message.tool_calls ?? []).map((tc) => ({ name: tc.function.name, arguments: tc.function.arguments })));
        streamedCalls += folded.calls.length;
      }
    }
    // the SDK's own stream helper accumulates the deltas into the same completion
    const helper = t.client.chat.completions.stream(request(two));
    const final = await helper.finalChatCompletion();
    assertAnswers({ ...final, object: "chat.completion", usage: (await t.client.chat.completions.create(request(two))).usage },
      answerOf(two), { label: t.name + " stream helper" });
    // on the wire: text/event-stream, "data: " events, "data: [DONE]" last; no usage unless asked
    const res = await fetch(t.base + "/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer " + KEY },
      body: JSON.stringify(request(noCall, { stream: true })),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const text = await res.text();
    assert.ok(text.endsWith("data: [DONE]\n\n"), text);
    for (const block of text.split("\n\n").filter((b) => b !== "")) {
      assert.match(block, /^data: /);
      assert.doesNotMatch(block, /"usage"/);
    }
  }
  assert.ok(streamedCalls >= 4, "streamed calls: " + streamedCalls);
});

test("a conversation: the last user message is the query (text parts joined by line breaks); other roles are read past", async () => {
  const withCall = pick("a call", (r) => r.complete && calls(r) > 0);
  const split = withCall.indexOf(" ");
  const query = withCall.slice(0, split) + "\n" + withCall.slice(split + 1);
  const [want] = jvm([{ query, tools: TOOLS }]);
  const messages = [
    { role: "developer", content: "Be brief." },
    { role: "user", content: "an earlier question" },
    { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup_order", arguments: "{\"order_id\":1}" } }] },
    { role: "tool", tool_call_id: "call_1", content: "shipped" },
    { role: "user", content: [{ type: "text", text: withCall.slice(0, split) }, { type: "text", text: withCall.slice(split + 1) }] },
  ];
  for (const t of targets) {
    const c = await t.client.chat.completions.create({ ...request(""), messages, temperature: 0.2, top_p: 1, seed: 7, n: 1, user: "u1" });
    if (want.complete) assertAnswers(c, want, { label: t.name });
    else assert.equal(c.choices[0].finish_reason, "length");
  }
});

test("errors: OpenAI's error object with the right status and class, the same from both servers", async () => {
  const ok = request("hello");
  const cases = [
    [{ ...ok, model: "gpt-4o" }, OpenAI.NotFoundError, "model_not_found", "model"],
    [{ ...ok, model: undefined }, OpenAI.BadRequestError, "missing_required_parameter", "model"],
    [{ ...ok, messages: [] }, OpenAI.BadRequestError, "invalid_value", "messages"],
    [{ ...ok, messages: [{ role: "system", content: "hi" }] }, OpenAI.BadRequestError, "invalid_value", "messages"],
    [{ ...ok, messages: [{ role: "robot", content: "hi" }] }, OpenAI.BadRequestError, "invalid_value", "messages[0].role"],
    [{ ...ok, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }] },
      OpenAI.BadRequestError, "unsupported_content", "messages[0].content[0].type"],
    [{ ...ok, tools: [{ type: "custom", custom: { name: "x" } }] }, OpenAI.BadRequestError, "invalid_value", "tools[0].type"],
    [{ ...ok, tools: [fn("get_weather", "a", {}, []), fn("getWeather", "b", {}, [])] }, OpenAI.BadRequestError, "invalid_value", "tools"],
    [{ ...ok, tools: [{ type: "function", function: { name: "x", parameters: { type: "object", properties: [] } } }] },
      OpenAI.BadRequestError, "invalid_value", "tools"],
    [{ ...ok, tool_choice: { type: "function", function: { name: "nope" } } }, OpenAI.BadRequestError, "invalid_value", "tool_choice"],
    [{ ...ok, tool_choice: "sometimes" }, OpenAI.BadRequestError, "invalid_value", "tool_choice"],
    [{ ...ok, tools: undefined, tool_choice: "required" }, OpenAI.BadRequestError, "invalid_value", "tool_choice"],
    [{ ...ok, parallel_tool_calls: "yes" }, OpenAI.BadRequestError, "invalid_type", "parallel_tool_calls"],
    [{ ...ok, max_tokens: 0 }, OpenAI.BadRequestError, "invalid_value", "max_tokens"],
    [{ ...ok, stream_options: { include_usage: true } }, OpenAI.BadRequestError, "invalid_value", "stream_options"],
    [{ ...ok, n: 2 }, OpenAI.BadRequestError, "unsupported_parameter", "n"],
    [{ ...ok, logprobs: true }, OpenAI.BadRequestError, "unsupported_parameter", "logprobs"],
    [{ ...ok, response_format: { type: "json_object" } }, OpenAI.BadRequestError, "unsupported_parameter", "response_format"],
    [{ ...ok, frobnicate: 1 }, OpenAI.BadRequestError, "unknown_parameter", "frobnicate"],
  ];
  for (const [body, kind, code, param] of cases) {
    const errors = [];
    for (const t of targets) {
      const e = await failure(t.client.chat.completions.create(body));
      assert.ok(e instanceof kind, `${t.name}: ${e.constructor.name} for ${code}: ${e.message}`);
      assert.equal(e.code, code, t.name + ": " + e.message);
      assert.equal(e.param, param);
      assert.equal(e.type, "invalid_request_error");
      assert.deepEqual(Object.keys(e.error), ["message", "type", "param", "code"]);
      assert.doesNotMatch(e.error.message, /\n|\bat [\w.<>]+ \(|\.js:\d+|Exception/);
      errors.push(e.error);
    }
    assert.deepEqual(errors[0], errors[1], "the same error object from both");
  }
  // the API key: the servers were started with one
  for (const t of targets) {
    for (const apiKey of ["wrong", KEY + "x"]) {
      const bad = new OpenAI({ apiKey, baseURL: t.base, maxRetries: 0 });
      const e = await failure(bad.chat.completions.create(request("hello")));
      assert.ok(e instanceof OpenAI.AuthenticationError, t.name);
      assert.equal(e.code, "invalid_api_key");
      assert.equal(e.headers.get("www-authenticate"), "Bearer");
      assert.doesNotMatch(e.message, new RegExp(KEY));
      assert.ok((await failure(bad.models.list())) instanceof OpenAI.AuthenticationError);
    }
  }
});

test("HTTP errors the SDK cannot make: bad JSON, wrong method or path, a body too large (Worker)", async () => {
  const raw = async (t, method, path, body) => {
    const res = await fetch(t.base + path, {
      method, body, headers: { authorization: "Bearer " + KEY, "content-type": "application/json" },
    });
    const text = await res.text();
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/, text);
    const json = JSON.parse(text);
    assert.deepEqual(Object.keys(json), ["error"]);
    assert.deepEqual(Object.keys(json.error), ["message", "type", "param", "code"]);
    return { status: res.status, error: json.error, headers: res.headers };
  };
  for (const t of targets) {
    const bad = await raw(t, "POST", "/chat/completions", '{"model": "needle",');
    assert.equal(bad.status, 400);
    assert.equal(bad.error.code, "invalid_json");
    const notObject = await raw(t, "POST", "/chat/completions", "[1]");
    assert.equal(notObject.status, 400);
    assert.equal(notObject.error.code, "invalid_type");
    const method = await raw(t, "GET", "/chat/completions");
    assert.equal(method.status, 405);
    assert.equal(method.error.code, "method_not_allowed");
    assert.equal(method.headers.get("allow"), "POST");
    const path = await raw(t, "GET", "/completions");
    assert.equal(path.status, 404);
    assert.equal(path.error.code, "unknown_url");
  }
  const big = await raw(targets[0], "POST", "/chat/completions", JSON.stringify(request("x".repeat(70_000))));
  assert.equal(big.status, 413);
  assert.equal(big.error.code, "payload_too_large");
});

test("outputCalls (the Worker's reading of the engine's text): every prefix of every answer is read consistently", () => {
  let prefixes = 0;
  for (const want of expected) {
    const whole = outputCalls(want.text);
    if (want.complete) {
      assert.deepEqual(whole.map((c) => c.name), (want.calls ?? []).map((c) => c.name));
      assert.deepEqual(whole.map((c) => wire(JSON.parse(c.arguments))), (want.calls ?? []).map((c) => c.arguments));
      assert.ok(whole.every((c) => c.closed));
    }
    for (let n = 0; n <= want.text.length; n++) {
      const part = outputCalls(want.text.slice(0, n));
      assert.ok(part.length <= whole.length);
      part.forEach((c, i) => {
        assert.equal(c.name, whole[i].name);
        assert.ok(whole[i].arguments.startsWith(c.arguments), `${c.arguments} starts ${whole[i].arguments}`);
        assert.ok(!c.closed || (whole[i].closed && c.arguments === whole[i].arguments));
        assert.match(c.id, /^call_[0-9a-f]{24}$/);
      });
      // a cut text answers "length" with what was read (the calls, else the text as content)
      const a = answerFor({ text: want.text.slice(0, n), complete: false }, { parallelToolCalls: true });
      assert.equal(a.finishReason, "length");
      assert.equal(a.content, part.length === 0 ? want.text.slice(0, n) : null);
      prefixes++;
    }
  }
  assert.ok(prefixes > 1000, "prefixes read: " + prefixes);
});
