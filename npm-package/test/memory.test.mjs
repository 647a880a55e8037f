// The full-size random model (ModelWriter.fullSize(), about 22.3 MB in the needle-rs layout, the real model's shape) with the
// real vocabulary: the answer equals the JVM's, the engine holds one copy of the weights (the file
// size plus a few MB, once the caller drops its bytes: INT4 kept packed, no float expansion, no
// second copy), and the load and request times next to the JVM's.
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
  t.diagnostic(`after load, caller's bytes dropped: RSS +${mb(r.loaded.rss)}, JS/Wasm heap +${mb(r.loaded.heapUsed)}, external (linear memory) +${mb(r.loaded.external)}, ArrayBuffers +${mb(r.loaded.arrayBuffers)}`);
  t.diagnostic(`during load (caller's bytes + engine copy): RSS +${mb(r.peak.rss)}, heap +${mb(r.peak.heapUsed)}, external +${mb(r.peak.external)}`);
  t.diagnostic(`after 4 requests: RSS +${mb(r.afterRuns.rss)}, heap +${mb(r.afterRuns.heapUsed)}; after 4 more: heap +${mb(r.afterMoreRuns.heapUsed)}; after free(): heap +${mb(r.freed.heapUsed)}`);
  const warm = r.runs.slice(1).map((x) => x.ms).sort((a, b) => a - b)[1];
  t.diagnostic(`wasm: init ${r.initMs.toFixed(0)} ms, load ${r.loadMs.toFixed(0)} ms, request first ${r.runs[0].ms.toFixed(0)} ms, warm ${warm.toFixed(0)} ms `
    + `(encode ${r.runs.at(-1).encodeMs.toFixed(0)} ms for ${r.prefillTokens} tokens, decode ${r.runs.at(-1).decodeMs.toFixed(0)} ms for ${r.decodeTokens} steps)`);
  t.diagnostic(`jvm:  load ${full.jvm.load_ms.toFixed(0)} ms, request first ${full.jvm.first_run_ms.toFixed(0)} ms, warm ${full.jvm.warm_run_ms.toFixed(0)} ms`);

  // One copy of the weights (issue 14.3). With the Wasm SIMD kernels (the default where the host
  // has Wasm SIMD) it is in the linear memory, where needle-simd.wasm computes on it: Node counts
  // that memory as external (not as an ArrayBuffer, not in the heap): the file, group scales
  // included (the kernels read the file's F32 scales in place). The linear memory's first pages
  // (TeaVM's initial memory, ~2 MiB free before the load) take part of the file, so its growth is
  // a little under the file's size. The Java heap only holds a few MB of tables (tokenizer, token
  // trie, norms), never the file. With the portable kernels the copy is a Java byte[] in the
  // Wasm GC heap (V8's heap). INT4 expanded to floats would be 8x the file, a second copy 2x.
  // RSS also counts V8's free heap pages (its young generation grows during the load and is
  // kept), hence the wider bound.
  const MiB = 1024 * 1024;
  const engine = r.loaded.heapUsed + r.loaded.external;
  t.diagnostic(`engine memory (heap + external) +${mb(engine)}: ${r.simd ? "SIMD kernels, the file in the linear memory only" : "portable kernels, the file in the heap"}`);
  if (r.simd) {
    assert.ok(r.loaded.heapUsed < 8 * MiB, `no Java copy of the weights: heap +${mb(r.loaded.heapUsed)}`);
    assert.ok(r.loaded.external > f - 3 * MiB && r.loaded.external < f + MiB / 4,
      `the linear memory holds the file once: external +${mb(r.loaded.external)}`);
  } else {
    assert.ok(r.loaded.heapUsed > 0.9 * f, "the weights are in the heap once");
    assert.ok(r.loaded.heapUsed < f + 8 * MiB, `heap growth ${mb(r.loaded.heapUsed)} stays near the file size ${mb(f)}`);
  }
  assert.ok(engine < f + 10 * MiB, `engine memory ${mb(engine)} is the file size ${mb(f)} and a few MB`);
  assert.ok(r.loaded.rss < 1.4 * f + 16 * MiB, `RSS growth ${mb(r.loaded.rss)} stays near the file size ${mb(f)} plus V8's heap slack`);
  assert.ok(r.loaded.arrayBuffers < 0.1 * f, "no lingering JavaScript copy of the bytes");
  // After requests the engine also keeps one request's work buffers for the next one (the
  // encoder's rows and scratch, the key/value stores; in proportion to the prompt, kept up to 512
  // tokens: 5.6 MiB for this 110-token prompt), so that a request makes few arrays (V8's young
  // generation would otherwise grow to hold them), and the SIMD kernels their activation buffers
  // in the linear memory. Neither accumulates.
  const kept = r.afterRuns.heapUsed - r.loaded.heapUsed;
  t.diagnostic(`kept for the next request: heap ${mb(kept)} for ${r.prefillTokens} prompt tokens, linear memory ${mb(r.afterRuns.external - r.loaded.external)}`);
  assert.ok(kept < r.prefillTokens * 64 * 1024 + 2 * MiB, `buffers kept after requests ${mb(kept)}`);
  assert.ok(r.afterRuns.external - r.loaded.external < 4 * MiB, `the kernels' buffers ${mb(r.afterRuns.external - r.loaded.external)}`);
  // ... and in few objects: every small object that survives is one more for V8's young
  // generation to copy, and enough of them make it grow (RSS the Worker's process keeps). The key
  // and value stores are one array each, the grammar's token texts one array (1,090 more objects
  // after 4 requests on 2026-12-06; 17,470 while each token's text was an array, ~44,000 while the
  // stores had an array per position and head).
  const objects = r.objectsAfterRuns - r.objectsLoaded;
  t.diagnostic(`heap objects: ${r.objectsLoaded} after the load, ${r.objectsAfterRuns} after 4 requests (+${objects})`);
  assert.ok(objects < 5000, `a request leaves few objects behind: +${objects}`);
  assert.ok(Math.abs(r.afterMoreRuns.heapUsed - r.afterRuns.heapUsed) < MiB
    && Math.abs(r.afterMoreRuns.external - r.afterRuns.external) < MiB,
  `nothing accumulates: heap +${mb(r.afterRuns.heapUsed)} after 4 requests, +${mb(r.afterMoreRuns.heapUsed)} after 8; `
    + `linear memory +${mb(r.afterRuns.external)}, +${mb(r.afterMoreRuns.external)}`);
  assert.ok(r.freed.heapUsed < 0.2 * f, `free() lets the collector reclaim the model (heap +${mb(r.freed.heapUsed)})`);
});
