// The attacker's material for the /dispatch tests: placeholder values in many spellings (path
// traversal, encodings, Unicode look-alikes, controls, oversize), a seeded generator of more, and
// how a lenient server might read a request path (decoding again, normalizing Unicode, folding
// look-alikes), the oracle the tests hold every sent request to.

import { random } from "../../node-support/test-helpers.mjs";

/** Values that must never fill a path placeholder: each would climb, split or break the path. */
export const PATH_ATTACKS = [
  // dot segments, plain and percent-encoded (once, twice, thrice), IIS's %u, overlong UTF-8
  "..", ".", "...", "%2e%2e", "%2E%2E", "%2e%2E", ".%2e", "%2e.", "%2e", "%252e%252e", "%25252e%25252e",
  "%u002e%u002e", "%uff0e%uff0e", "%c0%ae%c0%ae", "%e0%80%ae%e0%80%ae", "%c0%2e", "%%32%65%%32%65",
  // separators, plain and encoded
  "../", "../admin", "../../etc/passwd", "a/../../admin", "/admin", "//evil.example", "..%2f", "..%2F",
  "..%2f..%2fadmin", "%2e%2e%2f", "%2e%2e/", "%2f", "%2F", "%252f", "%c0%af", "%e0%80%af",
  "..\\", "..\\admin", "\\..\\admin", "\\", "..%5c", "..%5C", "%5c",
  // Unicode dots and slashes (NFKC folds them, or they look like one)
  "．．", "．", "‥", "…", "․․", "﹒﹒", "。。", "｡｡", "︒︒", "．.", ".．", "\u2024", "\uFE52",
  "／", "＼", "∕", "⁄", "⧸", "⧹", "∖", "﹨", "℀", "℁", "℅", "a／b", "．．／admin", "％２ｅ％２ｅ", "%２e",
  // path parameters (Tomcat reads "..;" as ".."), whitespace around dots
  "..;", "..;/", ".;", "..;jsessionid=1", ";", ";x", " ;..", "..%3b", " ..", ".. ", "\t..", " . ", "..\u3000", "\u00a0..\u00a0",
  // empty and blank
  "", " ", "\u3000", "\u00a0",
  // query and fragment starters
  "?", "#", "a?b=1", "a#frag", "？", "＃", "﹖", "﹟", "%3f", "%23",
  // controls: NUL, CR/LF (header injection), tab, DEL, C1, line separators
  "..%00", "..\u0000", "\u0000", "%00", "..%0d%0a", "..\r\n", "x\r\nX-Injected: 1", "\r\n", "\n", "\r", "\t",
  "\u0085", "\u2028", "\u2029", "\u007f", "\u009b",
  // not Unicode text
  "\ud800", "\udfff..", "a\udc00b",
];

/** Values a tool may legitimately get in a path: accepted, and arriving exactly as they are. */
export const PATH_BENIGN = [
  "Paris", "São Paulo", "東京", "12345", "order-42_a.b", "a b", "O'Brien", "a&b", "1.5", "v1.2.3", ".hidden",
  "a..b", "...a", "a...", "50% off", "100%", "naïve café", "😀", "a+b", "a=b", "(x)", "a:b", "a@b", "~user", "*",
  "!", "a,b", "Ünïcödé", "Ελληνικά", "עברית", "x".repeat(256),
];

/** Values of every JSON type that a path placeholder refuses. */
export const NOT_TEXT = [null, {}, { a: 1 }, [], ["..", "admin"], [1], Number.NaN, Number.POSITIVE_INFINITY, undefined];

/** Fragments the generator joins into values. */
const FRAGMENTS = [
  ".", "..", "/", "\\", "%", "%2", "%2e", "%2E", "%2f", "%5c", "%25", "%252e", "%c0", "%ae", "%u", "ff0e", "%00",
  "\u0000", "\r", "\n", "\t", "．", "․", "‥", "…", "。", "｡", "／", "＼", "∕", "⁄", "∖", "％", "２", "ｅ", "ｆ",
  ";", "?", "#", "&", "=", "+", " ", "\u3000", "a", "e", "f", "2", "é", "東", "\ud800", "😀", "~", "@", ":", "℀",
  "⒈", "\u0338", "\u2028", "admin", "x",
];


/** `count` values joined from 1 to 6 fragments, from the seed. */
export function generatedValues(seed, count) {
  const rng = random(seed);
  const out = [];
  for (let i = 0; i < count; i++) {
    let v = "";
    const n = 1 + Math.floor(rng() * 6);
    for (let k = 0; k < n; k++) v += FRAGMENTS[Math.floor(rng() * FRAGMENTS.length)];
    out.push(v);
  }
  return out;
}

/**
 * A request path as a lenient server might read it: percent-decoded again and again (%XX, %uXXXX,
 * overlong UTF-8 accepted), NFKC-normalized, look-alike slashes and dots folded, "\" taken as "/",
 * the query cut at "?" or "#"; then split into segments, each without its ";params" and trimmed.
 */
export function lenientSegments(path) {
  let s = path;
  for (let i = 0; i < 5; i++) {
    const d = lenientDecode(s);
    if (d === s) break;
    s = d;
  }
  s = s.normalize("NFKC")
    .replace(/[\u2215\u2044\u29F8\\\u29F9\u2216]/g, "/")
    .replace(/\u3002/g, ".")
    .split(/[?#]/)[0];
  return s.split("/").map((segment) => segment.split(";")[0].trim());
}

/** A segment a lenient server would treat as a dot segment, or as none. */
export const climbs = (segment) => segment === "" || /^\.+$/.test(segment);

/** One round of lenient percent-decoding: %uXXXX, then runs of %XX as (overlong-tolerant) UTF-8. */
function lenientDecode(text) {
  const u = text.replace(/%u([0-9a-f]{4})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  return u.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    const bytes = run.split("%").slice(1).map((h) => parseInt(h, 16));
    let out = "";
    for (let i = 0; i < bytes.length;) {
      const b = bytes[i];
      if (b < 0x80) {
        out += String.fromCharCode(b);
        i++;
        continue;
      }
      const need = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : -1;
      if (need < 0 || i + need >= bytes.length) {
        out += "\ufffd";
        i++;
        continue;
      }
      let cp = b & (0x3f >> need);
      for (let k = 1; k <= need; k++) cp = (cp << 6) | (bytes[i + k] & 0x3f); // overlong forms accepted
      out += cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
      i += need + 1;
    }
    return out;
  });
}
