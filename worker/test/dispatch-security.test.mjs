// /dispatch against an attacker who writes the query, and so steers the model's calls: recording
// backends on 127.0.0.1 log every request they get, and the tests check the logs, not only the
// Worker's word. First dispatchAll in Node (real HTTP, each call written by hand: every attack
// spelling, every JSON type, oversized values, CR/LF, undeclared tools and arguments, redirects of
// every kind); then the real Worker in workerd, whose model is steered by a bank of queries over a
// catalogue whose enums are attack spellings. Either way: no request reaches an undeclared path or
// host (the other local backend gets nothing), redirects are never followed, nothing crashes, and
// every call not sent says why.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import init from "needle-java-wasm";
import { parseCatalogue } from "../src/catalogue.js";
import { dispatchAll } from "../src/dispatch.js";
import { climbs, lenientSegments, PATH_ATTACKS, PATH_BENIGN } from "./adversarial.mjs";
import { fileServer, model, post, recordingBackend, startWorker } from "./helpers.mjs";

const SECRET = "s3cret-5f4dcc3b";

/**
 * The backends the catalogues declare: method, path shape (a regular expression over the raw
 * request target's path, each placeholder one segment), the query parameters it may carry.
 */
const DECLARED = [
  { method: "GET", path: /^\/files\/([^/?#]+)$/, query: [] },
  { method: "GET", path: /^\/search$/, query: ["q", "key", "page"] },
  { method: "POST", path: /^\/redirect\/([^/?#]+)$/, query: [] },
  { method: "PUT", path: /^\/notes\/([^/?#]+)$/, query: [] },
  { method: "GET", path: /^\/pages\/([^/?#]+)$/, query: [] },
  { method: "GET", path: /^\/records\/([^/?#]+)$/, query: [] },
  { method: "GET", path: /^\/items\/([^/?#]+)$/, query: [] },
];

/** The redirects the "follow" tool's backend answers, by its {to}. */
function redirects(declared, elsewhere) {
  return {
    elsewhere: { status: 302, location: elsewhere.base + "/steal?token=t0k3n" },
    "same-origin": { status: 307, location: "/search?q=ok" },
    undeclared: { status: 308, location: declared.base + "/admin" },
    relative: { status: 301, location: "../admin?token=t0k3n" },
    "see-other": { status: 303, location: "//127.0.0.1:" + new URL(elsewhere.base).port + "/steal" },
    scheme: { status: 302, location: "file:///etc/passwd" },
    broken: { status: 302, location: "http://[broken" },
    nowhere: { status: 302, location: null },
  };
}

function makeCatalogue(base, enums = {}) {
  const param = (extra) => ({ type: "string", required: true, ...extra });
  return [
    { name: "get_file", description: "Read a file", parameters: { name: param({ enum: enums.files }) },
      backend: { url: base + "/files/{name}", method: "GET", headers: { "x-secret": "${SECRET}" } } },
    { name: "search", description: "Search", parameters: { q: param({ enum: enums.search }), page: { type: "integer" } },
      backend: { url: base + "/search?q={q}&key=K1", method: "GET", headers: { "x-secret": "${SECRET}" } } },
    { name: "follow", description: "Follow a link", parameters: { to: param({ enum: enums.follow }) },
      backend: { url: base + "/redirect/{to}", method: "POST", headers: { "x-secret": "${SECRET}" } } },
    { name: "put_note", description: "Write a note", parameters: { id: param(), note: { type: "string" } },
      backend: { url: base + "/notes/{id}", method: "PUT", headers: { "x-secret": "${SECRET}" } } },
    { name: "open_page", description: "Open a page", parameters: { slug: param() },
      backend: { url: base + "/pages/{slug}", method: "GET", max_value_length: 8 } },
    { name: "lookup", description: "Look up a record", parameters: { id: { type: "object", required: true } },
      backend: { url: base + "/records/{id}", method: "GET" } },
    { name: "item", description: "Get an item", parameters: { n: { type: "number", required: true } },
      backend: { url: base + "/items/{n}", method: "GET" } },
  ];
}

/**
 * Every request the backends logged was declared: the declared backend's origin (the other one got
 * nothing), a declared method and path shape, each placeholder segment one segment also for a
 * lenient server, only declared query parameters, the catalogue's secret header and no injected
 * header. Returns the number of requests.
 */
function assertOnlyDeclared(declared, elsewhere, what) {
  assert.deepEqual(elsewhere.received.map((r) => r.method + " " + r.url), [], what + ": the other host got requests");
  for (const r of declared.received) {
    const [rawPath, rawQuery = ""] = r.url.split("?");
    const shape = DECLARED.find((d) => d.method === r.method && d.path.test(rawPath));
    assert.ok(shape !== undefined, `${what}: an undeclared request reached the backend: ${r.method} ${r.url}`);
    const segments = lenientSegments(rawPath);
    assert.equal(segments.length, rawPath.split("/").length, `${what}: ${r.url} is ${JSON.stringify(segments)} to a lenient server`);
    for (const segment of segments.slice(1)) {
      assert.ok(!climbs(segment), `${what}: ${r.url} climbs for a lenient server`);
      assert.doesNotMatch(segment, /\p{Cc}/u, `${what}: ${r.url}`);
    }
    for (const name of new URLSearchParams(rawQuery).keys()) {
      assert.ok(shape.query.includes(name), `${what}: undeclared query parameter ${JSON.stringify(name)} in ${r.url}`);
    }
    assert.equal(r.headers["x-injected"], undefined, `${what}: a header was injected: ${r.url}`);
    assert.ok(r.headers["x-secret"] === undefined || r.headers["x-secret"] === SECRET, what);
  }
  return declared.received.length;
}

/** A result's shape: what was sent says what it called; what was not says why, in one line. */
function assertResult(r, base, what) {
  assert.equal(typeof r.dispatched, "boolean", what);
  if (r.dispatched) {
    assert.ok(r.request.url.startsWith(base + "/"), what + ": " + JSON.stringify(r.request));
    assert.ok(DECLARED.some((d) => d.method === r.request.method), what);
    assert.doesNotMatch(r.request.url, /K1/, what + ": the catalogue's own query value is hidden");
    assert.doesNotMatch(JSON.stringify(r), new RegExp(SECRET), what + ": the secret header is not shown");
  } else {
    assert.equal(r.request, undefined, what);
    assert.equal(r.status, null, what);
  }
  if (!r.dispatched || r.status === null || (r.status >= 300 && r.status < 400)) {
    assert.equal(typeof r.reason, "string", what + ": " + JSON.stringify(r));
    assert.ok(r.reason.length > 0 && !/[\r\n\u2028\u2029]/.test(r.reason), what + ": one line: " + r.reason);
  }
}

describe("dispatchAll in Node against recording backends on 127.0.0.1", () => {
  let declared;
  let elsewhere;
  let settings;
  let env;
  let kinds;

  before(async () => {
    await init();
    declared = await recordingBackend();
    elsewhere = await recordingBackend();
    kinds = redirects(declared, elsewhere);
    for (const [to, { status, location }] of Object.entries(kinds)) {
      declared.answer("/redirect/" + to, { status, headers: location === null ? {} : { location }, json: { moved: to } });
    }
    env = { SECRET };
    settings = {
      catalogue: parseCatalogue(makeCatalogue(declared.base), env),
      maxCalls: 100_000, maxNewTokens: 64, backendTimeoutMs: 5000, maxBackendResponseBytes: 65_536,
    };
  });

  after(async () => {
    await declared?.close();
    await elsewhere?.close();
  });

  /** Dispatches `calls`; checks the results and the logs; returns the results. */
  async function dispatch(calls, what) {
    declared.received.length = 0;
    const results = await dispatchAll(calls, null, settings, env);
    assert.equal(results.length, calls.length, what);
    results.forEach((r, i) => {
      assert.deepEqual(r.call, calls[i], what);
      assertResult(r, declared.base, `${what} #${i} ${JSON.stringify(calls[i]).slice(0, 120)}`);
    });
    const requests = assertOnlyDeclared(declared, elsewhere, what);
    assert.equal(requests, results.filter((r) => r.dispatched).length, what + ": one request per dispatched call, no more");
    return results;
  }

  test("path traversal in every spelling, in each path placeholder: not one request", async () => {
    const calls = PATH_ATTACKS.flatMap((v) => [
      { name: "get_file", arguments: { name: v } },
      { name: "follow", arguments: { to: v } },
      { name: "put_note", arguments: { id: v, note: "n" } },
    ]);
    const results = await dispatch(calls, "attacks");
    for (const r of results) {
      assert.equal(r.dispatched, false, JSON.stringify(r.call) + " was sent: " + JSON.stringify(r.request));
      assert.match(r.reason, /^the value of "(name|to|id)" |^the path segment would be /, r.reason);
    }
    assert.equal(declared.received.length, 0);
  });

  test("benign values, numbers and booleans are sent, each to its place, and the result says what was called", async () => {
    const values = [...PATH_BENIGN.filter((v) => [...v].length <= 8), 42, -7, 3.5, true];
    const results = await dispatch(values.map((v) => ({ name: "open_page", arguments: { slug: v } })), "benign");
    results.forEach((r, i) => {
      const text = typeof values[i] === "string" ? values[i] : JSON.stringify(values[i]);
      assert.equal(r.dispatched, true, JSON.stringify(values[i]) + ": " + r.reason);
      assert.equal(r.status, 200);
      assert.deepEqual(r.request, { method: "GET", url: declared.base + "/pages/" + encodeURIComponent(text) });
    });
    const got = declared.received.map((x) => decodeURIComponent(x.url.slice("/pages/".length))).sort();
    assert.deepEqual(got, values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).sort());
  });

  test("values of every JSON type, oversized values, CR/LF and NUL: refused in placeholders, data elsewhere", async () => {
    const calls = [
      ...[null, {}, { a: ".." }, [], ["..", "admin"], [1], 1e400 /* Infinity */].flatMap((v) => [
        { name: "lookup", arguments: { id: v } }, { name: "item", arguments: { n: v } }, { name: "get_file", arguments: { name: v } },
      ]),
      { name: "open_page", arguments: { slug: "x".repeat(9) } }, // max_value_length = 8
      { name: "open_page", arguments: { slug: "é".repeat(9) } },
      { name: "get_file", arguments: { name: "x".repeat(257) } }, // the default, 256
      { name: "get_file", arguments: { name: "x".repeat(1_000_000) } },
      { name: "search", arguments: { q: "x".repeat(257) } },
      { name: "get_file", arguments: { name: "x".repeat(256) } }, // sent
      { name: "put_note", arguments: { id: "n1", note: "a\r\nX-Injected: 1\u0000" } }, // sent: a JSON body carries any text
      { name: "search", arguments: { q: "a&admin=1#x?y", page: "1&admin=1" } }, // sent: data in the query
      { name: "search", arguments: { q: "ok", page: { admin: true } } }, // sent: the page as JSON text
      { name: "search", arguments: { q: "x\r\nX-Injected: 1" } },
      { name: "search", arguments: { q: "%26admin%3D1" } },
      { name: "search", arguments: { q: "\u0000" } },
    ];
    const results = await dispatch(calls, "types and sizes");
    const sent = results.filter((r) => r.dispatched).map((r) => r.call);
    assert.deepEqual(sent, calls.slice(-7, -3));
    for (const r of results.filter((x) => !x.dispatched)) {
      assert.match(r.reason, /takes a string, a number or a boolean|longer than max_value_length = (8|256) characters|control character|percent-encoding/, r.reason);
    }
    const note = declared.received.find((x) => x.method === "PUT");
    assert.equal(note.url, "/notes/n1");
    assert.deepEqual(JSON.parse(note.body), { note: "a\r\nX-Injected: 1\u0000" });
    const searches = declared.received.filter((x) => x.url.startsWith("/search"));
    assert.deepEqual(searches.map((x) => Object.fromEntries(new URLSearchParams(x.url.split("?")[1]))).sort((a, b) => a.q.localeCompare(b.q)), [
      { q: "a&admin=1#x?y", key: "K1", page: "1&admin=1" },
      { q: "ok", key: "K1", page: '{"admin":true}' },
    ]);
    // the result shows the query as sent, the catalogue's own value hidden
    const shown = results.find((r) => r.call.arguments.page === "1&admin=1").request.url;
    assert.equal(shown, declared.base + "/search?q=" + encodeURIComponent("a&admin=1#x?y") + "&key=***&page=1%26admin%3D1");
  });

  test("tools and arguments that are not declared are not sent", async () => {
    const names = ["admin", "get_file/../admin", "__proto__", "constructor", "toString", "hasOwnProperty", "", "GET_FILE",
      "get-file", "getFile", " get_file", "get_file\u0000", null, 42, { name: "get_file" }, ["get_file"], true];
    const calls = [
      ...names.map((name) => ({ name, arguments: { name: "ok" } })),
      { arguments: { name: "ok" } },
      { name: "get_file", arguments: { name: "ok", path: "/admin" } },
      { name: "get_file", arguments: JSON.parse('{"name":"ok","__proto__":{"path":"/admin"}}') },
      { name: "get_file", arguments: { name: "ok", constructor: "x" } },
      { name: "search", arguments: { q: "ok", key: "mine" } }, // "key" is the URL's, not a parameter
      ...[null, [], "..", 5, true].map((args) => ({ name: "get_file", arguments: args })),
      { name: "get_file" },
      null, "get_file", 7, [],
    ];
    const results = await dispatch(calls, "undeclared");
    for (const r of results) {
      assert.equal(r.dispatched, false, JSON.stringify(r.call));
      assert.match(r.reason, /is not a tool of the catalogue|is not a parameter of the tool|not an object/, r.reason);
    }
    assert.equal(declared.received.length, 0);
  });

  test("redirects of every kind are the result, never followed: one request each, nothing elsewhere", async () => {
    const results = await dispatch(Object.keys(kinds).map((to) => ({ name: "follow", arguments: { to } })), "redirects");
    results.forEach((r) => {
      const to = r.call.arguments.to;
      assert.equal(r.dispatched, true, to);
      assert.equal(r.status, kinds[to].status, to);
      assert.deepEqual(r.response, { moved: to }, to);
      assert.match(r.reason, /^the backend answered 30\d, a redirect to .*; redirects are not followed$/, to);
      assert.doesNotMatch(r.reason, /t0k3n/, "the location's query is not shown");
      assert.deepEqual(r.request, { method: "POST", url: declared.base + "/redirect/" + to });
    });
    const reasons = Object.fromEntries(results.map((r) => [r.call.arguments.to, r.reason]));
    assert.match(reasons.elsewhere, new RegExp(`a redirect to ${elsewhere.base}/steal;`));
    assert.match(reasons.relative, new RegExp(`a redirect to ${declared.base}/admin;`));
    assert.match(reasons.scheme, /a redirect to file: \(not http\);/);
    assert.match(reasons.broken, /a redirect to an invalid address;/);
    assert.match(reasons.nowhere, /a redirect to no address;/);
    assert.deepEqual(declared.received.map((x) => x.url).sort(), Object.keys(kinds).map((to) => "/redirect/" + to).sort());
  });
});

/** Queries an attacker might try: the model is random, so what matters is the variety of calls. */
function queryBank(count) {
  const words = ["read", "file", "search", "follow", "link", "open", "page", "lookup", "item", "admin", "secret", "hello",
    "../", "passwd", "go", "redirect", "%2e%2e", "．．", "\\", "note"];
  return Array.from({ length: count }, (_, i) => `${words[i % words.length]} ${words[(i * 7 + 3) % words.length]} ${i}`);
}

describe("the Worker in workerd, its model steered by the query", () => {
  const m = model("odd-groups");
  let files;
  let declared;
  let elsewhere;
  let worker;
  let kinds;

  before(async () => {
    files = await fileServer({ "needle.safetensors": m.weights, "vocab.txt": m.vocab });
    declared = await recordingBackend();
    elsewhere = await recordingBackend();
    kinds = redirects(declared, elsewhere);
    for (const [to, { status, location }] of Object.entries(kinds)) {
      declared.answer("/redirect/" + to, { status, headers: location === null ? {} : { location }, json: { moved: to } });
    }
    const enums = {
      files: [...PATH_ATTACKS.filter((v) => !/[\uD800-\uDFFF]/u.test(v)), ...PATH_BENIGN.slice(0, 5)],
      search: ["a&admin=1", "x#y", "?z", "ok", "%26admin%3D1", "..", "\r\n"],
      follow: Object.keys(kinds),
    };
    worker = await startWorker({
      name: "dispatch-security",
      vars: {
        WEIGHTS_URL: files.url("needle.safetensors"), VOCAB_URL: files.url("vocab.txt"), MODEL_CACHE_SECONDS: "0",
        MAX_NEW_TOKENS: "128", MAX_CALLS: "8", BACKEND_TIMEOUT_MS: "5000", SECRET, CATALOGUE: { tools: makeCatalogue(declared.base, enums) },
      },
    });
  });

  after(async () => {
    await worker?.stop();
    await files?.close();
    await declared?.close();
    await elsewhere?.close();
  });

  test("a bank of queries: every call refused or sent to a declared path, redirects not followed", async (t) => {
    const seen = { attacks: new Set(), refusedTypes: 0, tooLong: 0, redirects: new Set(), sent: 0, queryData: 0 };
    let dispatchedTotal = 0;
    for (const query of queryBank(120)) {
      const res = await post(worker.url + "/dispatch", { query });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const { results } = res.body;
      for (const [i, r] of results.entries()) {
        const what = `${JSON.stringify(query)} #${i} ${JSON.stringify(r.call).slice(0, 120)}`;
        assertResult(r, declared.base, what);
        if (r.call.arguments === null) continue; // cut by the budget
        const [name, args] = [r.call.name, r.call.arguments];
        if (name === "get_file" && PATH_ATTACKS.includes(args.name)) {
          assert.equal(r.dispatched, false, what + " was sent");
          seen.attacks.add(args.name);
        }
        if (name === "follow" && r.dispatched) {
          assert.equal(r.status, kinds[args.to].status, what);
          assert.match(r.reason, /redirects are not followed$/, what);
          seen.redirects.add(args.to);
        }
        if (name === "lookup" || (name === "item" && typeof args.n !== "number")) {
          assert.equal(r.dispatched, false, what);
          seen.refusedTypes++;
        }
        if (name === "open_page" && [...String(args.slug)].length > 8) {
          assert.equal(r.dispatched, false, what);
          assert.match(r.reason, /longer than max_value_length = 8/, what);
          seen.tooLong++;
        }
        if (name === "search" && r.dispatched && /[&#?]/.test(args.q)) seen.queryData++;
        if (r.dispatched) seen.sent++;
      }
      dispatchedTotal += results.filter((r) => r.dispatched).length;
    }
    const requests = assertOnlyDeclared(declared, elsewhere, "workerd");
    assert.equal(requests, dispatchedTotal, "one request per dispatched call: no redirect was followed");
    t.diagnostic(`attack spellings the model wrote (all refused): ${seen.attacks.size}; redirects: ${[...seen.redirects].join(", ")}; `
      + `non-text values refused: ${seen.refusedTypes}; too long: ${seen.tooLong}; query data (&#?) sent: ${seen.queryData}; calls sent: ${seen.sent}`);
    // the bank steered the model into each kind of attack (the models are seeded: this is stable)
    assert.ok(seen.attacks.size >= 6, `attack spellings seen: ${[...seen.attacks].map((v) => JSON.stringify(v)).join(" ")}`);
    assert.ok(seen.redirects.has("elsewhere"), "a redirect to the other host was tried");
    assert.ok(seen.redirects.size >= 2, [...seen.redirects].join(", "));
    assert.ok(seen.refusedTypes > 0 && seen.sent > 0, JSON.stringify({ ...seen, attacks: seen.attacks.size, redirects: seen.redirects.size }));
  });

  test("the Worker logged no errors", () => {
    assert.doesNotMatch(worker.log(), /Uncaught|✘|\[ERROR\]/i, worker.log());
  });
});
