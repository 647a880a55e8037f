// @ts-check
// needle-worker: a Cloudflare Worker that turns what a user said into tool calls with Needle
// (needle-java-wasm, the "workerd" entry) and dispatches them to the tools' backends.
//
//   POST /route     {query, tools?, max_new_tokens?} → {calls, text, complete, timings}
//   POST /dispatch  {query}                          → {calls, text, complete, timings, results: [{call, dispatched, status, response, reason?, request?}]}
//   GET  /health                                     → {status, model, catalogue, limits}
//   POST /v1/chat/completions, GET /v1/models[/needle] → OpenAI's chat completions API (openai.js)
//
// Every failure answers a JSON {"error": {status, code, message}}: 4xx for the request's faults,
// 5xx for the configuration, the model or the engine; under /v1/ OpenAI's error object
// {"error": {message, type, param, code}}. With the secret API_TOKEN set, /route, /dispatch and
// /v1/ want "Authorization: Bearer API_TOKEN". See README.md.

import { NeedleError, normalizeTools } from "needle-java-wasm";
import { describeBackend } from "./catalogue.js";
import { dispatchAll } from "./dispatch.js";
import { badRequest, errorResponse, HttpError, json, kindOf, oneLine, readJson, readJsonObject } from "./http.js";
import { getEngine, modelStatus } from "./model.js";
import {
  answerOf, chatRequest, chunks, completion, modelList, modelNotFound, MODEL_ID, modelObject, newId, OpenAIError,
  sseText, usageOf,
} from "./openai.js";
import { callsOf, route } from "./route.js";
import { MODEL_MAX_NEW_TOKENS, settingsFor } from "./settings.js";

const ENDPOINTS = {
  "/route": { method: "POST", handle: handleRoute, private: true },
  "/dispatch": { method: "POST", handle: handleDispatch, private: true },
  "/health": { method: "GET", handle: handleHealth, private: false },
  "/v1/chat/completions": { method: "POST", handle: handleChat, private: true },
  "/v1/models": { method: "GET", handle: handleModels, private: true },
};
const MODEL_PATH = "/v1/models/";

/** @type {ExportedHandler<Env>} */
export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    const openai = path === "/v1" || path.startsWith("/v1/");
    try {
      const endpoint = path.startsWith(MODEL_PATH)
        ? { method: "GET", handle: handleModel, private: true }
        : Object.hasOwn(ENDPOINTS, path) ? ENDPOINTS[path] : undefined;
      if (endpoint === undefined) {
        throw openai
          ? new OpenAIError(404, "unknown_url", null, `there is no ${request.method} ${path}: the endpoints are POST /v1/chat/completions, GET /v1/models and GET /v1/models/{model}`)
          : new HttpError(404, "not_found", `there is no ${path}: the endpoints are POST /route, POST /dispatch, GET /health, POST /v1/chat/completions and GET /v1/models`);
      }
      if (request.method !== endpoint.method) {
        throw new HttpError(405, "method_not_allowed", `${path} takes ${endpoint.method}, not ${request.method}`,
          { allow: [endpoint.method] });
      }
      if (endpoint.private) {
        authorize(request, env, openai);
      }
      return await endpoint.handle(request, env, ctx, path);
    } catch (e) {
      return openai ? openAIErrorResponse(e) : errorResponse(asHttpError(e));
    }
  },
};

/**
 * POST /v1/chat/completions: OpenAI's chat completions over the request's tools (openai.js maps
 * the request and the answer). Streams are sent whole once the run is over (the engine runs
 * synchronously in the isolate).
 */
async function handleChat(request, env, ctx) {
  const settings = settingsFor(env);
  const chat = chatRequest(await readJson(request, settings.maxBodyBytes), settings.maxNewTokens);
  const { engine } = await loadedEngine(settings, env, ctx);
  const id = newId("chatcmpl-");
  const created = Math.floor(Date.now() / 1000);
  let r;
  try {
    r = engine.runDetailed(chat.query, chat.tools, { maxNewTokens: chat.maxNewTokens, requireCall: chat.requireCall });
  } catch (e) {
    if (e instanceof NeedleError && (e.kind === "INPUT" || e.kind === "JSON")) {
      throw new OpenAIError(400, "invalid_value", null, oneLine(e.message));
    }
    if (e instanceof NeedleError) {
      throw new OpenAIError(500, "engine_error", null, "the engine failed: " + oneLine(e.message));
    }
    throw e;
  }
  const answer = answerOf(r, chat);
  const usage = usageOf(r.timings.prefillTokens, r.tokens.length);
  if (chat.stream) {
    return new Response(sseText(chunks(id, created, answer, chat, usage)), {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
    });
  }
  return json(completion(id, created, answer, usage));
}

/** GET /v1/models */
async function handleModels() {
  return json(modelList());
}

/** GET /v1/models/{model} */
async function handleModel(request, env, ctx, path) {
  const id = decodeURIComponent(path.slice(MODEL_PATH.length));
  if (id !== MODEL_ID) {
    throw modelNotFound(id);
  }
  return json(modelObject());
}

/** Any failure under /v1/ as OpenAI's error object, with the status and the headers it calls for. */
function openAIErrorResponse(e) {
  const headers = {};
  let error;
  if (e instanceof OpenAIError) {
    error = e;
  } else {
    const h = asHttpError(e);
    error = new OpenAIError(h.status, h.code, null, h.message);
    if (h.status === 405 && h.extra?.allow) {
      headers.allow = h.extra.allow.join(", ");
    }
    if (h.status === 503 && Number.isInteger(h.extra?.retry_after_seconds)) {
      headers["retry-after"] = String(h.extra.retry_after_seconds);
    }
  }
  if (error.status === 401) {
    headers["www-authenticate"] = "Bearer";
  }
  return json(error.toJSON(), error.status, headers);
}

/** POST /route: the calls for {query, tools?}; tools default to the catalogue. */
async function handleRoute(request, env, ctx) {
  const settings = settingsFor(env);
  const body = await readJsonObject(request, settings.maxBodyBytes);
  onlyFields(body, ["query", "tools", "max_new_tokens"]);
  const query = queryOf(body);
  const tools = body.tools === undefined ? catalogueToolsText(settings) : requestToolsText(body.tools, settings);
  const maxNewTokens = maxNewTokensOf(body, settings);
  const { engine, waitedMs } = await loadedEngine(settings, env, ctx);
  return json(run(() => route(engine, query, tools, maxNewTokens, waitedMs)));
}

/** POST /dispatch: routes {query} over the catalogue and calls the chosen backends. */
async function handleDispatch(request, env, ctx) {
  const settings = settingsFor(env);
  const body = await readJsonObject(request, settings.maxBodyBytes);
  if (Object.hasOwn(body, "tools")) {
    throw badRequest("invalid_request", '/dispatch routes over the configured catalogue and takes no "tools"; use /route to try other tools');
  }
  onlyFields(body, ["query"]);
  const query = queryOf(body);
  const { engine, waitedMs } = await loadedEngine(settings, env, ctx);
  const routed = run(() => route(engine, query, catalogueToolsText(settings), settings.maxNewTokens, waitedMs));
  const { calls, cut } = callsOf(routed);
  const results = await dispatchAll(calls, cut, settings, env);
  return json({ ...routed, results });
}

/** GET /health: whether the model is loaded, and what is configured. Never loads the model. */
async function handleHealth(request, env) {
  const settings = settingsFor(env);
  const model = modelStatus();
  const failed = model.state === "failed";
  return json({
    status: failed ? "model_failed" : "ok",
    model: { ...model, weights: publicAddress(settings.weightsUrl), vocab: publicAddress(settings.vocabUrl) },
    catalogue: {
      source: settings.catalogueSource,
      tools: settings.catalogue.tools.map((t) => ({ name: t.name, backend: describeBackend(t.backend) })),
    },
    limits: {
      max_body_bytes: settings.maxBodyBytes,
      max_new_tokens: settings.maxNewTokens,
      max_calls: settings.maxCalls,
      backend_timeout_ms: settings.backendTimeoutMs,
    },
  }, failed ? 503 : 200);
}

/**
 * With the secret API_TOKEN set, /route, /dispatch and /v1/ want "Authorization: Bearer API_TOKEN"
 * (401 otherwise; the OpenAI SDK sends its apiKey so). Without it they are open to anyone who can
 * reach the Worker.
 */
function authorize(request, env, openai) {
  const token = env.API_TOKEN;
  if (typeof token !== "string" || token === "") {
    return;
  }
  const given = request.headers.get("authorization") ?? "";
  const want = "Bearer " + token;
  const encoder = new TextEncoder();
  const a = encoder.encode(given);
  const b = encoder.encode(want);
  const same = a.length === b.length
    && (typeof crypto.subtle.timingSafeEqual === "function" ? crypto.subtle.timingSafeEqual(a, b) : given === want);
  if (!same) {
    throw openai
      ? new OpenAIError(401, "invalid_api_key", null, 'a valid API key is needed: the header "Authorization: Bearer <API_TOKEN>" (the Worker\'s secret API_TOKEN; the SDK\'s apiKey)')
      : new HttpError(401, "unauthorized", 'this endpoint needs the header "Authorization: Bearer <API_TOKEN>"');
  }
}

function onlyFields(body, allowed) {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw badRequest("invalid_request", `unknown field "${key}" (this endpoint takes ${allowed.map((a) => `"${a}"`).join(", ")})`);
    }
  }
}

function queryOf(body) {
  if (!Object.hasOwn(body, "query")) {
    throw badRequest("invalid_request", 'the field "query" is missing: send {"query": "what the user said"}');
  }
  if (typeof body.query !== "string") {
    throw badRequest("invalid_request", `"query" must be a string, got ${kindOf(body.query)}`);
  }
  return body.query;
}

function maxNewTokensOf(body, settings) {
  const v = body.max_new_tokens;
  if (v === undefined) {
    return settings.maxNewTokens;
  }
  if (!Number.isInteger(v) || v < 0 || v > MODEL_MAX_NEW_TOKENS) {
    throw badRequest("invalid_request", `"max_new_tokens" must be an integer from 0 to ${MODEL_MAX_NEW_TOKENS}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** The catalogue's tools as the engine reads them (without their backends), computed once. */
function catalogueToolsText(settings) {
  settings.catalogueToolsText ??= JSON.stringify(settings.catalogue.tools.map((t) => t.engineTool));
  return settings.catalogueToolsText;
}

/**
 * A request's "tools": an array of tool definitions (any accepted form; a "backend" member is
 * ignored) and/or names of catalogue tools, checked by the engine (normalizeTools) as the
 * catalogue is.
 */
function requestToolsText(tools, settings) {
  if (!Array.isArray(tools)) {
    throw badRequest("invalid_request", `"tools" must be an array of tool definitions or catalogue tool names, got ${kindOf(tools)}`);
  }
  const definitions = tools.map((t, i) => {
    if (typeof t === "string") {
      const tool = settings.catalogue.byName.get(t);
      if (tool === undefined) {
        const known = [...settings.catalogue.byName.keys()].map((n) => `"${n}"`).join(", ") || "none";
        throw badRequest("unknown_tool", `tools[${i}]: "${t}" is not a tool of the catalogue (its tools: ${known})`, { tool: t });
      }
      return tool.engineTool;
    }
    if (t === null || typeof t !== "object" || Array.isArray(t)) {
      throw badRequest("invalid_request", `tools[${i}] must be a tool definition (an object) or a catalogue tool name, got ${kindOf(t)}`);
    }
    const { backend: _, ...definition } = t;
    return definition;
  });
  const report = normalizeTools(definitions);
  if (report.problems.length > 0) {
    const problem = report.problems[0];
    throw badRequest("invalid_request", `"tools": ${problem.message}`, report.json ? undefined : { kind: "JSON" });
  }
  return JSON.stringify(definitions);
}

async function loadedEngine(settings, env, ctx) {
  try {
    return await getEngine(settings, env, ctx);
  } catch (e) {
    const kind = e instanceof NeedleError ? e.kind : "INTERNAL";
    if (!(e instanceof NeedleError)) {
      console.error("needle-worker: model load failed:", e?.stack ?? e);
    }
    throw new HttpError(503, "model_unavailable", "the model could not be loaded: " + oneLine(e?.message ?? e),
      { kind, retry_after_seconds: settings.loadRetryMs / 1000 });
  }
}

/** Runs the engine; its errors become JSON errors (400 for the request's faults, 500 otherwise). */
function run(body) {
  try {
    return body();
  } catch (e) {
    if (e instanceof NeedleError && (e.kind === "INPUT" || e.kind === "JSON")) {
      throw badRequest("invalid_request", oneLine(e.message), { kind: e.kind });
    }
    if (e instanceof NeedleError) {
      throw new HttpError(500, "engine_error", "the engine failed: " + oneLine(e.message), { kind: e.kind });
    }
    throw e;
  }
}

function asHttpError(e) {
  if (e instanceof HttpError) {
    return e;
  }
  console.error("needle-worker: internal error:", e?.stack ?? e); // for `wrangler tail`, not the client
  return new HttpError(500, "internal_error", "internal error: " + oneLine(e?.message ?? e));
}

/** A model address without credentials or query (pre-signed URLs carry secrets there). */
function publicAddress(source) {
  if (source.startsWith("r2:")) {
    return source;
  }
  const u = new URL(source);
  return u.origin + u.pathname;
}
