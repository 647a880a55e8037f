// The streamed load in workerd (the Workers runtime), on what it relies on there: a fetch body is
// a byte stream whose BYOB reads fill the reader's buffer and give it back (transferred: the
// buffer handed over is detached, the one returned has its length), crypto.DigestStream has hashed
// a written chunk once its write's promise settled (so a buffer refilled after an awaited write
// hashes right: the package's digest.js no longer copies each chunk), and NeedleWasm.loadStream
// of a fetch body and loadModel (hashing with DigestStream) load the same model as the JVM's
// answers, a wrong pin refused. A Worker bundled by wrangler (offline) served by workerd on
// 127.0.0.1, fetching the files from this process.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { sha256 } from "../../node-support/test-helpers.mjs";
import { freePort, manifest, nodeFixture, TEST_DIR, workerdAnswer } from "./helpers.mjs";

const tools = process.env.NEEDLE_TEST_TOOLS;

const WORKER = `
import init, { loadModel, NeedleWasm } from "needle-java-wasm";

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

export default {
  async fetch(request, env) {
    try {
      await init();
      const cases = JSON.parse(env.CASES);
      const weightsUrl = env.FILES + "/model.bin";
      const vocabUrl = env.FILES + "/vocab.txt";
      const answers = (engine) => cases.map((r) => engine.runDetailed(r.query, r.tools,
        { maxNewTokens: r.max_new_tokens, constrain: r.constrain }).text);
      const out = {};

      // a fetch body read with a BYOB reader: the same buffer back at every read
      const body = (await fetch(weightsUrl)).body;
      const reader = body.getReader({ mode: "byob" });
      let buffer = new ArrayBuffer(65536);
      out.byob = [];
      for (let i = 0; i < 4; i++) {
        const given = buffer;
        const { done, value } = await reader.read(new Uint8Array(given));
        out.byob.push({ done, got: value.byteLength, givenDetached: given.byteLength === 0, back: value.buffer.byteLength });
        buffer = value.buffer;
      }
      await reader.cancel();

      // DigestStream fed views of one buffer, refilled (overwritten) once each write settled
      const whole = new Uint8Array(await (await fetch(weightsUrl)).arrayBuffer());
      const digest = new crypto.DigestStream("SHA-256");
      const writer = digest.getWriter();
      const one = new Uint8Array(4099);
      for (let at = 0; at < whole.length; at += one.length) {
        const n = Math.min(one.length, whole.length - at);
        one.set(whole.subarray(at, at + n));
        await writer.write(one.subarray(0, n));
        one.fill(0xee);
      }
      await writer.close();
      out.digest = { streamed: hex(await digest.digest), whole: hex(await crypto.subtle.digest("SHA-256", whole)) };

      const vocab = await (await fetch(vocabUrl)).text();
      const streamed = await NeedleWasm.loadStream(await fetch(weightsUrl), vocab, { sha256: env.SHA256 });
      out.loadStream = { simd: streamed.simd, runs: answers(streamed) };
      streamed.free();

      const loaded = await loadModel({ weightsUrl, vocabUrl, weightsSha256: env.SHA256, cache: false });
      out.loadModel = { status: loaded.model ? loaded.integrity.weights.status : null, sha256: loaded.integrity.weights.sha256,
        bytes: loaded.weightsBytes, runs: answers(loaded.model) };
      loaded.model.free();
      try {
        await loadModel({ weightsUrl, vocabUrl, weightsSha256: "0".repeat(64), cache: false });
        out.wrongPin = "loaded";
      } catch (e) {
        out.wrongPin = { kind: e.kind, message: e.message };
      }
      return Response.json(out);
    } catch (e) {
      return new Response(String(e && e.stack || e), { status: 500 });
    }
  },
};
`;

test("in workerd: BYOB reads of a fetch body, DigestStream with a refilled buffer, loadStream and loadModel of a fetch body",
  { skip: !tools && "NEEDLE_TEST_TOOLS is not set", timeout: 180_000 }, async (t) => {
  const m = manifest().models.find((x) => x.name === "swiglu-contrastive");
  const weights = fs.readFileSync(nodeFixture(m.weights));
  const vocab = fs.readFileSync(nodeFixture(m.vocab));
  const files = http.createServer((req, res) => {
    const bytes = req.url === "/model.bin" ? weights : req.url === "/vocab.txt" ? vocab : null;
    res.writeHead(bytes ? 200 : 404, { "content-length": bytes ? bytes.length : 0 });
    res.end(bytes ?? undefined);
  });
  await new Promise((resolve) => files.listen(0, "127.0.0.1", resolve));
  t.after(() => files.close());

  const project = fs.mkdtempSync(path.join(path.dirname(TEST_DIR), "worker-stream-"));
  t.after(() => fs.rmSync(project, { recursive: true, force: true }));
  fs.mkdirSync(path.join(project, "src"));
  fs.writeFileSync(path.join(project, "src", "worker.js"), WORKER);
  fs.writeFileSync(path.join(project, "wrangler.toml"),
    'name = "needle-stream"\nmain = "src/worker.js"\ncompatibility_date = "2025-09-01"\n');
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", HOME: project, XDG_CONFIG_HOME: project };
  await promisify(execFile)(process.execPath,
    [path.join(tools, "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"],
    { cwd: project, env, timeout: 120_000 }).catch((e) => assert.fail("wrangler failed:\n" + e.stdout + e.stderr));
  const dist = fs.readdirSync(path.join(project, "dist"));
  const modules = ["worker.js", ...dist.filter((f) => f.endsWith(".wasm"))]
    .map((f) => `(name = "${f}", ${f.endsWith(".wasm") ? "wasm" : "esModule"} = embed "dist/${f}")`);
  const bindings = { FILES: `http://127.0.0.1:${files.address().port}`, SHA256: sha256(weights), CASES: JSON.stringify(m.runs) };
  const port = await freePort();
  fs.writeFileSync(path.join(project, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .streamWorker), (name = "loopback", network = (allow = ["local"])) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ]
);
const streamWorker :Workerd.Worker = (
  modules = [ ${modules.join(", ")} ],
  compatibilityDate = "2025-09-01",
  bindings = [ ${Object.entries(bindings).map(([k, v]) => `(name = "${k}", text = ${JSON.stringify(v)})`).join(", ")} ],
  globalOutbound = "loopback",
);
`);
  const { response, log } = await workerdAnswer(t, tools, path.join(project, "config.capnp"), port);
  const text = await response.text();
  assert.equal(response.status, 200, text + "\n" + log);
  const out = JSON.parse(text);
  for (const read of out.byob) {
    assert.equal(read.done, false);
    assert.ok(read.got > 0 && read.got <= 65536, JSON.stringify(read));
    assert.equal(read.givenDetached, true, "the buffer went to the stream");
    assert.equal(read.back, 65536, "and came back with the chunk");
  }
  assert.equal(out.digest.streamed, out.digest.whole, "DigestStream hashed each chunk by the time its write settled");
  assert.equal(out.digest.whole, sha256(weights));
  const expected = m.runs.map((r) => r.text);
  assert.equal(out.loadStream.simd, true);
  assert.deepEqual(out.loadStream.runs, expected, "loadStream of a fetch body");
  assert.deepEqual(out.loadModel, { status: "pinned", sha256: sha256(weights), bytes: weights.length, runs: expected }, "loadModel");
  assert.equal(out.wrongPin.kind, "DOWNLOAD", JSON.stringify(out.wrongPin));
  assert.match(out.wrongPin.message, /sha256/);
});
