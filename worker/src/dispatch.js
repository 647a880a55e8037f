// @ts-check
// Dispatching: each routed call goes to its tool's backend, all at once, and the answers come back
// in the order of the calls. One result per call:
//   { call, dispatched: true,  status: 200, response: <the backend's JSON, or its text> }
//   { call, dispatched: true,  status: null, response: null, reason: "the backend did not answer …" }
//   { call, dispatched: false, status: null, response: null, reason: "the tool … has no backend" }

const PLACEHOLDER = /\{([^{}]*)\}/g;

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
  const tool = settings.catalogue.byName.get(call?.name);
  if (tool === undefined) {
    return `"${call?.name}" is not a tool of the catalogue`;
  }
  if (tool.backend === null) {
    return `the tool "${tool.name}" has no backend`;
  }
  const args = call.arguments;
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    return "the arguments are incomplete: they are not an object";
  }
  const missing = tool.params.filter((p) => p.required && !Object.hasOwn(args, p.name)).map((p) => p.name);
  if (missing.length > 0) {
    return `the arguments are incomplete: the required ${missing.length === 1 ? "parameter" : "parameters"} `
      + missing.map((m) => `"${m}"`).join(", ") + (missing.length === 1 ? " is" : " are") + " missing";
  }
  return null;
}

/** A value as text for a URL: strings as they are, anything else as its JSON. */
function asText(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function backendRequest(call, backend) {
  const rest = { ...call.arguments };
  const address = backend.template.replace(PLACEHOLDER, (_, name) => {
    const value = rest[name];
    delete rest[name];
    return encodeURIComponent(asText(value));
  });
  const url = new URL(address);
  const headers = new Headers({ accept: "application/json", "user-agent": "needle-worker" });
  for (const [name, value] of Object.entries(backend.headers)) {
    headers.set(name, value);
  }
  let body;
  if (backend.args === "query") {
    for (const [name, value] of Object.entries(rest)) {
      url.searchParams.append(name, asText(value));
    }
  } else {
    headers.set("content-type", "application/json");
    body = JSON.stringify(rest);
  }
  return new Request(url, { method: backend.method, headers, body });
}

async function callBackend(call, backend, settings, env) {
  const timeoutMs = backend.timeoutMs ?? settings.backendTimeoutMs;
  let response;
  try {
    const request = backendRequest(call, backend);
    const signal = AbortSignal.timeout(timeoutMs);
    response = backend.service === null ? await fetch(request, { signal })
      : await env[backend.service].fetch(request, { signal });
  } catch (e) {
    const reason = e?.name === "TimeoutError" || e?.name === "AbortError"
      ? `the backend did not answer within ${timeoutMs} ms`
      : "the backend request failed: " + String(e?.message ?? e).split("\n")[0];
    return { call, dispatched: true, status: null, response: null, reason };
  }
  try {
    return { call, dispatched: true, status: response.status, response: await answerOf(response, settings) };
  } catch (e) {
    return { call, dispatched: true, status: response.status, response: null, reason: e.message };
  }
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
