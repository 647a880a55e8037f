// Shared by the node tests: where the fixtures are, and the parity tie rule.
// The tests run from a scratch project that installed the packed needle-java-wasm tarball, and
// import it only as "needle-java-wasm" (scripts/node-tests.sh sets them up).
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { dirFromEnv } from "../../node-support/test-helpers.mjs";

export { closeServer, freePort, listen } from "../../node-support/test-helpers.mjs";

/** ../shared: spec and fixtures. */
export const SHARED = dirFromEnv("NEEDLE_SHARED", "scripts/node-tests.sh");
/** What wasm-bridge's NodeFixturesTest wrote: generated models and the JVM's answers. */
export const NODE_FIXTURES = dirFromEnv("NEEDLE_NODE_FIXTURES", "scripts/node-tests.sh");
/** This test folder. */
export const TEST_DIR = path.dirname(fileURLToPath(import.meta.url));
/** The installed package (node_modules/needle-java-wasm), for tests that inspect its files. */
export const PACKAGE_DIR = path.dirname(fileURLToPath(import.meta.resolve("needle-java-wasm")));

export const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
export const fixture = (...parts) => path.join(SHARED, "fixtures", ...parts);
export const realVocab = () => fs.readFileSync(fixture("tokenizer", "vocab.txt"), "utf8");
export const manifest = () => readJson(path.join(NODE_FIXTURES, "manifest.json"));
export const nodeFixture = (name) => path.join(NODE_FIXTURES, name);

/**
 * The parity models from shared/fixtures/parity/pN.json: [{ name, weights (path), cases, tieEps,
 * metadata, embeddingShape, hasContrastive }]. metadata is the file's own __metadata__ (read from
 * its header: {} when it has none, as p4), embeddingShape the header's shape of "embedding".
 */
export function parityModels() {
  const dir = fixture("parity");
  return fs.readdirSync(dir).filter((f) => /^p\d+\.json$/.test(f)).sort().map((f) => {
    const spec = readJson(path.join(dir, f));
    const weights = path.join(dir, spec.model.file);
    const header = safetensorsHeader(fs.readFileSync(weights));
    return {
      name: f.replace(/\.json$/, ""), weights, cases: spec.cases, tieEps: spec.tie_eps,
      metadata: header.__metadata__ ?? {}, embeddingShape: header.embedding.shape,
      hasContrastive: spec.model.has_contrastive,
    };
  });
}

/** The parsed JSON header of a .safetensors file's bytes. */
export function safetensorsHeader(bytes) {
  const length = Number(Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0));
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, length).toString("utf8"));
}

/**
 * The tie rule of shared/fixtures/parity/README.md: null when `actual` matches the case, else a
 * description of the first unforgiven difference.
 */
export function parityMismatch(testCase, tieEps, actual) {
  const expected = testCase.expected_ids;
  if (actual.length > testCase.max_new_tokens) {
    return `produced ${actual.length} ids, more than max_new_tokens ${testCase.max_new_tokens}`;
  }
  if (actual.length === expected.length && actual.every((id, i) => id === expected[i])) {
    return null;
  }
  let k = 0;
  while (k < expected.length && k < actual.length && expected[k] === actual[k]) k++;
  const EOS = 1;
  const expectedChoice = k < expected.length ? expected[k] : EOS;
  const actualChoice = k < actual.length ? actual[k] : EOS;
  const where = `step ${k}: expected ${expectedChoice}, got ${actualChoice} (expected [${expected}], got [${actual}])`;
  if (k === actual.length && actual.length === testCase.max_new_tokens) {
    return where + "; stopped by max_new_tokens where the reference continues";
  }
  const margin = testCase.step_margins?.[k];
  if (margin === undefined) return where + "; the case has no margin for this step";
  if (!(margin < tieEps)) return where + `; not a near-tie (margin ${margin})`;
  const tied = testCase.near_ties?.[String(k)] ?? [];
  return tied.includes(actualChoice) ? null : where + `; a near-tie but ${actualChoice} is not among [${tied}]`;
}

export const mb = (bytes) => (bytes / (1024 * 1024)).toFixed(1) + " MiB";

/**
 * Serves the workerd config at configPath (its socket on 127.0.0.1:port) with the workerd binary
 * in tools (node_modules), stopped after test t, and fetches / once it answers (60 s at most):
 * returns that response and workerd's log so far.
 */
export async function workerdAnswer(t, tools, configPath, port) {
  const child = spawn(path.join(tools, ".bin", "workerd"), ["serve", configPath], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  t.after(() => child.kill());
  let response = null;
  const deadline = Date.now() + 60_000;
  while (response === null && Date.now() < deadline && child.exitCode === null) {
    try {
      response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(60_000) });
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  if (response === null) {
    throw new Error("workerd did not answer; its log:\n" + log);
  }
  return { response, log };
}
