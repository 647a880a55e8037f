// @ts-check
// OpenAI's chat completions API over Needle, the Worker's side (the one place where it maps
// requests and answers; needle serve's twin is cli/…/OpenAiChat.java, which follows the same
// rules, checks in the same order and writes the same messages):
//
//   chatRequest(body, cap) → what the engine runs: the query (the last user message), the tools,
//                            whether a call is required, the budget; or an OpenAIError
//   outputCalls(text)      → the engine's text (a JSON array of calls) as tool calls whose
//                            arguments are the exact text the model wrote
//   completion(), chunks() → the chat.completion object, the chat.completion.chunk events
//
// Errors are OpenAI's error object {"error": {"message", "type", "param", "code"}}.

import { normalizeTools } from "needle-java-wasm";
import { kindOf } from "./http.js";

/** The one model this endpoint serves. */
export const MODEL_ID = "needle";
export const OWNED_BY = "needle-java-wasm";

/** Request parameters that change what is run. */
const USED = new Set(["model", "messages", "tools", "tool_choice", "parallel_tool_calls", "max_tokens",
  "max_completion_tokens", "stream", "stream_options"]);
/** Accepted and ignored: no effect on greedy, grammar-constrained decoding, or bookkeeping. */
const IGNORED = new Set(["temperature", "top_p", "seed", "user", "metadata", "store", "frequency_penalty",
  "presence_penalty", "stop", "service_tier", "prompt_cache_key", "safety_identifier", "reasoning_effort", "verbosity"]);
/** Accepted at their default only (null or the JSON text given), with the reason why. */
const DEFAULT_ONLY = new Map([
  ["n", ["1", "Needle answers with one choice"]],
  ["logprobs", ["false", "Needle does not return log probabilities"]],
  ["top_logprobs", ["0", "Needle does not return log probabilities"]],
  ["response_format", ['{"type":"text"}', "Needle answers with tool calls, not formatted text"]],
  ["modalities", ['["text"]', "Needle reads and writes text only"]],
  ["logit_bias", ["{}", "Needle's decoding is greedy and constrained by the tools' grammar"]],
  ["audio", [null, "Needle reads and writes text only"]],
  ["functions", [null, 'the deprecated "functions" are not supported: use "tools"']],
  ["function_call", [null, 'the deprecated "function_call" is not supported: use "tool_choice"']],
  ["web_search_options", [null, "Needle has no web search"]],
  ["prediction", [null, "Needle has no predicted outputs"]],
]);
const ROLES = ["system", "developer", "user", "assistant", "tool", "function"];

/**
 * An error answered as OpenAI's error object with the HTTP status: `code` a stable word for
 * programs, `param` the request field at fault (or null), the message one line for people.
 */
export class OpenAIError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string | null} param
   * @param {string} message
   */
  constructor(status, code, param, message) {
    super(message);
    this.name = "OpenAIError";
    this.status = status;
    this.code = code;
    this.param = param;
  }

  /** OpenAI's type: invalid_request_error for the client's faults, server_error for ours. */
  get type() {
    return this.status >= 500 ? "server_error" : "invalid_request_error";
  }

  toJSON() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const invalid = (code, param, message) => new OpenAIError(400, code, param, message);

/** The same value in absence as in JSON: undefined and null are "not given". */
const given = (v) => v !== undefined && v !== null;

/**
 * @typedef {object} ChatRequest
 * @property {string} query the last user message's text
 * @property {unknown[]} tools the tool list given to the engine: all, the named one, or none
 * @property {boolean} requireCall tool_choice "required" or a named function
 * @property {boolean} parallelToolCalls false: only the first call is answered
 * @property {number} maxNewTokens
 * @property {boolean} stream
 * @property {boolean} includeUsage stream_options.include_usage
 */

/**
 * Checks a request body (parsed JSON) and maps it; `cap` is the most tokens a request may generate.
 * Throws an OpenAIError for the first problem.
 * @returns {ChatRequest}
 */
export function chatRequest(body, cap) {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw invalid("invalid_type", null, "the request body must be a JSON object, got " + kindOf(body));
  }
  for (const [key, v] of Object.entries(body)) {
    const only = DEFAULT_ONLY.get(key);
    if (only !== undefined) {
      if (given(v) && (only[0] === null || only[0] !== JSON.stringify(v))) {
        throw invalid("unsupported_parameter", key, `unsupported parameter "${key}": ${only[1]}`
          + (only[0] === null ? "" : ` (only ${only[0]} is accepted)`));
      }
    } else if (!USED.has(key) && !IGNORED.has(key)) {
      throw invalid("unknown_parameter", key, `unknown parameter "${key}"`);
    }
  }
  checkModel(body.model);
  const query = queryOf(body.messages);
  const tools = toolsOf(body.tools);
  const choice = body.tool_choice;
  let engineTools;
  let requireCall;
  if (!given(choice) || choice === "auto") {
    engineTools = tools;
    requireCall = false;
  } else if (choice === "none") {
    engineTools = [];
    requireCall = false;
  } else if (choice === "required") {
    if (tools.length === 0) {
      throw invalid("invalid_value", "tool_choice", 'tool_choice "required" needs at least one tool in "tools"');
    }
    engineTools = tools;
    requireCall = true;
  } else {
    const name = namedFunction(choice);
    const chosen = tools.find((t) => t.function.name === name);
    if (chosen === undefined) {
      throw invalid("invalid_value", "tool_choice", `tool_choice names the function ${JSON.stringify(name)}, which is not among "tools"`);
    }
    engineTools = [chosen];
    requireCall = true;
  }
  const parallelToolCalls = optionalBoolean(body, "parallel_tool_calls", true);
  const completionMax = positiveInteger(body, "max_completion_tokens");
  const legacyMax = positiveInteger(body, "max_tokens");
  const maxNewTokens = Math.min(completionMax ?? legacyMax ?? cap, cap);
  const stream = optionalBoolean(body, "stream", false);
  let includeUsage = false;
  const options = body.stream_options;
  if (given(options)) {
    if (typeof options !== "object" || Array.isArray(options)) {
      throw invalid("invalid_type", "stream_options", '"stream_options" must be an object, got ' + kindOf(options));
    }
    if (!stream) {
      throw invalid("invalid_value", "stream_options", '"stream_options" is only allowed with "stream": true');
    }
    const usage = options.include_usage;
    if (given(usage) && typeof usage !== "boolean") {
      throw invalid("invalid_type", "stream_options.include_usage",
        '"stream_options.include_usage" must be true or false, got ' + kindOf(usage));
    }
    includeUsage = usage === true;
  }
  return { query, tools: engineTools, requireCall, parallelToolCalls, maxNewTokens, stream, includeUsage };
}

function checkModel(model) {
  if (!given(model)) {
    throw invalid("missing_required_parameter", "model", `missing required parameter "model" (this server's model is "${MODEL_ID}")`);
  }
  if (typeof model !== "string") {
    throw invalid("invalid_type", "model", '"model" must be a string, got ' + kindOf(model));
  }
  if (model !== MODEL_ID) {
    throw modelNotFound(model);
  }
}

/** @param {string} model */
export function modelNotFound(model) {
  return new OpenAIError(404, "model_not_found", "model", `the model ${JSON.stringify(model)} does not exist: this server serves "${MODEL_ID}"`);
}

/** The text of the last user message (its text parts joined by line breaks). */
function queryOf(messages) {
  if (!given(messages)) {
    throw invalid("missing_required_parameter", "messages", 'missing required parameter "messages"');
  }
  if (!Array.isArray(messages)) {
    throw invalid("invalid_type", "messages", '"messages" must be an array of messages, got ' + kindOf(messages));
  }
  if (messages.length === 0) {
    throw invalid("invalid_value", "messages", '"messages" must not be empty');
  }
  let query = null;
  messages.forEach((m, i) => {
    const at = `messages[${i}]`;
    if (m === null || typeof m !== "object" || Array.isArray(m)) {
      throw invalid("invalid_type", at, `${at} must be a message object {"role", "content"}, got ${kindOf(m)}`);
    }
    if (typeof m.role !== "string") {
      throw invalid("invalid_type", at + ".role", `${at}.role must be a string, got ${kindOf(m.role)}`);
    }
    if (!ROLES.includes(m.role)) {
      throw invalid("invalid_value", at + ".role", `unknown role ${JSON.stringify(m.role)} (roles: ${ROLES.join(", ")})`);
    }
    if (m.role === "user") {
      query = userText(m.content, at + ".content");
    }
  });
  if (query === null) {
    throw invalid("invalid_value", "messages", '"messages" has no user message: Needle routes the last user message');
  }
  return query;
}

function userText(content, at) {
  if (!given(content)) {
    throw invalid("missing_required_parameter", at, "missing required parameter " + at);
  }
  if (typeof content === "string") {
    return content;
  }
  if (!Array.isArray(content)) {
    throw invalid("invalid_type", at, `${at} must be a string or an array of text parts, got ${kindOf(content)}`);
  }
  return content.map((part, j) => {
    const pat = `${at}[${j}]`;
    if (part === null || typeof part !== "object" || Array.isArray(part)) {
      throw invalid("invalid_type", pat, `${pat} must be a content part object, got ${kindOf(part)}`);
    }
    if (part.type !== "text") {
      throw invalid("unsupported_content", pat + ".type", "only text content is supported (Needle reads text), got a part of type "
        + (typeof part.type === "string" ? JSON.stringify(part.type) : kindOf(part.type)));
    }
    if (typeof part.text !== "string") {
      throw invalid("invalid_type", pat + ".text", `${pat}.text must be a string, got ${kindOf(part.text)}`);
    }
    return part.text;
  }).join("\n");
}

/** The request's tools: function tools, each with a function name (the engine checks the rest). */
function toolsOf(tools) {
  if (!given(tools)) {
    return [];
  }
  if (!Array.isArray(tools)) {
    throw invalid("invalid_type", "tools", '"tools" must be an array of tools, got ' + kindOf(tools));
  }
  tools.forEach((t, i) => {
    const at = `tools[${i}]`;
    if (t === null || typeof t !== "object" || Array.isArray(t)) {
      throw invalid("invalid_type", at, `${at} must be a tool object {"type": "function", "function": {…}}, got ${kindOf(t)}`);
    }
    if (t.type !== "function") {
      throw invalid("invalid_value", at + ".type", `${at}: only function tools are supported ({"type": "function", "function": {…}})`);
    }
    const f = t.function;
    if (f === null || typeof f !== "object" || Array.isArray(f)) {
      throw invalid("invalid_type", at + ".function", `${at}.function must be an object {"name", "description", "parameters"}, got ${kindOf(f)}`);
    }
    if (typeof f.name !== "string" || f.name === "") {
      throw invalid("invalid_value", at + ".function.name", `${at}.function.name must be a non-empty string`);
    }
  });
  const report = normalizeTools(tools);
  if (report.problems.length > 0) {
    throw invalid("invalid_value", "tools", '"tools": ' + report.problems[0].message);
  }
  return tools;
}

function namedFunction(choice) {
  if (choice !== null && typeof choice === "object" && choice.type === "function"
    && choice.function !== null && typeof choice.function === "object" && typeof choice.function.name === "string") {
    return choice.function.name;
  }
  throw invalid("invalid_value", "tool_choice", 'tool_choice must be "auto", "none", "required" or {"type": "function", "function": {"name": …}}, got '
    + describe(choice));
}

function optionalBoolean(body, key, dflt) {
  const v = body[key];
  if (!given(v)) {
    return dflt;
  }
  if (typeof v !== "boolean") {
    throw invalid("invalid_type", key, `"${key}" must be true or false, got ${kindOf(v)}`);
  }
  return v;
}

/** An optional integer of at least 1; undefined when absent. */
function positiveInteger(body, key) {
  const v = body[key];
  if (!given(v)) {
    return undefined;
  }
  if (typeof v === "number" && Number.isInteger(v) && v >= 1) {
    return v;
  }
  throw invalid("invalid_value", key, `"${key}" must be an integer of at least 1, got ${describe(v)}`);
}

/** A value in a message: its compact JSON, shortened. */
function describe(v) {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

// ---------------------------------------------------------------------------------------------
// output → tool calls

/**
 * @typedef {object} Call
 * @property {string} id
 * @property {string} name
 * @property {string} arguments the arguments object as the model wrote it (so far, when cut short)
 * @property {boolean} closed true once the call's object is closed
 */

/**
 * The calls of the engine's output text, `[{"name":"…","arguments":{…}},…]` (the layout the
 * grammar guarantees): a call counts once its name is complete; its arguments are the exact text of
 * its arguments object (as far as it goes when the budget cut it). Anything outside that layout
 * ends the reading (it cannot happen with constrained decoding).
 * @param {string} text
 * @returns {Call[]}
 */
export function outputCalls(text) {
  /** @type {Call[]} */
  const calls = [];
  const NAME_PREFIX = '{"name":"';
  const ARGUMENTS_PREFIX = ',"arguments":';
  let i = text.startsWith(" ") ? 1 : 0;
  if (text[i] !== "[") {
    return calls;
  }
  i++;
  for (;;) {
    if (!text.startsWith(NAME_PREFIX, i)) {
      return calls; // "]", or the text ends within the prefix
    }
    i += NAME_PREFIX.length;
    let end = i;
    while (end < text.length && text[end] !== '"') {
      end += text[end] === "\\" ? 2 : 1;
    }
    if (end >= text.length) {
      return calls; // the name is not complete
    }
    const call = { id: newId("call_"), name: JSON.parse('"' + text.slice(i, end) + '"'), arguments: "", closed: false };
    calls.push(call);
    i = end + 1;
    if (!text.startsWith(ARGUMENTS_PREFIX, i)) {
      return calls;
    }
    i += ARGUMENTS_PREFIX.length;
    const start = i;
    let depth = 0;
    let inString = false;
    let escaped = false;
    let done = false;
    for (; i < text.length && !done; i++) {
      const c = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === "\\") escaped = true;
        else if (c === '"') inString = false;
      } else if (c === '"') {
        inString = true;
      } else if (c === "{" || c === "[") {
        depth++;
      } else if (c === "}" || c === "]") {
        depth--;
      }
      done = !inString && depth === 0;
    }
    call.arguments = text.slice(start, i);
    if (!done || text[i] !== "}") {
      return calls;
    }
    call.closed = true;
    i++;
    if (text[i] !== ",") {
      return calls;
    }
    i++;
  }
}

/**
 * A finished run as the answer sees it: the calls returned (only the first without parallel tool
 * calls), the content (the model's text when no call is returned, e.g. "[]") and the finish reason.
 * @param {{text: string, complete: boolean}} result
 * @param {ChatRequest} request
 */
export function answerOf(result, request) {
  let calls = outputCalls(result.text);
  if (!request.parallelToolCalls && calls.length > 1) {
    calls = calls.slice(0, 1);
  }
  const content = calls.length === 0 ? result.text : null;
  let finishReason;
  if (calls.length === 0) {
    finishReason = result.complete ? "stop" : "length";
  } else {
    finishReason = result.complete || (!request.parallelToolCalls && calls[0].closed) ? "tool_calls" : "length";
  }
  return { calls, content, finishReason };
}

/** usage: the encoder input's tokens and the generated ones. */
export function usageOf(promptTokens, completionTokens) {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/** The chat.completion object of a finished run. */
export function completion(id, created, answer, usage) {
  /** @type {Record<string, unknown>} */
  const message = { role: "assistant", content: answer.content, refusal: null };
  if (answer.calls.length > 0) {
    message.tool_calls = answer.calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
  }
  return {
    id, object: "chat.completion", created, model: MODEL_ID,
    choices: [{ index: 0, message, logprobs: null, finish_reason: answer.finishReason }],
    usage,
  };
}

/**
 * The chat.completion.chunk events of a finished run, in the order a stream gives them: the role,
 * per call its start (id, name) and its arguments, the content when no call came, the finish
 * reason and (with include_usage) the usage. The engine runs synchronously in the isolate, so the
 * Worker sends them together once the run is over.
 */
export function chunks(id, created, answer, request, usage) {
  const head = { id, object: "chat.completion.chunk", created, model: MODEL_ID };
  const events = [];
  const emit = (delta, finishReason) => events.push({
    ...head,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(request.includeUsage ? { usage: null } : {}),
  });
  emit({ role: "assistant" }, null);
  answer.calls.forEach((c, index) => {
    emit({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] }, null);
    if (c.arguments !== "") {
      emit({ tool_calls: [{ index, function: { arguments: c.arguments } }] }, null);
    }
  });
  if (answer.content !== null && answer.content !== "") {
    emit({ content: answer.content }, null);
  }
  emit({}, answer.finishReason);
  if (request.includeUsage) {
    events.push({ ...head, choices: [], usage });
  }
  return events;
}

/** The server-sent events text of chunks, ending with "data: [DONE]". */
export function sseText(events) {
  return events.map((e) => "data: " + JSON.stringify(e) + "\n\n").join("") + "data: [DONE]\n\n";
}

/** GET /v1/models/needle */
export function modelObject() {
  return { id: MODEL_ID, object: "model", created: 0, owned_by: OWNED_BY };
}

/** GET /v1/models */
export function modelList() {
  return { object: "list", data: [modelObject()] };
}

/** prefix and 24 random hex digits (chatcmpl-…, call_…). */
export function newId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
