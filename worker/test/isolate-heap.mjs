// The V8 heap of a Worker's isolate through the DevTools protocol of workerd's inspector (the tests
// reach it through `wrangler dev`'s inspector proxy, worker/bench/bench.mjs through workerd's own).
// Node built-ins and the `ws` client of worker/node_modules only, so that the benchmark can load
// it without the environment helpers.mjs reads.
import path from "node:path";
import { fileURLToPath } from "node:url";

const WORKER_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/**
 * The isolate behind the inspector on 127.0.0.1:`inspectorPort`, after a full garbage collection:
 * { usage: Runtime.getHeapUsage's { usedSize, totalSize, backingStorageSize } in bytes
 * (backingStorageSize: ArrayBuffers, WebAssembly memories included), snapshot: the heap snapshot,
 * parsed, when `keepSnapshot` (else null) }. `timeoutMs` bounds each answer of the inspector;
 * `tries`: how many times to ask for the snapshot and usage before giving up.
 */
export async function isolateHeapAt(inspectorPort, { keepSnapshot = false, timeoutMs = 60_000, tries = 1 } = {}) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  // the `ws` client (a dependency of wrangler): the inspector wants an Origin header
  const { WebSocket } = await import(path.join(WORKER_DIR, "node_modules", "ws", "wrapper.mjs"));
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { origin: "http://127.0.0.1" } });
  try {
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const pending = new Map();
    let chunks = [];
    ws.on("message", (data) => {
      const m = JSON.parse(data);
      if (keepSnapshot && m.method === "HeapProfiler.addHeapSnapshotChunk") {
        chunks.push(m.params.chunk);
      }
      pending.get(m.id)?.(m);
    });
    let id = 0;
    const send = (method, params = {}) => new Promise((resolve, reject) => {
      const n = ++id;
      const timer = setTimeout(() => reject(new Error(method + ": no answer from the inspector")), timeoutMs);
      pending.set(n, (m) => {
        clearTimeout(timer);
        resolve(m.result);
      });
      ws.send(JSON.stringify({ id: n, method, params }));
    });
    // The collection: a heap snapshot, which V8 takes after a full collection (its chunks come as
    // events). Not HeapProfiler.collectGarbage: workerd never runs the task V8 posts for it (it is
    // not answered and collects nothing). wrangler's inspector proxy answers the first messages of
    // a session unreliably (it sends its own): `tries` lets a caller ask again.
    for (let attempt = 1; ; attempt++) {
      try {
        chunks = [];
        await send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
        const usage = await send("Runtime.getHeapUsage");
        return { usage, snapshot: keepSnapshot ? JSON.parse(chunks.join("")) : null };
      } catch (e) {
        if (attempt >= tries) throw e;
      }
    }
  } finally {
    ws.close();
  }
}
