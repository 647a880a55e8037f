// needle-rs's JavaScript API on needle-java-wasm (README.md, "Migrating from needle-rs").
//
// needle-rs's own documentation snippets run unchanged against this package: its README's quick
// start and the streaming, batch and retrieval examples of its docs/wasm-integration.md (GitHub
// Geekgineer/needle-rs at 23a638b, MIT; copied below verbatim). They import "needle-rs", which a
// scratch node_modules/needle-rs resolves to the installed needle-java-wasm (a link: the very
// module the tests import). Their free variables (weights, vocab, toolsJson, tools,
// translatorTools, engine) are globals set here; what they compute is recorded by wrapping the
// package's methods. Every result must equal the JVM engine's answer for the same model and
// inputs (wasm-bridge's NodeFixturesTest, manifest section "needle_rs"). Then needle-rs's own
// Node test (crates/needle-wasm/tests/node_e2e.js) as assertions, and the documented differences.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import init, { NeedleError, NeedleWasm } from "needle-java-wasm";
import { manifest, nodeFixture, PACKAGE_DIR } from "./helpers.mjs";

// ── needle-rs's snippets, verbatim ───────────────────────────────────────────────────────────
/** README.md, "Quick start", Browser / Node.js. */
const README_QUICK_START = `import init, { NeedleWasm } from "needle-rs";

await init();
const engine = NeedleWasm.load(weights, vocab);
engine.run("Book a flight from London to JFK tomorrow", toolsJson);
// → {"name":"book_flight","arguments":{...}}
`;

/** docs/wasm-integration.md, "Streaming tokens". */
const STREAMING = `const result = engine.run_stream(
  "Book a flight from London to New York",
  tools,
  (tokenId, piece) => {
    process.stdout.write(piece); // or update DOM
  }
);
// result is the final post-processed string (same as run())
`;

/** docs/wasm-integration.md, "Batch inference". */
const BATCH = `const results = engine.run_batch([
  { query: "What is the weather in Paris?", tools },
  { query: "Translate 'hello' to Spanish", tools: translatorTools },
]);
// results is a JS Array of strings
`;

/** docs/wasm-integration.md, "Contrastive retrieval". */
const RETRIEVAL = `// Get an embedding for semantic search
const embedding = engine.encode_contrastive("weather forecast");
// embedding is Float32Array (L2-normalized) or null if no contrastive head

// Rank tools by relevance to a query
const topK = engine.retrieve_tools(
  "What is the weather in Paris?",
  JSON.stringify(["Get weather data", "Search the web", "Send an email"]),
  2  // top_k
);
// topK: '[{"index":0,"score":0.95},{"index":1,"score":0.42}]'
`;

// ── the JVM's answers ────────────────────────────────────────────────────────────────────────
const rs = manifest().needle_rs;
assert.ok(rs, "manifest.json has the needle_rs section (wasm-bridge's NodeFixturesTest writes it)");
const modelFiles = (name) => {
  const m = manifest().models.find((x) => x.name === name);
  assert.ok(m, "model " + name + " is in the manifest");
  return { weights: fs.readFileSync(nodeFixture(m.weights)), vocab: fs.readFileSync(nodeFixture(m.vocab), "utf8"), vocabFile: nodeFixture(m.vocab) };
};

/** The JVM's run of (query, tools) on a model: {text, pieces: [[id, piece]], tail}. */
function jvmRun(model, query, tools) {
  const r = model.runs.find((x) => x.query === query && x.tools === tools);
  assert.ok(r, `NodeFixturesTest has no run of ${JSON.stringify(query)} with these tools on ${model.name}`);
  return r;
}

function jvmEmbedding(model, text) {
  const e = model.embeddings.find((x) => x.text === text);
  assert.ok(e, `NodeFixturesTest has no embedding of ${JSON.stringify(text)} on ${model.name}`);
  return e.vector;
}

function jvmRetrieval(model, query, descriptions, topK) {
  const r = model.retrievals.find((x) => x.query === query && x.top_k === topK
      && JSON.stringify(x.descriptions) === JSON.stringify(descriptions));
  assert.ok(r, `NodeFixturesTest has no retrieval of ${JSON.stringify(query)} top ${topK} on ${model.name}`);
  return r.json;
}

/** The Float32Array equals the JVM's floats bit for bit. */
function assertSameFloats(actual, expected, what) {
  assert.ok(actual instanceof Float32Array, what + " is a Float32Array");
  assert.equal(actual.length, expected.length, what + ": length");
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], Math.fround(expected[i]))) {
      assert.fail(`${what}[${i}]: ${actual[i]}, the JVM's is ${expected[i]}`);
    }
  }
}

// ── running a snippet as needle-rs's users do ────────────────────────────────────────────────
let scratch;
let snippets = 0;

before(async () => {
  await init();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "needle-rs-snippets-"));
  fs.mkdirSync(path.join(scratch, "node_modules"));
  // "needle-rs" → the installed needle-java-wasm (Node resolves the link to the same module)
  fs.symlinkSync(PACKAGE_DIR, path.join(scratch, "node_modules", "needle-rs"), "junction");
  fs.writeFileSync(path.join(scratch, "package.json"), '{ "private": true, "type": "module" }\n');
});

after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const RECORDED = ["run", "run_stream", "run_batch", "encode_contrastive", "contrastive_dim", "retrieve_tools"];

/**
 * Runs `source` as an ES module of the scratch project with `globals` set; returns what it did:
 * [{method, args, result, printed?}] in order, and the engines NeedleWasm.load returned.
 */
async function runSnippet(source, globals) {
  const calls = [];
  const loaded = [];
  const originals = {};
  for (const name of RECORDED) {
    originals[name] = NeedleWasm.prototype[name];
    NeedleWasm.prototype[name] = function (...args) {
      const call = { method: name, args };
      let write;
      if (name === "run_stream") {
        // the streaming snippet prints each piece: capture it (the call is synchronous)
        call.printed = "";
        write = process.stdout.write;
        process.stdout.write = (chunk) => {
          call.printed += chunk;
          return true;
        };
      }
      try {
        call.result = originals[name].apply(this, args);
      } finally {
        if (write) process.stdout.write = write;
      }
      calls.push(call);
      return call.result;
    };
  }
  const load = NeedleWasm.load;
  NeedleWasm.load = (...args) => {
    const e = load(...args);
    loaded.push(e);
    return e;
  };
  for (const [k, v] of Object.entries(globals)) globalThis[k] = v;
  try {
    const file = path.join(scratch, `snippet-${++snippets}.mjs`);
    fs.writeFileSync(file, source);
    await import(pathToFileURL(file).href);
  } finally {
    for (const k of Object.keys(globals)) delete globalThis[k];
    Object.assign(NeedleWasm.prototype, originals);
    NeedleWasm.load = load;
  }
  return { calls, loaded };
}

for (const model of rs.models) {
  const { weights, vocab } = modelFiles(model.name);

  test(`${model.name}: needle-rs's README quick start runs unchanged and answers as the JVM`, async () => {
    const { calls, loaded } = await runSnippet(README_QUICK_START,
      { weights: new Uint8Array(weights), vocab, toolsJson: rs.globals.toolsJson });
    assert.equal(loaded.length, 1, "the snippet loaded one engine through this package");
    assert.ok(loaded[0] instanceof NeedleWasm);
    assert.deepEqual(calls.map((c) => c.method), ["run"]);
    const expected = jvmRun(model, "Book a flight from London to JFK tomorrow", rs.globals.toolsJson);
    assert.equal(calls[0].result, expected.text);
    loaded[0].free();
  });

  test(`${model.name}: needle-rs's streaming, batch and retrieval examples run unchanged`, async () => {
    const engine = NeedleWasm.load(weights, vocab);
    const globals = { engine, tools: rs.globals.tools, translatorTools: rs.globals.translatorTools };

    const stream = (await runSnippet(STREAMING, globals)).calls;
    assert.deepEqual(stream.map((c) => c.method), ["run_stream"]);
    const s = jvmRun(model, "Book a flight from London to New York", rs.globals.tools);
    assert.equal(stream[0].result, s.text, "run_stream returns the JVM's text");
    assert.equal(stream[0].printed, s.pieces.map(([, piece]) => piece).join(""), "the pieces printed are the JVM's");
    assert.equal(stream[0].printed + s.tail, s.text);

    const batch = (await runSnippet(BATCH, globals)).calls;
    assert.deepEqual(batch.map((c) => c.method), ["run_batch"]);
    assert.deepEqual(batch[0].result, [
      jvmRun(model, "What is the weather in Paris?", rs.globals.tools).text,
      jvmRun(model, "Translate 'hello' to Spanish", rs.globals.translatorTools).text,
    ]);

    const retrieval = (await runSnippet(RETRIEVAL, globals)).calls;
    assert.deepEqual(retrieval.map((c) => c.method), ["encode_contrastive", "retrieve_tools"]);
    assertSameFloats(retrieval[0].result, jvmEmbedding(model, "weather forecast"), "encode_contrastive");
    assert.equal(retrieval[1].result, jvmRetrieval(model, "What is the weather in Paris?",
      ["Get weather data", "Search the web", "Send an email"], 2));
    engine.free();
  });

  test(`${model.name}: needle-rs's node_e2e.js checks, every run against the JVM`, () => {
    // crates/needle-wasm/tests/node_e2e.js's assertions
    const engine = NeedleWasm.load(new Uint8Array(weights), vocab);
    assert.ok(engine !== null && engine !== undefined);
    for (const r of model.runs) {
      const result = engine.run(r.query, r.tools);
      assert.equal(typeof result, "string");
      assert.equal(result, r.text, `run(${JSON.stringify(r.query)})`);
      assert.ok(!result.startsWith("<tool_call>"));
      assert.doesNotMatch(result, /^\s/, "no leading space");
      const pieces = [];
      const streamResult = engine.run_stream(r.query, r.tools, (tokenId, piece) => {
        assert.equal(typeof tokenId, "number");
        assert.equal(typeof piece, "string");
        pieces.push([tokenId, piece]);
      });
      assert.equal(streamResult, result, "run_stream() output matches run()");
      assert.deepEqual(pieces, r.pieces, "the (id, piece) pairs are the JVM's");
      assert.ok(pieces.length > 0);
    }
    const examples = model.runs.map((r) => ({ query: r.query, tools: r.tools }));
    const batchResults = engine.run_batch(examples);
    assert.ok(Array.isArray(batchResults));
    assert.deepEqual(batchResults, model.runs.map((r) => r.text), "run_batch()[i] matches the JVM's run");

    const dim = engine.contrastive_dim();
    assert.equal(typeof dim, "number");
    assert.equal(dim, model.contrastive_dim);
    assert.equal(dim, engine.config.contrastive_dim);
    for (const { text, vector } of model.embeddings) {
      const emb = engine.encode_contrastive(text);
      assertSameFloats(emb, vector, `encode_contrastive(${JSON.stringify(text)})`);
      assert.equal(emb.length, dim);
      let sqNorm = 0;
      for (let i = 0; i < emb.length; i++) sqNorm += emb[i] * emb[i];
      assert.ok(Math.abs(sqNorm - 1.0) < 1e-4, `L2-normalized (||v||² = ${sqNorm})`);
    }
    for (const r of model.retrievals) {
      const rankJson = engine.retrieve_tools(r.query, JSON.stringify(r.descriptions), r.top_k);
      assert.equal(typeof rankJson, "string");
      assert.equal(rankJson, r.json, `retrieve_tools(${JSON.stringify(r.query)}, …, ${r.top_k})`);
      const ranks = JSON.parse(rankJson);
      assert.equal(ranks.length, Math.min(r.top_k, r.descriptions.length));
      for (let i = 1; i < ranks.length; i++) assert.ok(ranks[i - 1].score >= ranks[i].score, "best first");
      // the same ranking as retrieveTools, and the descriptions may be given as the array itself
      assert.deepEqual(ranks.map((x) => x.index), engine.retrieveTools(r.query, r.descriptions, r.top_k).map(([i]) => i));
      assert.equal(engine.retrieve_tools(r.query, r.descriptions, r.top_k), rankJson);
    }
    // the embeddings are the vectors retrieval scores: the dot product is retrieveTools' score
    const [q, d] = ["What is the weather in Paris?", "Get weather data"].map((t) => engine.encode_contrastive(t));
    let dot = 0;
    for (let i = 0; i < q.length; i++) dot = Math.fround(dot + Math.fround(q[i] * d[i]));
    assert.equal(dot, engine.retrieveTools("What is the weather in Paris?", ["Get weather data"], 1)[0][1]);
    engine.free();
  });

  test(`${model.name}: characters spelled by byte pieces stream as text, never as <0xNN>`, () => {
    const r = model.runs.find((x) => x.non_ascii);
    assert.ok(r, "NodeFixturesTest recorded a run whose output is not ASCII");
    const bytePiece = new Set(fs.readFileSync(modelFiles(model.name).vocabFile, "utf8").split("\n")
      .map((line, id) => (/^<0x[0-9A-F]{2}>\t/.test(line) ? id : -1)).filter((id) => id >= 0));
    const engine = NeedleWasm.load(weights, vocab);
    const pieces = [];
    const text = engine.run_stream(r.query, r.tools, (id, piece) => pieces.push([id, piece]));
    assert.equal(text, r.text);
    assert.match(text, /[^\x00-\x7f]/, "the output holds a non-ASCII character");
    assert.ok(pieces.some(([id]) => bytePiece.has(id)), "the model wrote it with byte pieces");
    assert.ok(pieces.every(([, piece]) => !/<0x[0-9A-F]{2}>/.test(piece)), "no piece is a <0xNN> placeholder");
    assert.equal(pieces.map(([, p]) => p).join("") + r.tail, text, "the pieces add up to the text");
    engine.free();
  });
}

// ── where needle-java-wasm differs from needle-rs (README.md, "Migrating from needle-rs") ──────
const NO_HEAD = modelFiles(rs.no_head_model);

function throwsKind(fn, kind, pattern) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof NeedleError, "a NeedleError: " + e);
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/, "one line");
    return true;
  });
}

test("without a contrastive head: contrastive_dim() is 0, encode_contrastive undefined, retrieve_tools throws", () => {
  const engine = NeedleWasm.load(NO_HEAD.weights, NO_HEAD.vocab);
  assert.equal(engine.contrastive_dim(), 0);
  assert.equal(engine.encode_contrastive("weather forecast"), undefined);
  // needle-rs answers "[]", as for descriptions that are not JSON: an error says which
  throwsKind(() => engine.retrieve_tools("weather", '["Get weather data"]', 1), "WEIGHTS", /no contrastive head/);
  engine.free();
});

test("a failing load throws one clear line where needle-rs returns undefined", () => {
  throwsKind(() => NeedleWasm.load(new Uint8Array([1, 2, 3]), NO_HEAD.vocab), "WEIGHTS", /./);
  throwsKind(() => NeedleWasm.load(NO_HEAD.weights, "not a vocabulary"), "VOCAB", /./);
});

test("mistakes in the arguments throw where needle-rs runs on or answers \"[]\"", () => {
  const head = modelFiles(rs.models[0].name);
  const engine = NeedleWasm.load(head.weights, head.vocab);
  throwsKind(() => engine.run("hi", "[{"), "JSON", /the tools are not valid JSON: .* at line 1 column 3/);
  throwsKind(() => engine.retrieve_tools("hi", '["a", ', 2), "JSON", /the tool descriptions are not valid JSON: .*line 1 column/);
  throwsKind(() => engine.retrieve_tools("hi", '{"a": 1}', 2), "INPUT", /tool descriptions must be an array of strings/);
  throwsKind(() => engine.retrieve_tools("hi", 42, 2), "INPUT", /tool descriptions must be a JSON text/);
  throwsKind(() => engine.retrieve_tools("hi", "[]", -1), "INPUT", /top_k must be >= 0/);
  throwsKind(() => engine.run_batch("not an array"), "INPUT", /run_batch takes an array/);
  throwsKind(() => engine.run_batch([{ tools: "[]" }]), "INPUT", /query of batch item 0 must be a string/);
  throwsKind(() => engine.encode_contrastive(7), "INPUT", /the text must be a string/);
  throwsKind(() => engine.run_stream("hi", "[]", "not a function"), "INPUT", /onToken must be a function/);
  // retrieve_tools' topK defaults to 5 (needle-rs requires it)
  assert.equal(JSON.parse(engine.retrieve_tools("hi", JSON.stringify(["a", "b", "c", "d", "e", "f"]))).length, 5);
  // an exception thrown by the callback stops the run and reaches the caller (needle-rs drops it)
  const mine = new Error("stop");
  assert.throws(() => engine.run_stream("hi", rs.globals.tools, () => { throw mine; }), (e) => e === mine);
  engine.free();
  throwsKind(() => engine.contrastive_dim(), "STATE", /freed/);
  throwsKind(() => engine.run_batch([]), "STATE", /freed/);
});
