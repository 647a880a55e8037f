// @ts-check
// A backend's address: the URL template of the catalogue ("https://api.example.com/orders/{id}?fields={f}")
// read once at load, then filled with a call's arguments. The arguments come from the model, which
// whoever writes the query steers: a filled address must reach the declared origin and a path of
// the declared shape, whatever the values. So:
//
// - at load (parseAddress): placeholders only in the path or in query values, never in the
//   scheme, credentials, host, port, a query parameter's name or a fragment; the template has no
//   dot segments, backslashes, spaces, control characters, credentials or fragment;
// - per call (fillAddress): each placeholder value is checked (placeholderRefusal) and refused
//   with a reason, or encoded (encodeURIComponent); the URL is put together from the template's
//   parts and parsed again, and refused if parsing changed its origin, path or query.
//
// See docs/SECURITY.md for why each rule exists.

/** The default of a backend's "max_value_length": the longest placeholder value, in characters. */
export const DEFAULT_MAX_VALUE_LENGTH = 256;

const PLACEHOLDER = /\{([^{}]*)\}/g;

/**
 * Characters refused in a path value after NFKC normalization: the separators of a URL's path
 * and query, and look-alikes of "/" and "\" that NFKC keeps (a server that folds them would read
 * a separator).
 */
const PATH_BREAKERS = /[/\\?#\u2215\u2044\u29F8\u29F9\u2216]/u;
/** Dot-like characters (after NFKC: "．" "‥" "…" "﹒" have become "."; "｡" "︒" have become "。"). */
const ONLY_DOTS = /^[.\u3002]+$/u;
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** Percent-encoding, and IIS's %uXXXX. */
const PERCENT_ENCODED = /%[0-9A-Fa-f]{2}|%u[0-9A-Fa-f]{4}/i;
const PERCENT_ANYWHERE = new RegExp(PERCENT_ENCODED.source, "gi");
const LONE_SURROGATE = /[\uD800-\uDFFF]/u; // with the u flag, a pair is one code point and does not match

/**
 * @typedef {string | { param: string }} Piece  literal text (already URL-encoded) or a placeholder
 * @typedef {{ name: string, value: Piece[] | null, literal: boolean }} QueryPair
 * @typedef {{ origin: string, segments: Piece[][], query: QueryPair[] | null,
 *             placeholders: { name: string, in: "path" | "query" }[] }} Address
 */

/**
 * Reads a URL template. Throws an Error whose message says what is wrong, starting with `label`
 * (`backend url "…"`: the catalogue adds the tool). `{name}` placeholders are returned in
 * `placeholders`, in order; whether they name parameters is the catalogue's check.
 * @param {string} template
 * @param {string} label
 * @returns {Address}
 */
export function parseAddress(template, label = `"${template}"`) {
  if (/[\s\p{Cc}]/u.test(template)) {
    throw new Error(`${printable(label)} contains a space or a control character (write it URL-encoded)`);
  }
  if (template.includes("\\")) {
    throw new Error(`${label} contains a backslash`);
  }
  if (template.includes("#")) {
    throw new Error(`${label} has a fragment (#…), which is never sent`);
  }
  if (!/^https?:\/\//i.test(template)) {
    const otherScheme = /^[a-z][a-z0-9+.-]*:/i.test(template) && !/^https?:/i.test(template);
    throw new Error(otherScheme ? `${label} is not http(s)` : `${label} is not an absolute URL`);
  }
  // each placeholder becomes a marker that URL parsing keeps as it is (lower-case letters and digits)
  let base = "needleslot";
  while (template.toLowerCase().includes(base)) base += "x";
  const names = [];
  const marked = template.replace(PLACEHOLDER, (_, name) => {
    names.push(name);
    return `${base}${names.length - 1}z`;
  });
  if (/[{}]/.test(marked)) {
    throw new Error(`${label} has a "{" or "}" that is not a {param} placeholder`);
  }
  const markers = new RegExp(`${base}(\\d+)z`, "g");
  const authority = /^https?:\/\/([^/?]*)/i.exec(marked)?.[1] ?? "";
  const inHost = [...authority.matchAll(markers)][0];
  if (inHost !== undefined) {
    throw new Error(`${label} has the placeholder {${names[Number(inHost[1])]}} in its host part (user, password, host or port): `
      + "placeholders may stand only in the path or in a query value");
  }
  let url;
  try {
    url = new URL(marked);
  } catch {
    throw new Error(`${label} is not an absolute URL`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new Error(`${label} has credentials (user:password@): put them in "headers"`);
  }
  const rawPath = marked.slice(marked.indexOf("//") + 2 + authority.length).split("?")[0];
  for (const segment of rawPath.split("/")) {
    if (/^(?:\.|%2e){1,2}$/i.test(segment)) {
      throw new Error(`${label} has a "${segment}" path segment: write the path as it is meant`);
    }
  }
  const placeholders = [];
  const pieces = (text, where) => {
    const out = [];
    let at = 0;
    for (const m of text.matchAll(markers)) {
      if (m.index > at) out.push(text.slice(at, m.index));
      const name = names[Number(m[1])];
      out.push({ param: name });
      placeholders.push({ index: Number(m[1]), name, in: where });
      at = m.index + m[0].length;
    }
    if (at < text.length || out.length === 0) out.push(text.slice(at));
    return out;
  };
  const segments = url.pathname.split("/").slice(1).map((s) => pieces(s, "path"));
  let query = null;
  if (url.search !== "") {
    query = url.search.slice(1).split("&").map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq < 0 ? pair : pair.slice(0, eq);
      const inName = [...name.matchAll(markers)][0];
      if (inName !== undefined) {
        throw new Error(`${label} has the placeholder {${names[Number(inName[1])]}} in a query parameter's name: `
          + "placeholders may stand only in the path or in a query value");
      }
      if (eq < 0) return { name, value: null, literal: true };
      const value = pieces(pair.slice(eq + 1), "query");
      return { name, value, literal: value.every((p) => typeof p === "string") };
    });
  }
  if (placeholders.length !== names.length) {
    throw new Error(`${label} has a placeholder outside its path and query`);
  }
  placeholders.sort((a, b) => a.index - b.index);
  return {
    origin: url.origin,
    segments,
    query,
    placeholders: placeholders.map(({ name, in: where }) => ({ name, in: where })),
  };
}

/**
 * The address for a call: { url, shown } (`shown`: the URL with the values of the template's own
 * query parameters replaced by "***"), or { refused: the reason }. `values` maps placeholder names
 * to the call's arguments; `extraQuery` ([name, text] pairs) is appended to the query string as
 * form data.
 * @param {Address} address
 * @param {Record<string, unknown>} values
 * @param {number} maxValueLength
 * @param {[string, string][]} [extraQuery]
 * @returns {{ url: URL, shown: string } | { refused: string }}
 */
export function fillAddress(address, values, maxValueLength, extraQuery = []) {
  const path = [];
  for (const segment of address.segments) {
    const filled = fillPieces(segment, values, "path", maxValueLength);
    if ("refused" in filled) return filled;
    if (segment.some((p) => typeof p !== "string")) {
      // the segment as a server that decodes and normalizes it would read it, ";params" left out
      const view = filled.texts.map((t, i) => (typeof segment[i] === "string" ? decodedLiteral(t) : t)).join("").normalize("NFKC");
      const name = view.split(";")[0].trim();
      if (name === "" || ONLY_DOTS.test(name)) {
        return { refused: `the path segment would be ${quote(view)}, ${name === "" ? "empty" : "a dot segment"} before any ";": not sent` };
      }
    }
    path.push(filled.encoded);
  }
  const pathText = "/" + path.join("/");
  let queryText = null;
  let shownQuery = null;
  if (address.query !== null) {
    const sent = [];
    const shown = [];
    for (const pair of address.query) {
      if (pair.value === null) {
        sent.push(pair.name);
        shown.push(pair.name);
        continue;
      }
      const filled = fillPieces(pair.value, values, "query", maxValueLength);
      if ("refused" in filled) return filled;
      const value = filled.encoded;
      sent.push(pair.name + "=" + value);
      shown.push(pair.name + "=" + (pair.literal && value !== "" ? "***" : value));
    }
    queryText = sent.join("&");
    shownQuery = shown.join("&");
  }
  if (extraQuery.length > 0) {
    // the arguments sent as query-string data are in the URL too: the same bound on their length
    for (const [name, text] of extraQuery) {
      if (longerThan(text, maxValueLength)) {
        return { refused: `the value of "${name}" is longer than max_value_length = ${maxValueLength} characters` };
      }
    }
    const extra = new URLSearchParams(extraQuery).toString();
    queryText = queryText === null || queryText === "" ? extra : queryText + "&" + extra;
    shownQuery = shownQuery === null || shownQuery === "" ? extra : shownQuery + "&" + extra;
  }
  const text = address.origin + pathText + (queryText === null ? "" : "?" + queryText);
  let url;
  try {
    url = new URL(text);
  } catch {
    return { refused: "the address is not a valid URL once filled: not sent" };
  }
  if (url.origin !== address.origin || url.pathname !== pathText || url.search !== (queryText ? "?" + queryText : "")) {
    return { refused: `the filled address would be read as ${url.origin}${url.pathname}, not as built: not sent` };
  }
  return { url, shown: address.origin + pathText + (shownQuery === null ? "" : "?" + shownQuery) };
}

/**
 * The pieces of a path segment or a query value filled: { encoded, texts: each piece as written
 * (literal) or as the value's text }, or { refused }. Besides each value's own checks, a value
 * may not complete percent-encoding with the text around it ("%2" then "e").
 * @param {Piece[]} pieces
 * @param {Record<string, unknown>} values
 * @param {"path" | "query"} where
 * @param {number} maxValueLength
 * @returns {{ encoded: string, texts: string[] } | { refused: string }}
 */
function fillPieces(pieces, values, where, maxValueLength) {
  const texts = [];
  let encoded = "";
  for (const piece of pieces) {
    if (typeof piece === "string") {
      texts.push(piece);
      encoded += piece;
      continue;
    }
    const value = values[piece.param];
    const why = placeholderRefusal(piece.param, value, where, maxValueLength);
    if (why !== null) return { refused: why };
    const text = textOf(value);
    texts.push(text);
    encoded += encodeURIComponent(text);
  }
  for (let i = 0; i < pieces.length; i++) {
    if (typeof pieces[i] === "string") continue;
    const before = texts.slice(0, i).join("").slice(-5).normalize("NFKC");
    const own = texts[i].normalize("NFKC");
    const around = before + own + texts.slice(i + 1).join("").slice(0, 5).normalize("NFKC");
    const straddling = [...around.matchAll(PERCENT_ANYWHERE)]
      .find((m) => m.index < before.length + own.length && m.index + m[0].length > before.length);
    if (straddling !== undefined) {
      const name = /** @type {{ param: string }} */ (pieces[i]).param;
      return { refused: `the value of "${name}" would make percent-encoding (${quote(straddling[0])}) with the text around it` };
    }
  }
  return { encoded, texts };
}

/**
 * Whether {@code text} has more than {@code max} characters (code points, not UTF-16 units),
 * stopping at the first one past the bound (bounded work on a huge value).
 * @param {string} text
 * @param {number} max
 */
function longerThan(text, max) {
  let length = 0;
  for (const _ of text) {
    if (++length > max) {
      return true;
    }
  }
  return false;
}

/**
 * Why a value may not fill a placeholder ("path" or "query"), or null when it may. See
 * docs/SECURITY.md for the rules.
 * @param {string} name
 * @param {unknown} value
 * @param {"path" | "query"} where
 * @param {number} maxValueLength
 * @returns {string | null}
 */
export function placeholderRefusal(name, value, where, maxValueLength) {
  const what = `the value of "${name}"`;
  if (typeof value === "number" ? !Number.isFinite(value) : typeof value !== "string" && typeof value !== "boolean") {
    return `${what} is ${kindOf(value)}; a URL placeholder takes a string, a number or a boolean`;
  }
  const text = textOf(value);
  if (longerThan(text, maxValueLength)) {
    return `${what} is longer than max_value_length = ${maxValueLength} characters`;
  }
  if (LONE_SURROGATE.test(text)) {
    return `${what} contains a lone surrogate (it is not Unicode text)`;
  }
  const control = CONTROL.exec(text);
  if (control !== null) {
    return `${what} contains the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  }
  const normal = text.normalize("NFKC");
  if (normal.trim() === "") {
    return `${what} is empty`;
  }
  if (ONLY_DOTS.test(normal.trim())) {
    return `${what} is ${quote(text)}, only dots: it would climb the path`;
  }
  const encoded = PERCENT_ENCODED.exec(normal);
  if (encoded !== null) {
    return `${what} contains percent-encoding (${quote(encoded[0])}): the Worker encodes values itself, `
      + "and an encoded value would mean something else to a server that decodes it again";
  }
  if (where === "path") {
    const breaker = PATH_BREAKERS.exec(normal);
    if (breaker !== null) {
      const written = text.includes(breaker[0]) ? "" : " once normalized";
      return `${what} contains ${quote(breaker[0])}${written}, which would change the path's structure`;
    }
  }
  return null;
}

/** A placeholder value as URL text: strings as they are, numbers and booleans as JSON writes them. */
function textOf(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Literal template text as a server reads it (percent-decoded where that is valid UTF-8). */
function decodedLiteral(text) {
  try {
    return decodeURIComponent(text).normalize("NFKC");
  } catch {
    return text;
  }
}

/** A value for a one-line message: JSON-quoted (controls escaped), at most 40 characters. */
function quote(text) {
  const short = [...text].length > 40 ? [...text].slice(0, 40).join("") + "…" : text;
  return printable(JSON.stringify(short));
}

function printable(text) {
  return text.replace(/[\p{Cc}\u2028\u2029]/gu, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

function kindOf(value) {
  if (value === null) return "null";
  if (value === undefined) return "missing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number") return "a number JSON cannot write";
  return "an object";
}
