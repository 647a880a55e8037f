// @ts-check
// The tool catalogue: the tools the Worker routes over by default, each optionally bound to the
// backend /dispatch calls. Tools come in any form the engine accepts (the flat Needle form, a
// JSON-Schema `parameters` object, OpenAI's {"type":"function","function":{…}}); a `backend`
// member beside them says where calls go:
//
//   "backend": { "url": "https://api.example.com/orders/{order_id}"   (or "service": "BINDING", "path": "/…")
//                "method": "GET",                 GET POST PUT PATCH DELETE (default POST)
//                "args": "query",                 "json" (a JSON body) or "query" (the query string)
//                "headers": { "authorization": "Bearer ${ORDERS_TOKEN}" },   ${NAME}: a secret or var
//                "timeout_ms": 5000,
//                "max_value_length": 256 }        the longest value a {placeholder} takes
//
// `{name}` in the URL or path is replaced by that argument (checked and URL-encoded: address.js);
// it must be a required parameter, and may stand only in the path or in a query value. Headers
// are fixed: no argument goes into them. Everything is checked once, when the configuration is
// first read: a bad catalogue answers every request with a 500 configuration_error naming the
// problem. The tools themselves are read and checked by the engine (normalizeTools of
// needle-java-wasm: the forms, snake_case names, parameters and whether they are required); only
// the backends are the Worker's. docs/SECURITY.md says why each rule exists.

import { normalizeTools } from "needle-java-wasm";
import { DEFAULT_MAX_VALUE_LENGTH, parseAddress } from "./address.js";
import { HttpError } from "./http.js";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const BACKEND_KEYS = ["url", "service", "path", "method", "args", "headers", "timeout_ms", "max_value_length"];
const MAX_VALUE_LENGTH_LIMIT = 65_536;
const PLACEHOLDER = /\{([^{}]*)\}/g;
const SECRET = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function configError(message) {
  return new HttpError(500, "configuration_error", "the tool catalogue is invalid: " + message);
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Parses and checks a catalogue: `{ "tools": [ … ] }` or the array alone. Returns
 * { tools: [{ name, engineTool, params: [{name, required}], backend | null }], byName: Map }.
 * `env` resolves service bindings and ${NAME} references in headers.
 */
export function parseCatalogue(source, env) {
  let value = source;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch (e) {
      throw configError("it is not valid JSON: " + e.message);
    }
  }
  const list = Array.isArray(value) ? value : value?.tools;
  if (!Array.isArray(list)) {
    throw configError('expected {"tools": [ … ]} or an array of tools');
  }
  // the engine reads each tool without its backend, as /route and /dispatch give it to the engine
  const engineTools = list.map((entry) => {
    if (!isObject(entry)) {
      return entry; // the engine names the problem
    }
    const { backend: _, ...engineTool } = entry;
    return engineTool;
  });
  const report = normalizeTools(engineTools);
  if (report.problems.length > 0) {
    throw configError(report.problems[0].message);
  }
  const tools = report.tools.map((t) => {
    const shape = { name: t.original, params: t.parameters.map((p) => ({ name: p.name, required: p.required })) };
    const backend = list[t.index].backend;
    return {
      name: shape.name,
      engineTool: engineTools[t.index],
      params: shape.params,
      backend: backend === undefined || backend === null ? null : parseBackend(backend, shape, `tool "${shape.name}"`, env),
    };
  });
  return { tools, byName: new Map(tools.map((t) => [t.name, t])) };
}

function parseBackend(b, shape, where, env) {
  if (b === null || typeof b !== "object" || Array.isArray(b)) {
    throw configError(`${where}: "backend" must be an object`);
  }
  for (const key of Object.keys(b)) {
    if (!BACKEND_KEYS.includes(key)) {
      throw configError(`${where}: unknown backend member "${key}" (allowed: ${BACKEND_KEYS.join(", ")})`);
    }
  }
  if ((b.url === undefined) === (b.service === undefined)) {
    throw configError(`${where}: the backend needs exactly one of "url" or "service"`);
  }
  const method = b.method === undefined ? "POST" : String(b.method).toUpperCase();
  if (!METHODS.includes(method)) {
    throw configError(`${where}: backend method "${b.method}" is not one of ${METHODS.join(", ")}`);
  }
  const args = b.args ?? (method === "GET" || method === "DELETE" ? "query" : "json");
  if (args !== "json" && args !== "query") {
    throw configError(`${where}: backend "args" must be "json" or "query", got ${JSON.stringify(b.args)}`);
  }
  if (args === "json" && method === "GET") {
    throw configError(`${where}: a GET request has no body; use "args": "query"`);
  }
  let template;
  let service = null;
  if (b.url !== undefined) {
    if (typeof b.url !== "string") {
      throw configError(`${where}: backend "url" must be a string`);
    }
    if (b.path !== undefined) {
      throw configError(`${where}: "path" goes with "service"; put the path in the "url"`);
    }
    template = b.url;
  } else {
    if (typeof b.service !== "string" || b.service === "") {
      throw configError(`${where}: backend "service" must name a service binding`);
    }
    if (typeof env?.[b.service]?.fetch !== "function") {
      throw configError(`${where}: there is no service binding "${b.service}" (add it to "services" in the Wrangler configuration)`);
    }
    service = b.service;
    const path = b.path ?? "/";
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw configError(`${where}: backend "path" must start with "/"`);
    }
    template = "https://" + service.toLowerCase().replace(/[^a-z0-9-]/g, "-") + ".service" + path;
  }
  let address;
  try {
    address = parseAddress(template, service === null ? `backend url "${template}"` : `backend path "${b.path ?? "/"}"`);
  } catch (e) {
    throw configError(`${where}: ${e.message}`);
  }
  const placeholders = address.placeholders.map((p) => p.name);
  for (const name of placeholders) {
    const param = shape.params.find((p) => p.name === name);
    if (param === undefined) {
      throw configError(`${where}: the backend address uses {${name}}, which is not a parameter of the tool`);
    }
    if (!param.required) {
      throw configError(`${where}: the backend address uses {${name}}, which is not a required parameter`);
    }
  }
  if (args === "query") {
    const own = [...new URLSearchParams((address.query ?? []).map((pair) => pair.name).join("&")).keys()];
    const clash = shape.params.find((p) => !placeholders.includes(p.name) && own.includes(p.name));
    if (clash !== undefined) {
      throw configError(`${where}: the parameter "${clash.name}" would repeat the query parameter "${clash.name}" of the backend URL`);
    }
  }
  const headers = {};
  if (b.headers !== undefined) {
    if (b.headers === null || typeof b.headers !== "object" || Array.isArray(b.headers)) {
      throw configError(`${where}: backend "headers" must be an object of strings`);
    }
    for (const [name, value] of Object.entries(b.headers)) {
      if (typeof value !== "string") {
        throw configError(`${where}: header "${name}" must be a string`);
      }
      for (const m of value.matchAll(PLACEHOLDER)) {
        if (shape.params.some((p) => p.name === m[1])) {
          throw configError(`${where}: header "${name}" uses {${m[1]}}: headers are fixed, arguments never go into them `
            + "(put it in the URL or the body)");
        }
      }
      headers[name] = value.replace(SECRET, (_, ref) => {
        const v = env?.[ref];
        if (typeof v !== "string") {
          throw configError(`${where}: header "${name}" uses \${${ref}}, which is not set (add a secret: wrangler secret put ${ref})`);
        }
        return v;
      });
      try {
        new Headers({ [name]: headers[name] });
      } catch {
        throw configError(`${where}: header "${name}" is not a valid HTTP header`);
      }
    }
  }
  let timeoutMs = null;
  if (b.timeout_ms !== undefined) {
    if (!Number.isInteger(b.timeout_ms) || b.timeout_ms <= 0) {
      throw configError(`${where}: backend "timeout_ms" must be a positive integer`);
    }
    timeoutMs = b.timeout_ms;
  }
  let maxValueLength = DEFAULT_MAX_VALUE_LENGTH;
  if (b.max_value_length !== undefined) {
    if (!Number.isInteger(b.max_value_length) || b.max_value_length < 1 || b.max_value_length > MAX_VALUE_LENGTH_LIMIT) {
      throw configError(`${where}: backend "max_value_length" must be an integer from 1 to ${MAX_VALUE_LENGTH_LIMIT}`);
    }
    maxValueLength = b.max_value_length;
  }
  return { template, service, method, args, headers, timeoutMs, placeholders, maxValueLength, address };
}

/** What /health shows of a backend (no header values: they may hold secrets). */
export function describeBackend(backend) {
  if (backend === null) {
    return null;
  }
  const where = backend.service === null
    ? { url: backend.template.split("?")[0] }
    : { service: backend.service, path: backend.template.replace(/^https:\/\/[^/]*/, "") };
  return { ...where, method: backend.method, args: backend.args };
}
