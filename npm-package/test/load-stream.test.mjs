// NeedleWasm.loadStream: the weights read from a stream straight into the engine. The same tokens
// as a load of the whole byte array (every generated model, the SIMD and the portable kernels, the
// full-size model), whatever the chunking (1 byte, odd sizes, the header split anywhere, one huge
// chunk) and the source (Response, ReadableStream, async and sync iterables); every error a caller
// can cause rejects with one NeedleError and leaves the engine able to load again without growing
// its memory.
import assert from "node:assert/strict";
import fs from "node:fs";
import { before, test } from "node:test";
import init, { NeedleError, NeedleWasm } from "needle-java-wasm";
import { sha256 } from "../../node-support/test-helpers.mjs";
import { manifest, nodeFixture, realVocab } from "./helpers.mjs";

const MODELS = manifest().models.map((m) => ({
  ...m, bytes: fs.readFileSync(nodeFixture(m.weights)), vocabText: fs.readFileSync(nodeFixture(m.vocab), "utf8"),
}));
const TINY = MODELS.find((m) => m.name === "tiny-drelu");
const FULL = manifest().fullsize;
const MiB = 1024 * 1024;

before(async () => {
  await init();
});

/** The bytes as chunks of `sizes` (cycled), the last one whatever is left. */
function chunked(bytes, ...sizes) {
  const out = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(bytes.subarray(at, Math.min(bytes.length, at + n)));
    at += n;
  }
  return out;
}

/** The length of the 8-byte prefix plus the JSON header. */
const headLength = (bytes) => 8 + Number(Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0));

const readable = (chunks) => new ReadableStream({
  start(controller) {
    for (const c of chunks) controller.enqueue(c);
    controller.close();
  },
});

async function* slowly(chunks) {
  for (const c of chunks) {
    await new Promise((resolve) => setImmediate(resolve));
    yield c;
  }
}

/** What a model answers: generated ids for each case, a constrained run, the config. */
function answers(engine, m) {
  return {
    generate: m.generate.map((g) => engine.generate(g.input_ids, { maxNewTokens: g.max_new_tokens })),
    run: m.runs.slice(0, 2).map((r) => engine.runDetailed(r.query, r.tools, { maxNewTokens: r.max_new_tokens, constrain: r.constrain }).tokens),
    config: engine.config,
  };
}

/** The linear memory and other external memory of this process, after a collection when there is one. */
const external = () => {
  globalThis.gc?.();
  return process.memoryUsage().external;
};

for (const simd of [true, false]) {
  test(`every generated model streamed in odd chunks answers as its byte-array load (simd: ${simd})`, async () => {
    for (const m of MODELS) {
      const whole = NeedleWasm.load(m.bytes, m.vocabText, { simd });
      const expected = answers(whole, m);
      const wholeSimd = whole.simd;
      whole.free();
      const streamed = await NeedleWasm.loadStream(readable(chunked(m.bytes, 4093, 7, 65536)), m.vocabText, { simd });
      assert.equal(streamed.simd, wholeSimd, m.name + ": the same kernels");
      assert.deepEqual(answers(streamed, m), expected, m.name);
      streamed.free();
    }
  });
}

test("chunkings: 1 byte, the header split across chunks at every place that matters, one huge chunk", async () => {
  const m = TINY;
  const whole = NeedleWasm.load(m.bytes, m.vocabText);
  const expected = answers(whole, m);
  whole.free();
  const h = headLength(m.bytes);
  const splits = {
    "1 byte": chunked(m.bytes, 1),
    "one chunk": [m.bytes],
    "3 + rest": [m.bytes.subarray(0, 3), m.bytes.subarray(3)],
    "8 + rest": [m.bytes.subarray(0, 8), m.bytes.subarray(8)],
    "inside the JSON": [m.bytes.subarray(0, 20), m.bytes.subarray(20, h - 1), m.bytes.subarray(h - 1)],
    "head exactly, then the data": [m.bytes.subarray(0, h), m.bytes.subarray(h)],
    "head and a byte": [m.bytes.subarray(0, h + 1), m.bytes.subarray(h + 1)],
    "empty chunks between": [new Uint8Array(0), m.bytes.subarray(0, 5), new Uint8Array(0), m.bytes.subarray(5), new Uint8Array(0)],
  };
  for (const [name, chunks] of Object.entries(splits)) {
    const e = await NeedleWasm.loadStream(slowly(chunks), m.vocabText);
    assert.deepEqual(answers(e, m), expected, name);
    e.free();
  }
});

test("sources: a Response (with and without Content-Length, compressed), a ReadableStream, async and sync iterables, ArrayBuffer chunks", async () => {
  const m = TINY;
  const whole = NeedleWasm.load(m.bytes, m.vocabText);
  const expected = answers(whole, m);
  whole.free();
  const chunks = chunked(m.bytes, 1000);
  const sources = {
    "Response with Content-Length": new Response(readable(chunks), { headers: { "content-length": String(m.bytes.length) } }),
    "Response without": new Response(readable(chunks)),
    "Response with a content encoding (its Content-Length is not the file's)": new Response(readable(chunks),
      { headers: { "content-length": "10", "content-encoding": "gzip" } }),
    "Response of bytes": new Response(m.bytes),
    "ReadableStream": readable(chunks),
    "async iterable": slowly(chunks),
    "array of chunks": chunks,
    "ArrayBuffer chunks": chunks.map((c) => new Uint8Array(c).buffer),
    "Node Buffer chunks": chunks.map((c) => Buffer.from(c)),
  };
  for (const [name, source] of Object.entries(sources)) {
    const e = await NeedleWasm.loadStream(source, m.vocabText);
    assert.deepEqual(answers(e, m), expected, name);
    e.free();
  }
  const given = await NeedleWasm.loadStream(chunks, m.vocabText, { length: m.bytes.length, sha256: sha256(m.bytes) });
  assert.deepEqual(answers(given, m), expected, "with options.length and options.sha256");
  given.free();
});

test("onProgress reports every chunk up to the file's length", async () => {
  const m = TINY;
  const seen = [];
  const e = await NeedleWasm.loadStream(chunked(m.bytes, 50_000), null, { onProgress: (p) => seen.push(p) });
  e.free();
  assert.ok(seen.length >= Math.floor(m.bytes.length / 50_000));
  assert.ok(seen.every((p, i) => p.total === m.bytes.length && (i === 0 || p.loaded > seen[i - 1].loaded)));
  assert.equal(seen.at(-1).loaded, m.bytes.length);
});

/** Rejects with a NeedleError of `kind` whose message matches `pattern`. */
async function refused(promise, kind, pattern, what) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof NeedleError, what + ": a NeedleError, got " + e);
    assert.equal(e.kind, kind, what + ": " + e.message);
    assert.match(e.message, pattern, what);
    assert.ok(!e.message.includes("\n"), what + ": one line");
    return true;
  }, what);
}

test("errors: short, long, bad header, failing streams, wrong chunks and hashes; each one NeedleError", async () => {
  const m = TINY;
  const b = m.bytes;
  const h = headLength(b);
  const failing = (chunks, error) => new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.error(error);
    },
  });
  async function* throwing() {
    yield b.subarray(0, h + 100);
    throw new Error("connection reset");
  }
  const badJson = Buffer.concat([Buffer.alloc(8), Buffer.from("{not json")]);
  badJson.writeBigUInt64LE(BigInt(badJson.length - 8));
  const tooLong = Buffer.alloc(16);
  tooLong.writeBigUInt64LE(200_000_000n);
  const cases = [
    ["empty", [], "WEIGHTS", /ended after 0 bytes, inside the 8-byte header length/],
    ["4 bytes", [b.subarray(0, 4)], "WEIGHTS", /ended after 4 bytes/],
    ["inside the header", chunked(b.subarray(0, h - 10), 7), "WEIGHTS", new RegExp(`ended after ${h - 10} bytes, inside their SafeTensors header \\(${h} bytes`)],
    ["inside the data", chunked(b.subarray(0, b.length - 1), 999), "WEIGHTS", new RegExp(`ended after ${b.length - 1} of the ${b.length} bytes their SafeTensors header describes`)],
    ["one byte too many, in the last chunk", chunked(Buffer.concat([b, Buffer.from([0])]), 999), "WEIGHTS", new RegExp(`go on past the ${b.length} bytes`)],
    ["a chunk after the end", [b, Buffer.from("tail")], "WEIGHTS", /go on past/],
    ["longer than Content-Length", new Response(readable([b]), { headers: { "content-length": String(b.length - 5) } }), "WEIGHTS",
      new RegExp(`describes a file of ${b.length} bytes, but Content-Length announces ${b.length - 5}`)],
    ["shorter than options.length", [b], "WEIGHTS", /describes a file of .* but options.length announces/, { length: b.length + 1 }],
    ["header beyond options.length", [b], "WEIGHTS", /header \(\d+ bytes with its length prefix\) is longer than the 100 bytes options.length announces/, { length: 100 }],
    ["header not JSON", [badJson], "WEIGHTS", /header is not valid JSON/],
    ["header length past the format's limit", [tooLong], "WEIGHTS", /header length 200000000 exceeds the format's limit/],
    ["a stream error midway", failing([b.subarray(0, h + 10)], new Error("socket hang up")), "DOWNLOAD", /could not read the weights: the stream failed after \d+ chunks: socket hang up/],
    ["an iterator that throws", throwing(), "DOWNLOAD", /connection reset/],
    ["a chunk that is not bytes", [b.subarray(0, 10), "text"], "INPUT", /chunk 2 of the weight stream is not bytes/],
    ["not a stream", 42, "INPUT", /must be a Response, a ReadableStream of bytes or an \(async\) iterable/],
    ["an object that is no stream", {}, "INPUT", /got Object/],
    ["an HTTP error", new Response("gone", { status: 404, statusText: "Not Found" }), "DOWNLOAD", /HTTP 404 Not Found/],
    ["another sha256", [b], "DOWNLOAD", new RegExp(`do not have the expected sha256: expected ${"0".repeat(64)} \\(options.sha256\\), got ${sha256(b)}; they were not loaded`), { sha256: "0".repeat(64) }],
    ["a named pin", [b], "DOWNLOAD", /\(MY_PIN\)/, { sha256: { sha256: "1".repeat(64), source: "MY_PIN" } }],
    ["a pin that is no sha256", [b], "INPUT", /options.sha256 must be a sha256: 64 hex digits/, { sha256: "abc" }],
    ["a bad length", [b], "INPUT", /options.length must be the file's length/, { length: -1 }],
    ["bad options", [b], "INPUT", /the load options must be an object/, "fast"],
    ["a vocabulary of the wrong type", [b], "INPUT", /the vocabulary must be/, undefined, 42],
    ["a vocabulary the model does not fit", [b], "VOCAB", /./, undefined, "just\nthree\nlines"],
  ];
  const used = new Response(b);
  await used.arrayBuffer();
  cases.push(["a used Response", used, "INPUT", /already read/]);
  for (const [what, source, kind, pattern, options, vocab = m.vocabText] of cases) {
    await refused(NeedleWasm.loadStream(source, vocab, options), kind, pattern, what);
  }
  // and the engine still loads
  const e = await NeedleWasm.loadStream([b], m.vocabText);
  assert.deepEqual(e.generate(m.generate[0].input_ids, { maxNewTokens: 4 }), m.generate[0].ids.slice(0, 4));
  e.free();
});

test("a failed stream cancels its source", async () => {
  const b = TINY.bytes;
  let cancelled = null;
  const stream = new ReadableStream({
    pull(controller) {
      controller.enqueue(b.subarray(0, 8)); // a header length, then forever the same bytes
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  await refused(NeedleWasm.loadStream(stream, null, { length: 8 }), "WEIGHTS", /longer than the 8 bytes/, "header past the length");
  assert.ok(cancelled instanceof NeedleError);
  let returned = false;
  async function* endless() {
    try {
      for (;;) yield b;
    } finally {
      returned = true;
    }
  }
  await refused(NeedleWasm.loadStream(endless(), null), "WEIGHTS", /go on past/, "an endless iterable");
  assert.ok(returned, "the iterator was closed");
});

test("the full-size model: streamed in 64 KiB chunks, the same answer as the byte-array load and the JVM", async () => {
  const bytes = fs.readFileSync(nodeFixture(FULL.weights));
  const vocab = realVocab();
  const e = await NeedleWasm.loadStream(new Response(readable(chunked(bytes, 65536)), { headers: { "content-length": String(bytes.length) } }), vocab,
    { sha256: sha256(bytes) });
  const r = e.runDetailed(FULL.query, FULL.tools, { maxNewTokens: FULL.max_new_tokens });
  const whole = NeedleWasm.load(bytes, vocab);
  assert.deepEqual(r.tokens, whole.runDetailed(FULL.query, FULL.tools, { maxNewTokens: FULL.max_new_tokens }).tokens);
  assert.deepEqual(r.tokens, FULL.tokens);
  whole.free();
  e.free();
});

test("loading again after failures and frees reuses the engine's block: the memory does not grow", async () => {
  const bytes = fs.readFileSync(nodeFixture(FULL.weights));
  const chunks = chunked(bytes, 1 << 20);
  const first = await NeedleWasm.loadStream(chunks, null);
  first.free();
  const before = external();
  for (let i = 0; i < 3; i++) {
    await refused(NeedleWasm.loadStream(chunks.slice(0, -1), null), "WEIGHTS", /ended after/, "short " + i);
    await refused(NeedleWasm.loadStream(chunks, null, { sha256: "f".repeat(64) }), "DOWNLOAD", /expected sha256/, "hash " + i);
    const e = await NeedleWasm.loadStream(chunks, null);
    assert.ok(e.generate([5, 6, 7], { maxNewTokens: 2 }).length <= 2);
    e.free();
  }
  const grown = external() - before;
  // six reservations of 22 MB without reuse would add 130 MB or more
  assert.ok(grown < bytes.length / 2, `external memory grew ${(grown / MiB).toFixed(1)} MiB over 9 loads of a ${(bytes.length / MiB).toFixed(1)} MiB file`);
});
