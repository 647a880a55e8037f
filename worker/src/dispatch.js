// @ts-check
// Dispatching: each routed call goes to its tool's backend, all at once, and the answers come back
// in the order of the calls. One result per call:
//   { call, dispatched: true,  status: 200, response: <the backend's JSON, or its text>, request }
//   { call, dispatched: true,  status: null, response: null, reason: "the backend did not answer …", request }
//   { call, dispatched: true,  status: 302, response: …, reason: "… redirects are not followed", request }
//   { call, dispatched: false, status: null, response: null, reason: "the tool … has no backend" }
// `request` says what was called: { method, url } or { method, service, path } (address.js's
// `shown` form: no credentials, the catalogue's own query values hidden; never the headers).
//
// The calls come from the model, which the query steers: a call is sent only when its tool and
// every argument are declared and its address stays inside what the catalogue declares
// (address.js); redirects are never followed. docs/SECURITY.md has the reasons.

import { fillAddress } from "./address.js";

/** The results of dispatching `calls` (complete calls) and reporting `cut` (a call cut short). */
export async function dispatchAll(calls, cut, settings, env) {
  const results = calls.map((call, i) => {
    const why = reasonNotToDispatch(call, i, settings);
    return why === null ? callBackend(call, settings.catalogue.byName.get(call.name).backend, settings, env)
      : notDispatched(call, why);
  });
  if (cut !== null) {
    results.push(notDispatched({ name: cut.name, arguments: null },
      `the arguments are incomplete: the output was cut by the token budget (MAX_NEW_TOKENS = ${settings.maxNewTokens}) `
        + "in the middle of this call", { partial: cut.text }));
  }
  return Promise.all(results);
}

function notDispatched(call, reason, extra) {
  return { call, dispatched: false, status: null, response: null, reason, ...extra };
}

/** Why a complete call is not sent, or null when it is. */
function reasonNotToDispatch(call, index, settings) {
  if (index >= settings.maxCalls) {
    return `the output has more than MAX_CALLS = ${settings.maxCalls} calls; only the first ones are dispatched`;
  }
  const tool = typeof call?.name === "string" ? settings.catalogue.byName.get(call.name) : undefined;
  if (tool === undefined) {
    return `${JSON.stringify(call?.name ?? null)} is not a tool of the catalogue`;
  }
  if (tool.backend === null) {
    return `the tool "${tool.name}" has no backend`;
  }
  const args = call.arguments;
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    return "the arguments are incomplete: they are not an object";
  }
  const undeclared = Object.keys(args).find((name) => !tool.params.some((p) => p.name === name));
  if (undeclared !== undefined) {
    return `the argument ${JSON.stringify(undeclared)} is not a parameter of the tool "${tool.name}"`;
  }
  const missing = tool.params.filter((p) => p.required && !Object.hasOwn(args, p.name)).map((p) => p.name);
  if (missing.length > 0) {
    return `the arguments are incomplete: the required ${missing.length === 1 ? "parameter" : "parameters"} `
      + missing.map((m) => `"${m}"`).join(", ") + (missing.length === 1 ? " is" : " are") + " missing";
  }
  return null;
}

/** A value as text for a query string: strings as they are, anything else as its JSON. */
function asText(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

const REDIRECTS = [301, 302, 303, 307, 308];

/**
 * The request for a call, with what the result shows of it, or { refused } when its address
 * would leave what the catalogue declares. Placeholders take their arguments (checked by
 * fillAddress); the other arguments go in the query string or the JSON body, as data. Headers
 * are the catalogue's only.
 */
function backendRequest(call, backend) {
  const rest = { ...call.arguments };
  /** @type {Record<string, unknown>} */
  const values = {};
  for (const name of backend.placeholders) {
    values[name] = rest[name];
  }
  for (const name of backend.placeholders) {
    delete rest[name];
  }
  /** @type {[string, string][]} */
  const query = backend.args === "query" ? Object.entries(rest).map(([n, v]) => [n, asText(v)]) : [];
  const filled = fillAddress(backend.address, values, backend.maxValueLength, query);
  if ("refused" in filled) {
    return filled;
  }
  const headers = new Headers({ accept: "application/json", "user-agent": "needle-worker" });
  for (const [name, value] of Object.entries(backend.headers)) {
    headers.set(name, value);
  }
  let body;
  if (backend.args === "json") {
    headers.set("content-type", "application/json");
    body = JSON.stringify(rest);
  }
  const shown = backend.service === null ? { method: backend.method, url: filled.shown }
    : { method: backend.method, service: backend.service, path: filled.shown.slice(backend.address.origin.length) };
  // redirect "manual": a 3xx is the answer; following it could carry the headers elsewhere
  return { request: new Request(filled.url, { method: backend.method, headers, body, redirect: "manual" }), shown };
}

async function callBackend(call, backend, settings, env) {
  let built;
  try {
    built = backendRequest(call, backend);
  } catch (e) {
    return notDispatched(call, "the request could not be made: " + String(e?.message ?? e).split("\n")[0]);
  }
  if ("refused" in built) {
    return notDispatched(call, built.refused);
  }
  const { request, shown } = built;
  const timeoutMs = backend.timeoutMs ?? settings.backendTimeoutMs;
  let response;
  try {
    const signal = AbortSignal.timeout(timeoutMs);
    response = backend.service === null ? await fetch(request, { signal })
      : await env[backend.service].fetch(request, { signal });
  } catch (e) {
    const reason = e?.name === "TimeoutError" || e?.name === "AbortError"
      ? `the backend did not answer within ${timeoutMs} ms`
      : "the backend request failed: " + String(e?.message ?? e).split("\n")[0];
    return { call, dispatched: true, status: null, response: null, reason, request: shown };
  }
  const redirect = REDIRECTS.includes(response.status) ? redirectReason(response, request.url) : null;
  try {
    const answer = await answerOf(response, settings);
    return { call, dispatched: true, status: response.status, response: answer, ...(redirect && { reason: redirect }), request: shown };
  } catch (e) {
    return { call, dispatched: true, status: response.status, response: null, reason: redirect ?? e.message, request: shown };
  }
}

/** Why a 3xx answer is the result: where it pointed (origin and path: its query may hold a token). */
function redirectReason(response, from) {
  const location = response.headers.get("location");
  let where = "no address";
  if (location !== null) {
    try {
      const to = new URL(location, from);
      where = to.protocol === "http:" || to.protocol === "https:" ? to.origin + to.pathname : to.protocol + " (not http)";
    } catch {
      where = "an invalid address";
    }
  }
  return `the backend answered ${response.status}, a redirect to ${where}; redirects are not followed`;
}

/** The backend's answer: its JSON when it says JSON (else its text), null when empty. */
async function answerOf(response, settings) {
  const max = settings.maxBackendResponseBytes;
  const declared = Number(response.headers.get("content-length"));
  if (declared > max) {
    await response.body?.cancel();
    throw new Error(`the backend's answer (${declared} bytes) is larger than MAX_BACKEND_RESPONSE_BYTES = ${max}; not relayed`);
  }
  const chunks = [];
  let length = 0;
  if (response.body !== null) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      if (length > max) {
        await reader.cancel().catch(() => {});
        throw new Error(`the backend's answer is larger than MAX_BACKEND_RESPONSE_BYTES = ${max}; not relayed`);
      }
      chunks.push(value);
    }
  }
  if (length === 0) {
    return null;
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  const text = new TextDecoder().decode(bytes);
  if (/\bjson\b/i.test(response.headers.get("content-type") ?? "")) {
    try {
      return JSON.parse(text);
    } catch {
      return text; // says JSON but is not: relayed as text
    }
  }
  return text;
}
