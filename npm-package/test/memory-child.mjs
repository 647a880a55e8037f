// Run by memory.test.mjs as `node --expose-gc memory-child.mjs`: loads the full-size random model
// and prints the process's memory growth and the request timings as one JSON line.
import fs from "node:fs";
import v8 from "node:v8";
import init, { NeedleWasm } from "needle-java-wasm";
import { manifest, nodeFixture, realVocab } from "./helpers.mjs";

const full = manifest().fullsize;
const settle = () => { for (let i = 0; i < 3; i++) globalThis.gc(); };
const usage = () => { settle(); return process.memoryUsage(); };
// The number of objects in the heap (after a full collection): a heap snapshot's node count, from
// the head of the snapshot (its "meta" part comes first; the rest is not read)
async function heapObjects() {
  settle();
  const snapshot = v8.getHeapSnapshot();
  let head = "";
  for await (const chunk of snapshot) {
    head += chunk;
    const m = head.match(/"node_count":(\d+)/);
    if (m) {
      snapshot.destroy();
      return Number(m[1]);
    }
  }
  throw new Error("no node_count in the heap snapshot");
}

let t0 = performance.now();
await init();
const initMs = performance.now() - t0;
const vocab = realVocab();
const before = usage();

let bytes = fs.readFileSync(nodeFixture(full.weights));
const fileBytes = bytes.length;
t0 = performance.now();
const engine = NeedleWasm.load(bytes, vocab);
const loadMs = performance.now() - t0;
const engineLoadMs = engine.loadMs;
const peak = process.memoryUsage(); // the caller's bytes and the engine's copy both alive
bytes = null; // the caller drops its copy: only the engine's remains
const loaded = usage();
const objectsLoaded = await heapObjects();

const runs = [];
let result;
for (let i = 0; i < 4; i++) {
  t0 = performance.now();
  result = engine.runDetailed(full.query, full.tools, { maxNewTokens: full.max_new_tokens });
  runs.push({ ms: performance.now() - t0, encodeMs: result.timings.encodeMs, decodeMs: result.timings.decodeMs });
}
const afterRuns = usage();
const objectsAfterRuns = await heapObjects();
for (let i = 0; i < 4; i++) {
  engine.runDetailed(full.query, full.tools, { maxNewTokens: full.max_new_tokens });
}
const afterMoreRuns = usage();
const simd = engine.simd;
engine.free();
const freed = usage();

const growth = (a, b) => ({ rss: b.rss - a.rss, heapUsed: b.heapUsed - a.heapUsed, arrayBuffers: b.arrayBuffers - a.arrayBuffers, external: b.external - a.external });
console.log(JSON.stringify({
  fileBytes, objectsLoaded, objectsAfterRuns, initMs, loadMs, engineLoadMs, simd, runs, text: result.text, tokens: result.tokens,
  prefillTokens: result.timings.prefillTokens, decodeTokens: result.timings.decodeTokens,
  loaded: growth(before, loaded), peak: growth(before, peak), afterRuns: growth(before, afterRuns), afterMoreRuns: growth(before, afterMoreRuns), freed: growth(before, freed),
}));
