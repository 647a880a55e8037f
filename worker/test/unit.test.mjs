// The Worker's plain logic in Node, without workerd: catalogue checks, the calls of a cut output,
// and how calls become backend requests (through a fake service binding that records them). The
// catalogue's tools are read by the engine (needle-java-wasm's normalizeTools, after init()).
import assert from "node:assert/strict";
import { before, test } from "node:test";
import init from "needle-java-wasm";
import { parseCatalogue } from "../src/catalogue.js";
import { dispatchAll } from "../src/dispatch.js";
import { callsOf } from "../src/route.js";

const weather = {
  name: "get_weather",
  description: "Weather",
  parameters: { city: { type: "string", required: true }, days: { type: "integer", required: false } },
};

before(() => init());

test("parseCatalogue reads names and required parameters from the three tool forms (the engine's reading)", () => {
  const schema = { name: "send", parameters: { type: "object", properties: { to: {}, body: {} }, required: ["body"] } };
  const openAi = { type: "function", function: { name: "playSong", parameters: { type: "object", properties: { song: {} }, required: ["song"] } } };
  const c = parseCatalogue([weather, schema, openAi, { name: "ping" }], {});
  assert.deepEqual(c.tools.map((t) => ({ name: t.name, params: t.params })), [
    { name: "get_weather", params: [{ name: "city", required: true }, { name: "days", required: false }] },
    { name: "send", params: [{ name: "to", required: false }, { name: "body", required: true }] },
    { name: "playSong", params: [{ name: "song", required: true }] }, // the original name: what the calls carry
    { name: "ping", params: [] },
  ]);
  assert.deepEqual(c.tools[2].engineTool, openAi);
  assert.equal(c.byName.get("playSong"), c.tools[2]);
});

function configError(source, env, pattern) {
  assert.throws(() => parseCatalogue(source, env ?? {}), (e) => {
    assert.equal(e.status, 500);
    assert.equal(e.code, "configuration_error");
    assert.match(e.message, pattern);
    return true;
  });
}

test("parseCatalogue rejects what cannot work, naming the tool and the problem", () => {
  const b = (backend, tool = weather) => ({ tools: [{ ...tool, backend }] });
  configError("{", {}, /not valid JSON/);
  configError({ tool: [] }, {}, /expected \{"tools"/);
  configError([42], {}, /tool 1 must be an object/);
  configError([{ description: "x" }], {}, /tool 1 needs a "name"/);
  configError([{ name: "" }], {}, /tool 1 needs a "name"/);
  configError([weather, weather], {}, /tools 1 and 2 have the same name \(get_weather/);
  configError([weather, { ...weather, name: "getWeather" }], {}, /tools 1 and 2 have the same name \(get_weather as the model sees it\)/);
  configError([{ name: "x", parameters: { a: { type: "string", required: "yes" } } }], {}, /tool "x": "required" of parameter "a" must be true or false/);
  configError([{ ...weather, backend: { url: "https://x" } }, { name: "y", backend: 42 }], {}, /tool "y": "backend" must be an object/);
  configError(b("https://x"), {}, /"backend" must be an object/);
  configError(b({ url: "https://x", verb: "GET" }), {}, /unknown backend member "verb"/);
  configError(b({}), {}, /exactly one of "url" or "service"/);
  configError(b({ url: "https://x", service: "S" }), {}, /exactly one/);
  configError(b({ url: "https://x", method: "TRACE" }), {}, /method "TRACE"/);
  configError(b({ url: "https://x", method: "GET", args: "json" }), {}, /GET request has no body/);
  configError(b({ url: "https://x", args: "form" }), {}, /"args" must be "json" or "query"/);
  configError(b({ url: "/relative" }), {}, /not an absolute URL/);
  configError(b({ url: "ftp://x/y" }), {}, /not http\(s\)/);
  configError(b({ url: "https://x/{town}" }), {}, /uses \{town\}, which is not a parameter/);
  configError(b({ url: "https://x/{days}" }), {}, /uses \{days\}, which is not a required parameter/);
  configError(b({ url: "https://x", path: "/y" }), {}, /"path" goes with "service"/);
  configError(b({ service: "API" }), {}, /there is no service binding "API"/);
  configError(b({ service: "API", path: "y" }), { API: { fetch() {} } }, /"path" must start with "\/"/);
  configError(b({ url: "https://x", headers: { auth: "Bearer ${TOKEN}" } }), {}, /uses \$\{TOKEN\}, which is not set/);
  configError(b({ url: "https://x", headers: { auth: 42 } }), {}, /header "auth" must be a string/);
  configError(b({ url: "https://x", timeout_ms: 0 }), {}, /timeout_ms/);
});

test("parseCatalogue keeps the tool without its backend for the engine, and resolves secrets", () => {
  const c = parseCatalogue({ tools: [{ ...weather, backend: { url: "https://api/w/{city}", headers: { authorization: "Bearer ${TOKEN}" } } }, { name: "ping" }] },
    { TOKEN: "s3cret" });
  const [w, ping] = c.tools;
  assert.deepEqual(w.engineTool, weather);
  const { address, ...backend } = w.backend;
  assert.deepEqual(backend, {
    template: "https://api/w/{city}", service: null, method: "POST", args: "json",
    headers: { authorization: "Bearer s3cret" }, timeoutMs: null, placeholders: ["city"], maxValueLength: 256,
  });
  assert.deepEqual(address, { origin: "https://api", segments: [["w"], [{ param: "city" }]], query: null, placeholders: [{ name: "city", in: "path" }] });
  assert.equal(ping.backend, null);
  assert.equal(c.byName.get("ping"), ping);
  assert.equal(parseCatalogue([{ ...weather, backend: { url: "https://x", method: "get" } }], {}).tools[0].backend.args, "query");
});

test("callsOf: the complete calls of a cut output, and the call cut short", () => {
  const a = '{"name":"a","arguments":{"x":"}{\\"[","y":[1,{"z":2}]}}';
  const b = '{"name":"b","arguments":{}}';
  assert.deepEqual(callsOf({ complete: true, calls: [], text: "[]" }), { calls: [], cut: null });
  assert.deepEqual(callsOf({ complete: false, calls: null, text: "[" + a + "," + b + ',{"name":"c","argu' }),
    { calls: [JSON.parse(a), JSON.parse(b)], cut: { name: "c", text: '{"name":"c","argu' } });
  assert.deepEqual(callsOf({ complete: false, calls: null, text: "[" + a + ',{"name":"we' }),
    { calls: [JSON.parse(a)], cut: { name: null, text: '{"name":"we' } });
  assert.deepEqual(callsOf({ complete: false, calls: null, text: "[" + a + "," }), { calls: [JSON.parse(a)], cut: null });
  assert.deepEqual(callsOf({ complete: false, calls: null, text: "[" + a }), { calls: [JSON.parse(a)], cut: null });
  assert.deepEqual(callsOf({ complete: false, calls: null, text: "[" }), { calls: [], cut: null });
  assert.deepEqual(callsOf({ complete: false, calls: null, text: "" }), { calls: [], cut: null });
  const escaped = '[{"name":"q\\"x","arguments":{"s":"\\\\"}},{"name":"d\\u00e9j\\u00e0","arguments":{"s":"\\"';
  assert.deepEqual(callsOf({ complete: false, calls: null, text: escaped }),
    { calls: [{ name: 'q"x', arguments: { s: "\\" } }], cut: { name: "déjà", text: '{"name":"d\\u00e9j\\u00e0","arguments":{"s":"\\"' } });
});

function settingsWith(tools, env, extra = {}) {
  return { catalogue: parseCatalogue({ tools }, env), maxCalls: 8, maxNewTokens: 64, backendTimeoutMs: 1000, maxBackendResponseBytes: 1024, ...extra };
}

/** A service binding that records the requests and answers with `answer(request)`. */
function fakeService(answer) {
  const seen = [];
  return {
    seen,
    async fetch(request) {
      seen.push({ method: request.method, url: request.url, headers: Object.fromEntries(request.headers), body: await request.text() });
      return answer ? answer(request) : Response.json({ ok: true });
    },
  };
}

test("dispatchAll: path placeholders, query strings and JSON bodies carry exactly the arguments", async () => {
  const api = fakeService();
  const env = { API: api, KEY: "k1" };
  const tools = [
    { name: "find", parameters: { id: { type: "string", required: true }, n: { type: "integer" }, deep: { type: "boolean" }, tags: { type: "array" }, opt: {} },
      backend: { service: "API", path: "/items/{id}", method: "GET", headers: { "x-key": "${KEY}" } } },
    { name: "make", parameters: { spec: { type: "object", required: true } }, backend: { service: "API", path: "/make", method: "PUT" } },
  ];
  const calls = [
    { name: "find", arguments: { id: "a b&é", n: 3, deep: false, tags: ["x", 1], opt: null } },
    { name: "make", arguments: { spec: { k: [1, "é"] } } },
  ];
  const results = await dispatchAll(calls, null, settingsWith(tools, env), env);
  assert.deepEqual(results.map((r) => [r.dispatched, r.status, r.response]), [[true, 200, { ok: true }], [true, 200, { ok: true }]]);
  const [find, make] = api.seen;
  const u = new URL(find.url);
  assert.equal(find.method, "GET");
  assert.equal(u.pathname, "/items/a%20b%26%C3%A9");
  // each result says what was called (without the headers)
  assert.deepEqual(results.map((r) => r.request), [
    { method: "GET", service: "API", path: u.pathname + u.search },
    { method: "PUT", service: "API", path: "/make" },
  ]);
  assert.deepEqual(Object.fromEntries(u.searchParams), { n: "3", deep: "false", tags: '["x",1]', opt: "null" });
  assert.equal(find.headers["x-key"], "k1");
  assert.equal(find.body, "");
  assert.equal(make.method, "PUT");
  assert.equal(make.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(make.body), { spec: { k: [1, "é"] } });
});

test("dispatchAll: what is not dispatched says why; a too large answer is not relayed", async () => {
  const api = fakeService(() => new Response("x".repeat(2000), { headers: { "content-type": "text/plain" } }));
  const env = { API: api };
  const tools = [
    { name: "ok", parameters: { a: { required: true } }, backend: { service: "API", path: "/ok" } },
    { name: "local", parameters: {} },
  ];
  const calls = [
    { name: "local", arguments: {} },
    { name: "ok", arguments: {} }, // a required argument is missing
    { name: "other", arguments: {} },
    { name: "ok", arguments: { a: 1 } },
    { name: "ok", arguments: { a: 2 } },
  ];
  const results = await dispatchAll(calls, { name: "ok", text: '{"name":"ok","argu' }, settingsWith(tools, env, { maxCalls: 4 }), env);
  assert.deepEqual(results.map((r) => [r.dispatched, r.status, r.response, r.reason]), [
    [false, null, null, 'the tool "local" has no backend'],
    [false, null, null, 'the arguments are incomplete: the required parameter "a" is missing'],
    [false, null, null, '"other" is not a tool of the catalogue'],
    [true, 200, null, "the backend's answer is larger than MAX_BACKEND_RESPONSE_BYTES = 1024; not relayed"],
    [false, null, null, "the output has more than MAX_CALLS = 4 calls; only the first ones are dispatched"],
    [false, null, null, "the arguments are incomplete: the output was cut by the token budget (MAX_NEW_TOKENS = 64) in the middle of this call"],
  ]);
  assert.deepEqual(results[5].call, { name: "ok", arguments: null });
  assert.equal(results[5].partial, '{"name":"ok","argu');
  assert.equal(api.seen.length, 1);
});

test("dispatchAll: a backend that fails is reported, not thrown", async () => {
  const env = { API: { fetch: async () => { throw new Error("connection refused\n  at somewhere"); } } };
  const tools = [{ name: "ok", parameters: {}, backend: { service: "API" } }];
  const [r] = await dispatchAll([{ name: "ok", arguments: {} }], null, settingsWith(tools, env), env);
  assert.deepEqual(r, { call: { name: "ok", arguments: {} }, dispatched: true, status: null, response: null, reason: "the backend request failed: connection refused",
    request: { method: "POST", service: "API", path: "/" } });
});
