// The full-size random model (ModelWriter.fullSize(), about 22.3 MB in the needle-rs layout, the real model's shape) with the
// real vocabulary: the answer equals the JVM's, the process grows by about the file size once the
// caller drops its bytes (INT4 kept packed: no float expansion, no second copy), and the load and
// request times next to the JVM's.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { manifest, mb, TEST_DIR } from "./helpers.mjs";

test("full-size model: JVM answer, memory near the file size, timings", async (t) => {
  const full = manifest().fullsize;
  const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", path.join(TEST_DIR, "memory-child.mjs")],
    { timeout: 240_000, maxBuffer: 1 << 24 });
  const r = JSON.parse(stdout.trim().split("\n").pop());

  assert.equal(r.fileBytes, full.bytes);
  assert.deepEqual(r.tokens, full.tokens);
  assert.equal(r.text, full.text);
  assert.equal(r.prefillTokens, full.prefill_tokens);

  const f = r.fileBytes;
  t.diagnostic(`weights file ${mb(f)}; node ${process.version}`);
  t.diagnostic(`after load, caller's bytes dropped: RSS +${mb(r.loaded.rss)}, JS/Wasm heap +${mb(r.loaded.heapUsed)}, ArrayBuffers +${mb(r.loaded.arrayBuffers)}`);
  t.diagnostic(`during load (caller's bytes + engine copy): RSS +${mb(r.peak.rss)}, heap +${mb(r.peak.heapUsed)}`);
  t.diagnostic(`after 4 requests: RSS +${mb(r.afterRuns.rss)}, heap +${mb(r.afterRuns.heapUsed)}; after free(): heap +${mb(r.freed.heapUsed)}`);
  const warm = r.runs.slice(1).map((x) => x.ms).sort((a, b) => a - b)[1];
  t.diagnostic(`wasm: init ${r.initMs.toFixed(0)} ms, load ${r.loadMs.toFixed(0)} ms, request first ${r.runs[0].ms.toFixed(0)} ms, warm ${warm.toFixed(0)} ms `
    + `(encode ${r.runs.at(-1).encodeMs.toFixed(0)} ms for ${r.prefillTokens} tokens, decode ${r.runs.at(-1).decodeMs.toFixed(0)} ms for ${r.decodeTokens} steps)`);
  t.diagnostic(`jvm:  load ${full.jvm.load_ms.toFixed(0)} ms, request first ${full.jvm.first_run_ms.toFixed(0)} ms, warm ${full.jvm.warm_run_ms.toFixed(0)} ms`);

  // The engine's copy of the weights lives in the Wasm GC heap (V8's heap); beyond it the engine
  // holds a few MB of tables (tokenizer, token trie, caches). INT4 expanded to floats would be 8x
  // the file, a lingering second copy 2x. RSS also counts V8's free heap pages (its young
  // generation grows during the load and is kept), hence the wider bound.
  const MiB = 1024 * 1024;
  assert.ok(r.loaded.heapUsed > 0.9 * f, "the weights are in the heap once");
  assert.ok(r.loaded.heapUsed < f + 8 * MiB, `heap growth ${mb(r.loaded.heapUsed)} stays near the file size ${mb(f)}`);
  // With the Wasm SIMD kernels (the default where the host has Wasm SIMD) the file is also
  // copied once into the linear memory, where needle-simd.wasm computes on it: one more file size,
  // counted by Node as an ArrayBuffer (the memory's buffer).
  const simdCopy = r.simd ? f : 0;
  t.diagnostic(`SIMD kernels: ${r.simd ? "on (a second copy of the weights in the linear memory)" : "off"}`);
  assert.ok(r.loaded.rss < 2.4 * f + simdCopy, `RSS growth ${mb(r.loaded.rss)} stays near the file size ${mb(f)} plus V8's heap slack`);
  assert.ok(r.loaded.arrayBuffers < 0.1 * f + 1.15 * simdCopy, "no lingering JavaScript copy of the bytes");
  assert.ok(r.afterRuns.heapUsed < f + 12 * MiB, `heap after requests ${mb(r.afterRuns.heapUsed)}`);
  assert.ok(r.freed.heapUsed < 0.2 * f, `free() lets the collector reclaim the model (heap +${mb(r.freed.heapUsed)})`);
});
