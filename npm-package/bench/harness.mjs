// What the kernel benchmarks (fma-peak.mjs, int4-tiles.mjs, simd-ab.mjs) share: their command
// line options, assembling .wat text with wabt (npm-package's devDependency), medians, and the
// whole-engine A/B set-up: a copy of the built package with other SIMD kernels, both packages
// imported in this process, and the JVM's `needle bench --json --save` for the model and its
// one-thread figures.
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const wabt = await createRequire(path.join(here, "..", "package.json"))("wabt")();

/** The value after `--name` in args, or dflt. */
export function option(args, name, dflt) {
  const i = args.indexOf("--" + name);
  return i >= 0 ? args[i + 1] : dflt;
}

/** A module's bytes from its .wat text (SIMD; relaxed SIMD too when asked). */
export function assemble(name, text, { relaxed = false } = {}) {
  const m = wabt.parseWat(name, text, relaxed ? { simd: true, relaxed_simd: true } : { simd: true });
  try {
    m.validate();
    return Buffer.from(m.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    m.destroy();
  }
}

export function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * A copy of the built package `pkg` in dir/name whose needle-simd.wasm is `wasm` (the bytes are
 * embedded in simd-bytes.js as base64); fails when the package does not hold them that way.
 */
export function packageWithKernels(pkg, dir, name, wasm, who) {
  const copy = path.join(dir, name);
  fs.cpSync(pkg, copy, { recursive: true });
  const simdJs = path.join(copy, "simd-bytes.js");
  const before = fs.readFileSync(simdJs, "utf8");
  if (!/export default "[^"]*"/.test(before)) {
    throw new Error(who + ": " + simdJs + " does not hold the kernels as export default \"base64\"");
  }
  const after = before.replace(/export default "[^"]*"/, `export default "${wasm.toString("base64")}"`);
  if (after === before) {
    throw new Error(who + ": the kernels given are the package's own (nothing to compare)");
  }
  fs.writeFileSync(simdJs, after);
  return copy;
}

/** Imports and initializes each [name, package dir]; their NeedleWasm classes by name. */
export async function importPackages(pairs) {
  const engines = {};
  for (const [name, dir] of pairs) {
    const mod = await import(pathToFileURL(path.join(dir, "index.js")).href);
    await mod.default();
    engines[name] = mod.NeedleWasm;
  }
  return engines;
}

/**
 * Runs workload w of `needle bench --json` (its request, decode steps, eos ignored) on each engine
 * class of `names`, a fresh engine per run, their order alternating run by run (3 warm-up rounds,
 * then `runs`); per name the medians of encode ms and of ms per decode step, and the tokens.
 * Fails when an engine does not use the SIMD kernels.
 */
export function alternateRuns(engines, names, w, weights, vocab, runs, who) {
  const m = Object.fromEntries(names.map((name) => [name, { enc: [], step: [], tokens: null }]));
  for (let i = -3; i < runs; i++) {
    for (const name of i % 2 ? names : [...names].reverse()) {
      const engine = engines[name].load(weights, vocab);
      const r = engine.runDetailed(w.query, w.tools, { maxNewTokens: w.decode_steps, constrain: true, ignoreEos: true });
      if (!engine.simd) throw new Error(who + ": the SIMD kernels are not in use (" + name + ")");
      engine.free();
      m[name].tokens = r.tokens;
      if (i >= 0) {
        m[name].enc.push(r.timings.encodeMs);
        m[name].step.push(r.timings.decodeMs / r.timings.decodeTokens);
      }
    }
  }
  return Object.fromEntries(names.map((name) => [name,
    { encode_ms: median(m[name].enc), step_ms: median(m[name].step), tokens: m[name].tokens }]));
}

/**
 * The JVM's one-thread Vector API figures (`needle bench --json`) with the full-size model it
 * saves in dir (bench.safetensors, vocab.txt), and that model's bytes and vocabulary.
 */
export function jvmBenchModel(jar, dir, runs) {
  const jvm = JSON.parse(execFileSync("java", ["--add-modules", "jdk.incubator.vector", "-jar", jar, "bench", "--json", "--save", dir,
    "--kernels", "vector", "--threads", "1", "--runs", String(runs), "--warmup", "3"],
  { encoding: "utf8", maxBuffer: 1 << 24, stdio: ["ignore", "pipe", "ignore"] }));
  const weights = new Uint8Array(fs.readFileSync(path.join(dir, "bench.safetensors")));
  const vocab = fs.readFileSync(path.join(dir, "vocab.txt"), "utf8");
  return { jvm, weights, vocab };
}
