// The backend address (src/address.js) in Node: the checks of a catalogue's URL at load, and the
// URL filled with the model's arguments over a large list of spellings and thousands of generated
// values. Every value is either refused with a one-line reason, or lands URL-encoded in exactly
// its placeholder's place: the declared origin, the declared number of path segments, the
// template's own segments unchanged, and read back (also by a lenient server that decodes again
// and normalizes Unicode) as exactly the value, never a dot segment or a separator.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import init from "needle-java-wasm";
import { DEFAULT_MAX_VALUE_LENGTH, fillAddress, parseAddress, placeholderRefusal } from "../src/address.js";
import { parseCatalogue } from "../src/catalogue.js";
import { climbs, generatedValues, lenientSegments, NOT_TEXT, PATH_ATTACKS, PATH_BENIGN } from "./adversarial.mjs";

before(() => init());

const ORIGIN = "https://api.example.com";

/** Path templates with one placeholder {v} that is a whole segment. */
const WHOLE_SEGMENT = ["/files/{v}", "/files/{v}/raw", "/{v}", "/a/{v}/b/c", "/my%20files/{v}"];
/** Path templates with text around {v} in its segment. */
const IN_SEGMENT = ["/v1/items/{v}.json", "/users/u-{v}", "/x%2e{v}/y", "/{v};v=1", "/.{v}"];
const PATH_TEMPLATES = [...WHOLE_SEGMENT, ...IN_SEGMENT];

/** Checks a filled path against its template: same segments, the placeholder's one read back as `value`. */
function assertInPlace(template, url, value, what) {
  const t = parseAddress(ORIGIN + template);
  assert.equal(url.origin, ORIGIN, what);
  const got = url.pathname.split("/").slice(1);
  assert.equal(got.length, t.segments.length, what + ": the number of path segments");
  t.segments.forEach((pieces, i) => {
    if (pieces.every((p) => typeof p === "string")) {
      assert.equal(got[i], pieces.join(""), what + ": a segment of the template");
      return;
    }
    // the placeholder's segment: the template's text around the value, the value encoded
    const [prefix, suffix] = [pieces[0], pieces.at(-1)].map((p) => (typeof p === "string" ? p : ""));
    assert.ok(got[i].startsWith(prefix) && got[i].endsWith(suffix), what);
    const inner = got[i].slice(prefix.length, got[i].length - suffix.length);
    assert.equal(decodeURIComponent(inner), typeof value === "string" ? value : JSON.stringify(value), what + ": read back");
  });
  const lenient = lenientSegments(url.pathname);
  assert.equal(lenient.length, t.segments.length + 1, what + ": a lenient server sees as many segments: " + JSON.stringify(lenient));
  for (const segment of lenient.slice(1)) {
    assert.ok(!climbs(segment), what + ": a lenient server sees an empty or dot segment: " + JSON.stringify(lenient));
    assert.doesNotMatch(segment, /[\p{Cc}]/u, what + ": a lenient server sees a control character");
  }
}

const oneLine = (reason) => typeof reason === "string" && reason.length > 0 && !/[\r\n\u2028\u2029]/.test(reason);

test("every attack spelling is refused as a whole path segment; with text around it, refused or harmless", () => {
  assert.ok(PATH_ATTACKS.length >= 100, `a large list (${PATH_ATTACKS.length})`);
  for (const template of PATH_TEMPLATES) {
    const address = parseAddress(ORIGIN + template);
    for (const value of PATH_ATTACKS) {
      const r = fillAddress(address, { v: value }, DEFAULT_MAX_VALUE_LENGTH);
      const what = `${template} with ${JSON.stringify(value)}`;
      if ("url" in r) {
        assert.ok(IN_SEGMENT.includes(template), what + " was sent as " + r.url.href);
        assertInPlace(template, r.url, value, what); // "u-..;" is a name, not a way up
        continue;
      }
      assert.ok(oneLine(r.refused), what + ": " + r.refused);
      assert.match(r.refused, /^the value of "v" |^the path segment would be /, what + ": " + r.refused);
    }
  }
});

test("benign values land exactly in their place, encoded, and read back as they are", () => {
  for (const template of PATH_TEMPLATES) {
    const address = parseAddress(ORIGIN + template);
    for (const value of [...PATH_BENIGN, 0, -5, 1.5, 1e21, true, false]) {
      const r = fillAddress(address, { v: value }, DEFAULT_MAX_VALUE_LENGTH);
      const what = `${template} with ${JSON.stringify(value)}`;
      assert.ok("url" in r, what + " was refused: " + r.refused);
      assertInPlace(template, r.url, value, what);
      assert.equal(r.shown, r.url.href, what + ": shown as sent (no query of the catalogue's to hide)");
    }
  }
});

test("values that are not text (null, objects, arrays, numbers JSON cannot write, missing) are refused", () => {
  const address = parseAddress(ORIGIN + "/files/{v}?q={q}");
  for (const value of NOT_TEXT) {
    for (const [v, q] of [[value, "ok"], ["ok", value]]) {
      const r = fillAddress(address, { v, q }, DEFAULT_MAX_VALUE_LENGTH);
      assert.ok("refused" in r, JSON.stringify({ v, q }));
      assert.match(r.refused, /takes a string, a number or a boolean/);
    }
  }
});

test("max_value_length: longer values are refused, counted in characters (not UTF-16 units or bytes)", () => {
  const address = parseAddress(ORIGIN + "/files/{v}?q={q}");
  for (const max of [1, 8, 256]) {
    for (const unit of ["x", "é", "😀", "東"]) {
      assert.ok("url" in fillAddress(address, { v: unit.repeat(max), q: "a" }, max), `${max} × ${unit}`);
      const r = fillAddress(address, { v: unit.repeat(max + 1), q: "a" }, max);
      assert.equal(r.refused, `the value of "v" is longer than max_value_length = ${max} characters`);
      assert.equal(fillAddress(address, { v: "a", q: unit.repeat(max + 1) }, max).refused,
        `the value of "q" is longer than max_value_length = ${max} characters`);
    }
  }
  // the other arguments, sent as query-string data, are in the URL too: the same bound
  for (const unit of ["x", "😀"]) {
    const at = fillAddress(address, { v: "a", q: "a" }, 8, [["note", unit.repeat(8)], ["n", "12"]]);
    assert.ok("url" in at, unit);
    assert.equal(at.url.searchParams.get("note"), unit.repeat(8));
    assert.equal(fillAddress(address, { v: "a", q: "a" }, 8, [["n", "12"], ["note", unit.repeat(9)]]).refused,
      `the value of "note" is longer than max_value_length = 8 characters`);
  }
  // a huge value is refused without encoding it (bounded work)
  const started = process.hrtime.bigint();
  assert.ok("refused" in fillAddress(address, { v: "x".repeat(10_000_000), q: "a" }, 256));
  assert.ok("refused" in fillAddress(address, { v: "a", q: "a" }, 256, [["note", "x".repeat(10_000_000)]]));
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 1000);
});

test("two placeholders in one segment cannot make a dot segment or percent-encoding together", () => {
  const cases = [
    ["/{a}{b}", { a: ".", b: "." }], ["/{a}{b}", { a: "．", b: "." }], ["/{a}.{b}", { a: "x", b: "." }],
    ["/.{a}", { a: "." }], ["/%2e{a}", { a: "." }], ["/{a}{b}", { a: "%2", b: "e" }], ["/{a}{b}", { a: "%", b: "2e" }],
    ["/x%{a}", { a: "2f" }], ["/{a}{b}", { a: "%u", b: "ff0e" }], ["/{a}{b};x", { a: "x", b: "y" }],
    ["/{a}{b}", { a: ".", b: ".;x" }],
  ];
  for (const [template, values] of cases) {
    const r = fillAddress(parseAddress(ORIGIN + template), values, DEFAULT_MAX_VALUE_LENGTH);
    const what = `${template} with ${JSON.stringify(values)}`;
    if ("url" in r) {
      // only the harmless case gets through: one segment, no dot segment, nothing decoded twice
      assert.equal(template, "/{a}{b};x", what + " was sent as " + r.url.href);
      assert.equal(r.url.pathname, "/xy;x");
    } else {
      assert.ok(oneLine(r.refused), what);
    }
  }
});

test("generated values (20,000, seeded): every one refused or in place, in the path (alone and in pairs) and in the query", () => {
  const values = generatedValues(0x5eed16, 20_000);
  let sent = 0;
  let refused = 0;
  const templates = ["/files/{v}", "/v1/{v}.json", "/x%2e{v}/y"];
  for (const value of values) {
    for (const template of templates) {
      const r = fillAddress(parseAddress(ORIGIN + template), { v: value }, DEFAULT_MAX_VALUE_LENGTH);
      const what = `${template} with ${JSON.stringify(value)}`;
      if ("url" in r) {
        assertInPlace(template, r.url, value, what);
        sent++;
      } else {
        assert.ok(oneLine(r.refused), what + ": " + r.refused);
        refused++;
      }
    }
    // in a query value: only the declared parameters, the value read back exactly
    const r = fillAddress(parseAddress(ORIGIN + "/search?q={v}&lang=en"), { v: value }, DEFAULT_MAX_VALUE_LENGTH, [["page", "2"]]);
    if ("url" in r) {
      assert.equal(r.url.origin + r.url.pathname, ORIGIN + "/search");
      assert.deepEqual([...r.url.searchParams.keys()], ["q", "lang", "page"], JSON.stringify(value));
      assert.equal(r.url.searchParams.get("q"), value);
      assert.equal(r.url.searchParams.get("lang"), "en");
    } else {
      assert.ok(oneLine(r.refused), JSON.stringify(value) + ": " + r.refused);
    }
  }
  // two values side by side in one segment: one segment, read back as both
  const pair = parseAddress(ORIGIN + "/p/{a}{b}/q");
  for (let i = 0; i + 1 < values.length; i += 2) {
    const [a, b] = [values[i], values[i + 1]];
    const r = fillAddress(pair, { a, b }, DEFAULT_MAX_VALUE_LENGTH);
    const what = `/p/{a}{b}/q with ${JSON.stringify({ a, b })}`;
    if ("refused" in r) {
      assert.ok(oneLine(r.refused), what);
      continue;
    }
    const got = r.url.pathname.split("/");
    assert.equal(got.length, 4, what);
    assert.equal(decodeURIComponent(got[2]), a + b, what);
    const lenient = lenientSegments(r.url.pathname);
    assert.equal(lenient.length, 4, what + ": " + JSON.stringify(lenient));
    assert.ok(!climbs(lenient[2]), what + ": " + JSON.stringify(lenient));
    sent++;
  }
  // the generator reaches both sides
  assert.ok(sent > 1000 && refused > 1000, `sent ${sent}, refused ${refused}`);
});

test("query placeholders: &, =, #, ? and + stay data; dots, blanks, encodings and controls are refused", () => {
  const address = parseAddress(ORIGIN + "/search?q={q}&key=SECRET&flag");
  for (const value of ["a&admin=1", "x#y", "?z", "a+b", "a=b&c", "Tom & Jerry", "/etc/passwd", "..a", "a/../b"]) {
    const r = fillAddress(address, { q: value }, DEFAULT_MAX_VALUE_LENGTH);
    assert.ok("url" in r, JSON.stringify(value) + ": " + r.refused);
    assert.equal(r.url.pathname, "/search");
    assert.deepEqual([...r.url.searchParams.keys()], ["q", "key", "flag"]);
    assert.equal(r.url.searchParams.get("q"), value);
    // the catalogue's own query values are not shown
    assert.equal(r.shown, `${ORIGIN}/search?q=${encodeURIComponent(value)}&key=***&flag`);
  }
  for (const value of ["", " ", "..", ".", "%2e%2e", "%26admin%3D1", "a%23b", "x\r\ny", "\u0000", "\ud800", "．．"]) {
    assert.ok("refused" in fillAddress(address, { q: value }, DEFAULT_MAX_VALUE_LENGTH), JSON.stringify(value));
  }
});

test("placeholderRefusal names the problem", () => {
  const cases = [
    ["..", "path", /is "\.\.", only dots/], ["", "path", /is empty/], ["\u3000", "query", /is empty/],
    ["a/b", "path", /contains "\/", which would change the path's structure/], ["a／b", "path", /contains "\/" once normalized/],
    ["a∕b", "path", /contains "∕"/], ["%2e", "query", /percent-encoding \("%2e"\)/], ["%uff0e", "path", /percent-encoding/],
    ["a\r\nb", "path", /control character U\+000D/], ["\u2028", "query", /U\+2028/], ["\ud800", "path", /lone surrogate/],
    [null, "path", /is null; a URL placeholder takes/], [[1], "query", /is an array/], [{}, "path", /is an object/],
    [Infinity, "path", /a number JSON cannot write/], ["a/b", "query", null], ["x", "path", null],
  ];
  for (const [value, where, pattern] of cases) {
    const why = placeholderRefusal("v", value, where, 256);
    if (pattern === null) assert.equal(why, null, JSON.stringify(value));
    else assert.match(why ?? "", pattern, JSON.stringify(value));
  }
});

function configError(backend, pattern, params = { v: { type: "string", required: true }, w: { type: "string" } }) {
  assert.throws(() => parseCatalogue([{ name: "t", parameters: params, backend }], { SECRET: "s", API: { fetch() {} } }), (e) => {
    assert.equal(e.code, "configuration_error");
    assert.match(e.message, pattern);
    assert.match(e.message, /^the tool catalogue is invalid: tool "t": /);
    return true;
  });
}

test("at load: a placeholder in the host part, a query name or a fragment is a configuration error", () => {
  const host = /in its host part \(user, password, host or port\): placeholders may stand only in the path or in a query value/;
  for (const url of [
    "https://{v}/x", "https://{v}.example.com/x", "https://api.{v}.com/", "https://api.example.com{v}/x", "https://{v}:8080/x",
    "https://{v}@api.example.com/x", "http://[::1]{v}/x", "https://api.example.com:{v}/x", "https://{v}{v}/", "https://a{v}b/",
  ]) {
    configError({ url }, host);
  }
  configError({ url: "https://u:{v}@api.example.com/x" }, host);
  configError({ url: "https://api.example.com/x?{v}=1" }, /placeholder \{v\} in a query parameter's name/);
  configError({ url: "https://api.example.com/x?a=1&{v}" }, /placeholder \{v\} in a query parameter's name/);
  configError({ url: "https://api.example.com/x#{v}" }, /has a fragment/);
  configError({ url: "https://api.example.com/x#top" }, /has a fragment/);
  configError({ url: "{v}://api.example.com/x" }, /not an absolute URL/);
  configError({ url: "https:{v}//api.example.com/x" }, /not an absolute URL/);
  configError({ url: "https:api.example.com/{v}" }, /not an absolute URL/);
  configError({ url: "javascript:{v}" }, /not http\(s\)/);
  // a service binding's path: the host is the binding, placeholders in the path only
  configError({ service: "API", path: "/x?{v}=1" }, /backend path "\/x\?\{v\}=1" has the placeholder \{v\} in a query parameter's name/);
});

test("at load: the URL is written as meant (no dot segments, backslashes, spaces, controls, credentials, stray braces)", () => {
  for (const url of ["https://api.example.com/../{v}", "https://api.example.com/a/./{v}", "https://api.example.com/a/%2e%2E/{v}",
    "https://api.example.com/a/.%2e/{v}", "https://api.example.com/{v}/.."]) {
    configError({ url }, /path segment: write the path as it is meant/);
  }
  configError({ url: "https://api.example.com\\{v}" }, /contains a backslash/);
  configError({ url: "https://api.example.com/a\\..\\{v}" }, /contains a backslash/);
  configError({ url: "https://api.example.com/a b/{v}" }, /contains a space or a control character/);
  configError({ url: "https://api.example.com/a\n/{v}" }, /contains a space or a control character/);
  configError({ url: " https://api.example.com/{v}" }, /contains a space or a control character/);
  configError({ url: "https://user:pass@api.example.com/{v}" }, /has credentials \(user:password@\): put them in "headers"/);
  configError({ url: "https://api.example.com/{v" }, /a "\{" or "\}" that is not a \{param\} placeholder/);
  configError({ url: "https://api.example.com/{{v}}" }, /a "\{" or "\}" that is not a \{param\} placeholder/);
});

test("at load: headers are fixed (no argument goes in), max_value_length is checked, query parameters do not clash", () => {
  configError({ url: "https://api.example.com/x", headers: { "x-user": "{w}" } }, /header "x-user" uses \{w\}: headers are fixed/);
  configError({ url: "https://api.example.com/x", headers: { authorization: "Bearer {v}" } }, /headers are fixed/);
  for (const bad of [0, -1, 1.5, "256", 65_537, null]) {
    configError({ url: "https://api.example.com/{v}", max_value_length: bad }, /"max_value_length" must be an integer from 1 to 65536/);
  }
  configError({ url: "https://api.example.com/x?w=fixed", method: "GET" }, /the parameter "w" would repeat the query parameter "w" of the backend URL/);
  // what is fine: a JSON header that is not a placeholder, a secret, the bound, a placeholder in a query value
  const c = parseCatalogue([{
    name: "t", parameters: { v: { type: "string", required: true }, w: { type: "string" } },
    backend: { url: "https://api.example.com/a/{v}?q={v}&k=1", method: "GET", max_value_length: 12, headers: { "x-meta": '{"a":1}', "x-key": "${SECRET}" } },
  }], { SECRET: "s" });
  const b = c.tools[0].backend;
  assert.equal(b.maxValueLength, 12);
  assert.deepEqual(b.headers, { "x-meta": '{"a":1}', "x-key": "s" });
  assert.deepEqual(b.address.placeholders, [{ name: "v", in: "path" }, { name: "v", in: "query" }]);
});
