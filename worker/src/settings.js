// @ts-check
// The Worker's configuration, read from its environment (Wrangler "vars", secrets, bindings) once
// per isolate. Every setting has a default; see README.md for the list.

import bundledCatalogue from "./catalogue.json";
import { DEFAULT_VOCAB_URL, DEFAULT_WEIGHTS_URL } from "needle-java-wasm";
import { parseCatalogue } from "./catalogue.js";
import { HttpError } from "./http.js";

/** The decoder's limit: at most 511 generated tokens. */
export const MODEL_MAX_NEW_TOKENS = 511;

const cache = new WeakMap(); // env → settings (or the configuration error)

/** The settings for this environment; throws a 500 configuration_error when something is wrong. */
export function settingsFor(env) {
  let s = cache.get(env);
  if (s === undefined) {
    try {
      s = read(env);
    } catch (e) {
      s = e instanceof HttpError ? e : new HttpError(500, "configuration_error", String(e?.message ?? e));
    }
    cache.set(env, s);
  }
  if (s instanceof HttpError) {
    throw s;
  }
  return s;
}

function read(env) {
  const catalogueSource = env.CATALOGUE ?? bundledCatalogue;
  return {
    weightsUrl: modelSource(env, "WEIGHTS_URL", DEFAULT_WEIGHTS_URL),
    vocabUrl: modelSource(env, "VOCAB_URL", DEFAULT_VOCAB_URL),
    weightsSha256: sha256(env, "WEIGHTS_SHA256"),
    vocabSha256: sha256(env, "VOCAB_SHA256"),
    modelCacheSeconds: integer(env, "MODEL_CACHE_SECONDS", 86_400, 0, 365 * 86_400),
    maxNewTokens: integer(env, "MAX_NEW_TOKENS", MODEL_MAX_NEW_TOKENS, 0, MODEL_MAX_NEW_TOKENS),
    maxBodyBytes: integer(env, "MAX_BODY_BYTES", 64 * 1024, 1, 100 * 1024 * 1024),
    maxCalls: integer(env, "MAX_CALLS", 8, 0, 1000),
    backendTimeoutMs: integer(env, "BACKEND_TIMEOUT_MS", 10_000, 1, 15 * 60_000),
    maxBackendResponseBytes: integer(env, "MAX_BACKEND_RESPONSE_BYTES", 1024 * 1024, 0, 64 * 1024 * 1024),
    loadRetryMs: integer(env, "LOAD_RETRY_SECONDS", 30, 0, 24 * 3600) * 1000,
    catalogueSource: env.CATALOGUE === undefined ? "catalogue.json" : "CATALOGUE variable",
    catalogue: parseCatalogue(catalogueSource, env),
  };
}

function configError(message) {
  return new HttpError(500, "configuration_error", message);
}

/** A model file location: an http(s) URL, or r2:KEY (an object of the MODEL_BUCKET R2 binding). */
function modelSource(env, name, fallback) {
  const value = env[name] ?? fallback;
  if (typeof value !== "string" || value === "") {
    throw configError(`${name} must be a URL (or r2:KEY), got ${JSON.stringify(value)}`);
  }
  if (value.startsWith("r2:")) {
    if (value.length === 3) {
      throw configError(`${name} = "r2:" names no object key`);
    }
    if (typeof env.MODEL_BUCKET?.get !== "function") {
      throw configError(`${name} = "${value}" needs an R2 bucket bound as MODEL_BUCKET`);
    }
    return value;
  }
  let url;
  try {
    url = new URL(value);
  } catch {
    throw configError(`${name} = "${value}" is not an absolute URL (or r2:KEY)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw configError(`${name} = "${value}" is not an http(s) URL`);
  }
  return value;
}

/**
 * A pinned sha256 of a model file (64 hex digits, any case), or null when unset or empty: the file
 * must have it, whatever the hub announces (model.js).
 */
function sha256(env, name) {
  const raw = env[name];
  if (raw === undefined || raw === "") {
    return null;
  }
  const hex = typeof raw === "string" ? raw.trim().toLowerCase() : "";
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw configError(`${name} must be a sha256 (64 hex digits), got ${JSON.stringify(raw)}`);
  }
  return hex;
}

function integer(env, name, fallback, min, max) {
  const raw = env[name];
  if (raw === undefined || raw === "") {
    return fallback;
  }
  const n = typeof raw === "number" ? raw : /^\s*-?\d+\s*$/.test(String(raw)) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw configError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}
