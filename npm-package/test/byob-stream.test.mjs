// NeedleWasm.loadStream on a byte stream (a fetch body, an R2 object's, `type: "bytes"`): the
// package reads it with a BYOB reader into one buffer it hands back at every read, so that the
// stream makes no array per chunk. The producer below answers each read's view itself (the
// stream's byobRequest exists only for a BYOB read), fills only part of it, and leaves a mark in
// the part it did not fill: the mark is still there at the next read when the same memory came
// back. Same answers, hashes and errors as the other sources; an iterable refilling its own buffer
// (the Worker's R2 reader) works too.
import assert from "node:assert/strict";
import fs from "node:fs";
import { before, test } from "node:test";
import init, { NeedleError, NeedleWasm } from "needle-java-wasm";
import { sha256 } from "../../node-support/test-helpers.mjs";
import { manifest, nodeFixture } from "./helpers.mjs";

const MODELS = manifest().models.map((m) => ({
  ...m, bytes: fs.readFileSync(nodeFixture(m.weights)), vocabText: fs.readFileSync(nodeFixture(m.vocab), "utf8"),
}));
const TINY = MODELS.find((m) => m.name === "tiny-drelu");

before(async () => {
  await init();
});

/** The length of the 8-byte prefix plus the JSON header. */
const headLength = (bytes) => 8 + Number(Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0));

/**
 * A byte stream of `bytes` answering each BYOB read with at most `sizes[i]` bytes (cycled; always
 * less than the view, leaving room for a mark), then `ending` ("close", or an Error to fail with
 * after those bytes). Records in `seen`: each read's view and buffer length, whether the mark of the
 * read before was still in the buffer, and whether a read came without a view (no BYOB).
 */
function byteStream(bytes, sizes, seen, ending = "close") {
  let at = 0;
  let i = 0;
  let mark = null; // { index, value } left in the previous view's unfilled tail
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const request = controller.byobRequest;
      if (request === null) {
        seen.withoutView++;
        controller.error(new Error("a read without a view: not a BYOB read"));
        return;
      }
      const view = request.view;
      seen.views.push({ length: view.byteLength, buffer: view.buffer.byteLength, offset: view.byteOffset });
      if (mark !== null) {
        seen.marksKept += view[mark.index] === mark.value ? 1 : 0;
        seen.marksChecked++;
      }
      if (at >= bytes.length) {
        if (ending === "close") {
          controller.close();
          request.respond(0);
        } else {
          controller.error(ending);
        }
        return;
      }
      const n = Math.min(sizes[i++ % sizes.length], bytes.length - at, view.byteLength - 1);
      view.set(bytes.subarray(at, at + n));
      at += n;
      mark = { index: view.byteLength - 1, value: 1 + (i % 250) };
      view[mark.index] = mark.value;
      request.respond(n);
    },
    cancel(reason) {
      seen.cancelled = reason;
    },
  });
}

const record = () => ({ views: [], marksKept: 0, marksChecked: 0, withoutView: 0, cancelled: undefined });

/** What a model answers: generated ids for each case, a constrained run, the config. */
function answers(engine, m) {
  return {
    generate: m.generate.map((g) => engine.generate(g.input_ids, { maxNewTokens: g.max_new_tokens })),
    run: m.runs.slice(0, 2).map((r) => engine.runDetailed(r.query, r.tools, { maxNewTokens: r.max_new_tokens, constrain: r.constrain }).tokens),
    config: engine.config,
  };
}

/** Rejects with a NeedleError of `kind` whose message matches `pattern`. */
async function refused(promise, kind, pattern, what) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof NeedleError, what + ": a NeedleError, got " + e);
    assert.equal(e.kind, kind, what + ": " + e.message);
    assert.match(e.message, pattern, what);
    return true;
  }, what);
}

for (const simd of [true, false]) {
  test(`a byte stream is read into one buffer handed back at every read; the same answers (simd: ${simd})`, async () => {
    for (const m of MODELS) {
      const whole = NeedleWasm.load(m.bytes, m.vocabText, { simd });
      const expected = answers(whole, m);
      whole.free();
      const h = headLength(m.bytes);
      // 7-byte pieces through the length prefix and into the header, a piece ending inside the
      // header, then odd and large partial fills
      for (const sizes of [[7, 7, 7, h - 30, 40, 4093, 100_000], [h + 3, 65_536], [1 << 20]]) {
        const seen = record();
        const progress = [];
        const e = await NeedleWasm.loadStream(byteStream(m.bytes, sizes, seen), m.vocabText,
          { simd, sha256: sha256(m.bytes), onProgress: (p) => progress.push(p.loaded) });
        const what = `${m.name}, pieces ${sizes.join(",")}`;
        assert.deepEqual(answers(e, m), expected, what);
        e.free();
        assert.equal(seen.withoutView, 0, what + ": every read brought a view");
        const size = seen.views[0].buffer;
        assert.ok(size >= 64 * 1024 && size <= 256 * 1024, what + ": a buffer of 64-256 KiB, got " + size);
        assert.ok(seen.views.every((v) => v.buffer === size && v.offset === 0 && v.length === size), what + ": the whole buffer each time");
        assert.ok(seen.marksChecked >= seen.views.length - 1 && seen.marksChecked > 0, what);
        assert.equal(seen.marksKept, seen.marksChecked, what + ": the same memory came back at every read");
        assert.equal(progress.at(-1), m.bytes.length, what + ": progress up to the end");
      }
    }
  });
}

test("a byte stream's errors: short, too long, failing midway (its source cancelled on failure), a wrong sha256", async () => {
  const b = TINY.bytes;
  const h = headLength(b);
  const cases = [
    ["ends inside the header", b.subarray(0, h - 10), "close", "WEIGHTS", new RegExp(`ended after ${h - 10} bytes, inside their SafeTensors header`)],
    ["ends inside the data", b.subarray(0, b.length - 1), "close", "WEIGHTS", new RegExp(`ended after ${b.length - 1} of the ${b.length} bytes`)],
    ["one byte too many", Buffer.concat([b, Buffer.from([0])]), "close", "WEIGHTS", new RegExp(`go on past the ${b.length} bytes`)],
    ["fails midway", b.subarray(0, h + 5000), new Error("socket hang up"), "DOWNLOAD", /the stream failed after \d+ chunks: socket hang up/],
  ];
  for (const [what, bytes, ending, kind, pattern] of cases) {
    const seen = record();
    await refused(NeedleWasm.loadStream(byteStream(bytes, [7, 3000], seen, ending), TINY.vocabText), kind, pattern, what);
    assert.equal(seen.withoutView, 0, what);
    if (kind === "WEIGHTS" && what === "one byte too many") {
      assert.ok(seen.cancelled instanceof NeedleError, what + ": the source was cancelled with the error");
    }
  }
  const seen = record();
  await refused(NeedleWasm.loadStream(byteStream(b, [4093], seen), TINY.vocabText, { sha256: "0".repeat(64) }), "DOWNLOAD",
    new RegExp(`expected ${"0".repeat(64)} \\(options.sha256\\), got ${sha256(b)}`), "a wrong sha256");
  // and a byte stream still loads
  const e = await NeedleWasm.loadStream(byteStream(b, [4093], record()), TINY.vocabText);
  assert.deepEqual(e.generate(TINY.generate[0].input_ids, { maxNewTokens: 4 }), TINY.generate[0].ids.slice(0, 4));
  e.free();
});

test("a byte stream that never ends is cancelled once the file is complete", async () => {
  const b = TINY.bytes;
  const seen = record();
  const endless = byteStream(Buffer.concat([b, Buffer.alloc(1 << 20)]), [65_536], seen);
  await refused(NeedleWasm.loadStream(endless, TINY.vocabText), "WEIGHTS", /go on past/, "past the file");
  assert.ok(seen.cancelled instanceof NeedleError, "cancelled with the load's error");
});

test("an async iterable refilling one buffer of its own (the Worker's R2 reader): the same answers", async () => {
  const m = TINY;
  const whole = NeedleWasm.load(m.bytes, m.vocabText);
  const expected = answers(whole, m);
  whole.free();
  const h = headLength(m.bytes);
  for (const size of [5, h - 1, h + 1, 65_536]) {
    const buffer = new Uint8Array(size);
    async function* refilled() {
      for (let at = 0; at < m.bytes.length; at += size) {
        const n = Math.min(size, m.bytes.length - at);
        buffer.fill(0xee); // what a reused buffer held before: must not reach the engine
        buffer.set(m.bytes.subarray(at, at + n));
        yield buffer.subarray(0, n);
      }
    }
    const e = await NeedleWasm.loadStream(refilled(), m.vocabText, { sha256: sha256(m.bytes) });
    assert.deepEqual(answers(e, m), expected, "pieces of " + size);
    e.free();
  }
});
