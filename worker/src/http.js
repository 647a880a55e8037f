// @ts-check
// HTTP plumbing: JSON responses, the JSON error every failure answers with, and request bodies
// read with a size cap.

/**
 * An error the client gets as a JSON answer: `status` is the HTTP status, `code` a stable word
 * for programs, `message` one line for people. Never carries a stack trace to the client.
 */
export class HttpError extends Error {
  constructor(status, code, message, extra) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.extra = extra ?? null;
  }
}

export const badRequest = (code, message, extra) => new HttpError(400, code, message, extra);

/** A JSON answer (compact, UTF-8, not cached). */
export function json(value, status = 200, headers = {}) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

/** The answer for an HttpError: {"error": {"status", "code", "message", ...extra}}. */
export function errorResponse(error) {
  const body = { status: error.status, code: error.code, message: error.message, ...(error.extra ?? {}) };
  const headers = {};
  if (error.status === 405 && error.extra?.allow) {
    headers.allow = error.extra.allow.join(", ");
  }
  if (error.status === 401) {
    headers["www-authenticate"] = "Bearer";
  }
  if (error.status === 503 && Number.isInteger(error.extra?.retry_after_seconds)) {
    headers["retry-after"] = String(error.extra.retry_after_seconds);
  }
  return json({ error: body }, error.status, headers);
}

/**
 * The request's body parsed as a JSON object, at most `maxBytes` bytes: 413 when longer (by its
 * Content-Length or while reading), 400 when empty, not UTF-8, not JSON or not an object.
 */
export async function readJsonObject(request, maxBytes) {
  const value = await readJson(request, maxBytes);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest("invalid_request", "the request body must be a JSON object, got " + kindOf(value));
  }
  return value;
}

/** The request's body parsed as JSON (any value), with the checks of readJsonObject but the last. */
export async function readJson(request, maxBytes) {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    throw tooLarge(maxBytes);
  }
  const bytes = await readCapped(request.body, maxBytes);
  if (bytes.length === 0) {
    throw badRequest("invalid_json", "the request body is empty; send a JSON object");
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw badRequest("invalid_json", "the request body is not UTF-8 text");
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw badRequest("invalid_json", "the request body is not valid JSON: " + oneLine(e.message));
  }
  return value;
}

/** Reads a stream into one Uint8Array, failing with 413 past `maxBytes`. */
async function readCapped(stream, maxBytes) {
  if (stream === null) {
    return new Uint8Array(0);
  }
  const chunks = [];
  let length = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    length += value.length;
    if (length > maxBytes) {
      await drain(reader, DRAIN_BYTES);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * How much more of an oversized body is read (and dropped) before answering 413: a client still
 * sending when the answer comes and the connection closes sees a broken pipe instead of the 413.
 */
const DRAIN_BYTES = 1024 * 1024;

async function drain(reader, limit) {
  try {
    for (let dropped = 0; dropped <= limit;) {
      const { done, value } = await reader.read();
      if (done) {
        return;
      }
      dropped += value.length;
    }
    await reader.cancel();
  } catch {
    // the client went away: nothing to drain
  }
}

function tooLarge(maxBytes) {
  return new HttpError(413, "payload_too_large", `the request body is larger than ${maxBytes} bytes`,
    { max_bytes: maxBytes });
}

/** The kind of a JSON value, for messages: "a string", "an array", "null"… */
export function kindOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return "a number";
  if (typeof value === "boolean") return "a boolean";
  return typeof value;
}

/** A message reduced to its first line (engine and runtime messages are one line already). */
export function oneLine(message) {
  return String(message ?? "").split("\n")[0].slice(0, 500);
}
