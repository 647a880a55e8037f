// Register tiles for the encoder's INT4 kernel ($groupRows of simd/needle-simd.wat): which tiling
// of independent output values runs fastest on this host's Wasm, with the very same floats?
//
// Each variant is a generated $groupRows (and, for the "blocked" scratch layout, a generated
// $unpack) put into the shipped module's text in place of the shipped functions; the rest of the
// module is unchanged. Every output value keeps its f32 operations and their order (acc += u*l +
// v*h per row pair, in row order, then y += acc*scale per group): only which outputs are computed
// side by side changes. Parameters:
//   R       input rows per tile (accumulators R x Q)
//   Q       column quads per tile (f32x4 each: 4, 8 or 16 columns)
//   U       row pairs per pass of the inner loop (1 or 2)
//   layout  "rows": the unpacked group as float rows [n][out] (the shipped layout; the next pair
//           is 2*out*4 bytes on); "blocked": blocks of 16 columns, each holding its n rows one after
//           the other (64 bytes a row), so every weight of a pass is a constant offset from one pointer
//   order   "regs": a row's two splats loaded once per pair and kept (2R registers);
//           "inline": the splats loaded where used (one load per use, no registers held);
//           "rowouter": a row's two splats kept, the weights loaded where used (no l/h registers);
//           "vinline": u kept, v loaded where used; "lfirst": per quad, every row's u*l first, then
//           each row's v*h with h loaded where used (l and h never live together)
// short  "peel" (default): the short last row pair (x[in] = 0) after the loop; "if": asked in
//           every pass, as the shipped kernel does (U must be 1)
// The tail paths (the last rows in smaller tiles, a short last row pair with x[in] = 0, an odd
// group) are generated too. Every variant is first checked bit for bit against the shipped kernel
// on awkward shapes, then timed: medians of alternating timings of the whole int4 export on the
// encoder's shapes (rows x 512 x 512 and rows x 512 x 256, the K/V projections with 4 KV heads).
//
// Usage: node npm-package/bench/int4-tiles.mjs [--variants R,Q,U,layout,order;...] [--reps 21]
//          [--shipped FILE.wat] [--json FILE]
//        node npm-package/bench/int4-tiles.mjs --engine --shipped OLD.wat [--package npm-package/target/package]
//          [--jar cli/target/needle-cli.jar] [--runs 9] [--json FILE]
//   --engine: the whole engine, the package as built against a copy of it with OLD.wat's kernels
//   (same process, alternating), and the JVM's one-thread Vector figures (engineAB below)
//   (wabt from npm-package/node_modules: node-support/npm-ci-once.sh npm-package)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import { assemble, option, median, packageWithKernels, importPackages, jvmBenchModel, alternateRuns } from "./harness.mjs";

// the optimizing tier from the first call: V8 starts a Wasm function in its baseline compiler
// (Liftoff) and swaps in TurboFan's code only for later calls, so a few warm-up calls may still
// time baseline code (the engine calls its kernels thousands of times: TurboFan's code is what counts)
v8.setFlagsFromString("--no-liftoff");

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => option(args, name, dflt);
const shippedFile = path.resolve(opt("shipped", path.join(here, "..", "simd", "needle-simd.wat")));
const shipped = fs.readFileSync(shippedFile, "utf8");
const reps = Number(opt("reps", "21"));

/** [start, end) of the s-expression that starts at `from` in text. */
function sexpr(text, from) {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    if (text[i] === ";" && text[i + 1] === ";") {
      i = text.indexOf("\n", i);
      continue;
    }
    if (text[i] === "(") depth++;
    else if (text[i] === ")" && --depth === 0) return [from, i + 1];
  }
  throw new Error("int4-tiles: unbalanced parentheses");
}

/** text with the function `name` replaced by `func`. */
function replaceFunc(text, name, func) {
  const at = text.indexOf(`(func ${name}\n`) >= 0 ? text.indexOf(`(func ${name}\n`) : text.indexOf(`(func ${name} `);
  if (at < 0) throw new Error(`int4-tiles: ${name} not found`);
  const [s, e] = sexpr(text, at);
  return text.slice(0, s) + func + text.slice(e);
}

const zero = "(v128.const i32x4 0 0 0 0)";
const get = (n) => `(local.get ${n})`;

/** $unpack writing the blocked layout: row k of column block b at dst + (b*nPad + k)*64. */
function unpackBlocked() {
  return `(func $unpack (param $wp i32) (param $dst i32) (param $n i32) (param $out i32)
    (local $k i32) (local $c i32) (local $b v128) (local $lo v128) (local $hi v128)
    (local $l16 v128) (local $h16 v128) (local $dl i32) (local $block i32) (local $m15 v128) (local $m8 v128)
    (local.set $m15 (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $m8 (v128.const i8x16 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8))
    ;; a column block's bytes: n rounded up to even rows of 64 bytes
    (local.set $block (i32.shl (i32.and (i32.add (local.get $n) (i32.const 1)) (i32.const -2)) (i32.const 6)))
    (block $kdone
      (loop $pairs
        (br_if $kdone (i32.ge_s (local.get $k) (local.get $n)))
        (local.set $dl (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 6))))
        (local.set $c (i32.const 0))
        (block $cdone
          (loop $cols
            (br_if $cdone (i32.ge_s (local.get $c) (local.get $out)))
            (local.set $b (v128.load (i32.add (local.get $wp) (local.get $c))))
            (local.set $lo (call $lowNibbles (local.get $b) (local.get $m15) (local.get $m8)))
            (local.set $hi (call $highNibbles (local.get $b) (local.get $m15) (local.get $m8)))
            (local.set $l16 (i16x8.extend_low_i8x16_s (local.get $lo)))
            (local.set $h16 (i16x8.extend_low_i8x16_s (local.get $hi)))
            (v128.store offset=0 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $l16))))
            (v128.store offset=16 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $l16))))
            (v128.store offset=64 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h16))))
            (v128.store offset=80 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h16))))
            (local.set $l16 (i16x8.extend_high_i8x16_s (local.get $lo)))
            (local.set $h16 (i16x8.extend_high_i8x16_s (local.get $hi)))
            (v128.store offset=32 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $l16))))
            (v128.store offset=48 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $l16))))
            (v128.store offset=96 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h16))))
            (v128.store offset=112 (local.get $dl) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h16))))
            (local.set $dl (i32.add (local.get $dl) (local.get $block)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cols)))
        (local.set $wp (i32.add (local.get $wp) (local.get $out)))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $pairs))))`;
}

/** A generated $groupRows: tiles of R rows x Q quads, then smaller row tiles for the last rows. */
function groupRows({ R, Q, U, layout, order, short }) {
  const inLoop = short === "if";
  const tiles = [R, ...[4, 2, 1].filter((r) => r < R)];
  const L = [];
  const locals = ["$c i32", "$t i32", "$k i32", "$rowBytes i32", "$inBytes i32", "$wl i32", "$yp i32", "$nf i32", "$block i32",
    "$l v128", "$h v128"];
  for (let i = 0; i < R; i++) locals.push(`$x${i} i32`, `$u${i} v128`, `$v${i} v128`, `$p${i} v128`);
  for (let j = 0; j < Q; j++) locals.push(`$s${j} v128`);
  for (let i = 0; i < R; i++) for (let j = 0; j < Q; j++) locals.push(`$a${i}${j} v128`);
  const wOff = (p, j, high) => layout === "blocked" ? p * 128 + (high ? 64 : 0) + 16 * j : 16 * j; // + rowBytes for high, rows layout
  const wAddr = (p, high) => {
    if (layout === "blocked") return get("$wl");
    // rows layout: pair p of the pass at wl + 2p*rowBytes, its high row one rowBytes further
    const k = 2 * p + (high ? 1 : 0);
    if (k === 0) return get("$wl");
    if (k === 1) return `(i32.add ${get("$wl")} ${get("$rowBytes")})`;
    return `(i32.add ${get("$wl")} (i32.mul ${get("$rowBytes")} (i32.const ${k})))`;
  };
  const wLoad = (p, j, high) => `(v128.load offset=${wOff(p, j, high)} ${wAddr(p, high)})`;
  const uLoad = (i, p) => `(v128.load32_splat offset=${8 * p} ${get(`$x${i}`)})`;
  const vLoad = (i, p, short) => short ? zero : `(v128.load32_splat offset=${8 * p + 4} ${get(`$x${i}`)})`;
  const upd = (i, j, u, l, v, h) =>
    `(local.set $a${i}${j} (f32x4.add ${get(`$a${i}${j}`)} (f32x4.add (f32x4.mul ${u} ${l}) (f32x4.mul ${v} ${h}))))`;
  /** One row pair (pass offset p) for r rows; short: v = 0 (x[in] counts as 0). */
  const pair = (r, p, short) => {
    const out = [];
    if (order === "regs") {
      for (let i = 0; i < r; i++) {
        out.push(`(local.set $u${i} ${uLoad(i, p)})`, `(local.set $v${i} ${vLoad(i, p, short)})`);
      }
      for (let j = 0; j < Q; j++) {
        out.push(`(local.set $l ${wLoad(p, j, false)})`, `(local.set $h ${wLoad(p, j, true)})`);
        for (let i = 0; i < r; i++) out.push(upd(i, j, get(`$u${i}`), get("$l"), get(`$v${i}`), get("$h")));
      }
    } else if (order === "inline") {
      for (let j = 0; j < Q; j++) {
        out.push(`(local.set $l ${wLoad(p, j, false)})`, `(local.set $h ${wLoad(p, j, true)})`);
        for (let i = 0; i < r; i++) out.push(upd(i, j, uLoad(i, p), get("$l"), vLoad(i, p, short), get("$h")));
      }
    } else if (order === "vinline") {
      for (let i = 0; i < r; i++) out.push(`(local.set $u${i} ${uLoad(i, p)})`);
      for (let j = 0; j < Q; j++) {
        out.push(`(local.set $l ${wLoad(p, j, false)})`, `(local.set $h ${wLoad(p, j, true)})`);
        for (let i = 0; i < r; i++) out.push(upd(i, j, get(`$u${i}`), get("$l"), vLoad(i, p, short), get("$h")));
      }
    } else if (order === "lfirst") {
      // per quad: the low row's products of every row first (l then dies), then each row's sum
      // with its high-row product (h loaded again per row): fewer registers live at once
      for (let i = 0; i < r; i++) {
        out.push(`(local.set $u${i} ${uLoad(i, p)})`, `(local.set $v${i} ${vLoad(i, p, short)})`);
      }
      for (let j = 0; j < Q; j++) {
        out.push(`(local.set $l ${wLoad(p, j, false)})`);
        for (let i = 0; i < r; i++) out.push(`(local.set $p${i} (f32x4.mul ${get(`$u${i}`)} ${get("$l")}))`);
        for (let i = 0; i < r; i++) {
          out.push(`(local.set $a${i}${j} (f32x4.add ${get(`$a${i}${j}`)} (f32x4.add ${get(`$p${i}`)} (f32x4.mul ${get(`$v${i}`)} ${wLoad(p, j, true)}))))`);
        }
      }
    } else { // rowouter
      for (let i = 0; i < r; i++) {
        out.push(`(local.set $u${i} ${uLoad(i, p)})`, `(local.set $v${i} ${vLoad(i, p, short)})`);
        for (let j = 0; j < Q; j++) out.push(upd(i, j, get(`$u${i}`), wLoad(p, j, false), get(`$v${i}`), wLoad(p, j, true)));
      }
    }
    return out;
  };
  const advance = (r, pairs) => {
    const out = [];
    for (let i = 0; i < r; i++) out.push(`(local.set $x${i} (i32.add ${get(`$x${i}`)} (i32.const ${8 * pairs})))`);
    out.push(layout === "blocked"
      ? `(local.set $wl (i32.add ${get("$wl")} (i32.const ${128 * pairs})))`
      : `(local.set $wl (i32.add ${get("$wl")} (i32.mul ${get("$rowBytes")} (i32.const ${2 * pairs}))))`);
    out.push(`(local.set $k (i32.add ${get("$k")} (i32.const ${2 * pairs})))`);
    return out;
  };
  const tile = (r) => {
    const name = `t${r}`;
    const body = [];
    body.push(`(block $${name}done (loop $${name}`);
    body.push(`(br_if $${name}done (i32.gt_s (i32.add ${get("$t")} (i32.const ${r})) ${get("$rows")}))`);
    for (let i = 0; i < r; i++) for (let j = 0; j < Q; j++) body.push(`(local.set $a${i}${j} ${zero})`);
    body.push(`(local.set $x0 (i32.add ${get("$xp")} (i32.mul ${get("$t")} ${get("$inBytes")})))`);
    for (let i = 1; i < r; i++) body.push(`(local.set $x${i} (i32.add ${get(`$x${i - 1}`)} ${get("$inBytes")}))`);
    body.push(layout === "blocked"
      ? `(local.set $wl (i32.add ${get("$ws")} (i32.add (i32.mul (i32.shr_u ${get("$c")} (i32.const 4)) ${get("$block")}) (i32.shl (i32.and ${get("$c")} (i32.const 15)) (i32.const 2)))))`
      : `(local.set $wl (i32.add ${get("$ws")} (i32.shl ${get("$c")} (i32.const 2))))`);
    body.push(`(local.set $k (i32.const 0))`);
    if (U === 2) {
      body.push(`(block $${name}d2 (loop $${name}p2`);
      body.push(`(br_if $${name}d2 (i32.ge_s (i32.add ${get("$k")} (i32.const 2)) ${get("$nf")}))`);
      body.push(...pair(r, 0, false), ...pair(r, 1, false), ...advance(r, 2));
      body.push(`(br $${name}p2)))`);
    }
    if (inLoop) {
      // the shipped form: every pass asks whether its high row is past the layer's last row
      body.push(`(block $${name}d1 (loop $${name}p1`);
      body.push(`(br_if $${name}d1 (i32.ge_s ${get("$k")} ${get("$n")}))`);
      const step = pair(r, 0, false);
      const zeroV = [];
      for (let i = 0; i < r; i++) zeroV.push(`(local.set $v${i} ${zero})`);
      const at = step.findIndex((s) => !s.startsWith("(local.set $u") && !s.startsWith("(local.set $v"));
      step.splice(at, 0, `(if (i32.ge_s (i32.add ${get("$k")} (i32.const 1)) ${get("$left")}) (then ${zeroV.join(" ")}))`);
      body.push(...step, ...advance(r, 1));
      body.push(`(br $${name}p1)))`);
    } else {
      body.push(`(block $${name}d1 (loop $${name}p1`);
      body.push(`(br_if $${name}d1 (i32.ge_s ${get("$k")} ${get("$nf")}))`);
      body.push(...pair(r, 0, false), ...advance(r, 1));
      body.push(`(br $${name}p1)))`);
      // the short pair: the group's odd last row is the layer's last row, x[in] counts as 0
      body.push(`(if (i32.lt_s ${get("$k")} ${get("$n")}) (then`);
      body.push(...pair(r, 0, true));
      body.push(`))`);
    }
    for (let i = 0; i < r; i++) {
      body.push(i === 0
        ? `(local.set $yp (i32.add ${get("$y")} (i32.shl (i32.add (i32.mul ${get("$t")} ${get("$out")}) ${get("$c")}) (i32.const 2))))`
        : `(local.set $yp (i32.add ${get("$yp")} ${get("$rowBytes")}))`);
      for (let j = 0; j < Q; j++) {
        body.push(`(v128.store offset=${16 * j} ${get("$yp")} (f32x4.add (v128.load offset=${16 * j} ${get("$yp")}) (f32x4.mul ${get(`$a${i}${j}`)} ${get(`$s${j}`)})))`);
      }
    }
    body.push(`(local.set $t (i32.add ${get("$t")} (i32.const ${r})))`);
    body.push(`(br $${name})))`);
    return body;
  };
  L.push(`(func $groupRows
    (param $xp i32) (param $y i32) (param $ws i32) (param $scp i32)
    (param $rows i32) (param $n i32) (param $left i32) (param $in i32) (param $out i32)
    ${locals.map((l) => `(local ${l})`).join(" ")}`);
  L.push(`(local.set $rowBytes (i32.shl ${get("$out")} (i32.const 2)))`);
  L.push(`(local.set $inBytes (i32.shl ${get("$in")} (i32.const 2)))`);
  L.push(`(local.set $block (i32.shl (i32.and (i32.add ${get("$n")} (i32.const 1)) (i32.const -2)) (i32.const 6)))`);
  // nf: the rows of the full pairs; the last pair is short when its odd row is the layer's last
  L.push(`(local.set $nf ${get("$n")})`);
  L.push(`(if (i32.and (i32.eq ${get("$n")} ${get("$left")}) (i32.and ${get("$n")} (i32.const 1))) (then (local.set $nf (i32.sub ${get("$n")} (i32.const 1)))))`);
  L.push(`(block $cdone (loop $cols`);
  L.push(`(br_if $cdone (i32.ge_s ${get("$c")} ${get("$out")}))`);
  for (let j = 0; j < Q; j++) {
    L.push(`(local.set $s${j} (v128.load offset=${16 * j} (i32.add ${get("$scp")} (i32.shl ${get("$c")} (i32.const 2)))))`);
  }
  L.push(`(local.set $t (i32.const 0))`);
  for (const r of tiles) L.push(...tile(r));
  L.push(`(local.set $c (i32.add ${get("$c")} (i32.const ${4 * Q})))`);
  L.push(`(br $cols))))`);
  return L.join("\n    ");
}

/** The module text of a variant. */
export function variantWat(v, base = shipped) {
  let text = replaceFunc(base, "$groupRows", groupRows(v));
  if (v.layout === "blocked") text = replaceFunc(text, "$unpack", unpackBlocked());
  return text;
}

/**
 * The whole engine, A/B in one process: the npm package as built (--package, its kernels from the
 * current simd/needle-simd.wat) against a copy of it whose needle-simd.wasm is compiled from
 * --shipped (an older needle-simd.wat), and the JVM's one-thread Vector figures on the same model
 * and requests (`needle bench --save`, --jar). Medians of --runs alternating runs (after 3 each);
 * whether both packages and the JVM decode the same tokens.
 */
async function engineAB() {
  const repo = path.resolve(here, "..", "..");
  const pkg = path.resolve(opt("package", path.join(repo, "npm-package", "target", "package")));
  const jar = path.resolve(opt("jar", path.join(repo, "cli", "target", "needle-cli.jar")));
  const runs = Number(opt("runs", "9"));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "int4-tiles-"));
  try {
    const oldPkg = packageWithKernels(pkg, tmp, "package", assemble("old.wat", shipped), "int4-tiles");
    const engines = await importPackages([["old", oldPkg], ["new", pkg]]);
    const dir = path.join(tmp, "model");
    const { jvm, weights, vocab } = jvmBenchModel(jar, dir, runs);
    const result = { load_before: os.loadavg(), jvm: jvm.java, workloads: [] };
    console.log(`whole engine: ${pkg} (new kernels) and its copy with ${shippedFile} (old); medians of ${runs} alternating runs; `
      + `JVM ${jvm.java}, Vector kernels, one thread, same model; load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    for (const w of jvm.workloads) {
      const m = alternateRuns(engines, ["old", "new"], w, weights, vocab, runs, "int4-tiles");
      const same = m.old.tokens.length === m.new.tokens.length && m.old.tokens.every((t, k) => t === m.new.tokens[k]);
      const jvmSame = Array.isArray(w.tokens) ? w.tokens.length === m.new.tokens.length && w.tokens.every((t, k) => t === m.new.tokens[k]) : null;
      const row = { name: w.name, jvm_encode_ms: w.encode_ms, jvm_step_ms: w.decode_ms / w.decode_steps, same_tokens: same, jvm_tokens: jvmSame };
      for (const name of ["old", "new"]) row[name] = { encode_ms: m[name].encode_ms, step_ms: m[name].step_ms };
      result.workloads.push(row);
      console.log(`  ${w.name}: encode JVM ${row.jvm_encode_ms.toFixed(1)} ms, old ${row.old.encode_ms.toFixed(1)} (${(row.old.encode_ms / row.jvm_encode_ms).toFixed(2)}x JVM), `
        + `new ${row.new.encode_ms.toFixed(1)} (${(row.new.encode_ms / row.jvm_encode_ms).toFixed(2)}x JVM): ${(row.old.encode_ms / row.new.encode_ms).toFixed(2)}x faster; `
        + `step JVM ${row.jvm_step_ms.toFixed(3)} ms, old ${row.old.step_ms.toFixed(3)}, new ${row.new.step_ms.toFixed(3)} (${(row.new.step_ms / row.jvm_step_ms).toFixed(2)}x JVM); `
        + `same tokens old/new: ${same}` + (jvmSame === null ? "" : `, as the JVM: ${jvmSame}`));
    }
    result.load_after = os.loadavg();
    console.log(`  load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    return result;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain && args.includes("--engine")) {
  const result = await engineAB();
  const jsonOut = opt("json", null);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(result, null, 1));
} else if (isMain) {
  const spec = opt("variants", "2,4,1,rows,regs;2,4,1,blocked,regs;2,4,2,blocked,regs;3,4,1,blocked,inline;4,2,1,blocked,regs;4,2,2,blocked,regs;5,2,1,blocked,rowouter;6,2,1,blocked,inline;3,4,2,blocked,rowouter;4,4,1,blocked,rowouter");
  const variants = spec.split(";").filter((s) => s).map((s) => {
    const [R, Q, U, layout, order, short = "peel"] = s.split(",");
    return { R: Number(R), Q: Number(Q), U: Number(U), layout, order, short, name: s };
  });
  const memory = new WebAssembly.Memory({ initial: 128 });
  const inst = (text, name) => new WebAssembly.Instance(new WebAssembly.Module(assemble(name, text)), { env: { memory } }).exports.int4;
  const kernels = { shipped: inst(shipped, "shipped.wat") };
  // with --shipped OTHER.wat (e.g. an older needle-simd.wat from git), the current file is timed too
  const current = path.join(here, "..", "simd", "needle-simd.wat");
  if (shippedFile !== path.resolve(current)) kernels["needle-simd.wat"] = inst(fs.readFileSync(current, "utf8"), "current.wat");
  for (const v of variants) kernels[v.name] = inst(variantWat(v), v.name + ".wat");
  const f = new Float32Array(memory.buffer), u8 = new Uint8Array(memory.buffer), u32 = new Uint32Array(memory.buffer);
  let seed = 1;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  /** Lays out one shape at 0.. in memory; returns the int4 arguments. */
  const setup = (rows, IN, OUT, G) => {
    const groups = Math.ceil(IN / G), inPad = groups * G;
    const X = 1024, Y = X + rows * IN * 4 + 64, W = Y + rows * OUT * 4 + 64, SC = W + ((inPad + 1) >> 1) * OUT + 64;
    const S = SC + groups * OUT * 4 + 64;
    for (let i = 0; i < rows * IN; i++) f[X / 4 + i] = (rnd() - 0.5) * 4;
    for (let i = 0; i < ((inPad + 1) >> 1) * OUT; i++) u8[W + i] = (rnd() * 256) | 0;
    for (let i = 0; i < groups * OUT; i++) f[SC / 4 + i] = (rnd() - 0.5) * 0.1;
    return { args: [X, Y, W, SC, rows, IN, OUT, G, S], Y, n: rows * OUT };
  };
  // 1. the same bits as the shipped kernel (which simd.test.mjs checks against the Java arithmetic)
  const shapes = [];
  for (const rows of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 62, 192]) shapes.push([rows, 512, 64, 32]);
  for (const [IN, OUT, G] of [[75, 32, 32], [17, 16, 17], [45, 32, 8], [2048, 48, 32]]) shapes.push([1, IN, OUT, G]);
  for (const [rows, IN, OUT, G] of [[5, 48, 48, 32], [9, 75, 128, 32], [7, 75, 32, 32], [2, 17, 48, 17], [7, 17, 32, 17], [6, 17, 16, 17],
    [3, 45, 16, 8], [11, 45, 32, 8], [5, 2048, 16, 32], [4, 1, 16, 1], [3, 3, 16, 3]]) shapes.push([rows, IN, OUT, G]);
  for (const [rows, IN, OUT, G] of shapes) {
    const s = setup(rows, IN, OUT, G);
    u32.fill(0x7fc00001, s.Y / 4, s.Y / 4 + s.n);
    kernels.shipped(...s.args);
    const want = u32.slice(s.Y / 4, s.Y / 4 + s.n);
    for (const v of [...variants, ...(kernels["needle-simd.wat"] ? [{ name: "needle-simd.wat" }] : [])]) {
      u32.fill(0x7fc00001, s.Y / 4, s.Y / 4 + s.n);
      kernels[v.name](...s.args);
      const got = u32.subarray(s.Y / 4, s.Y / 4 + s.n);
      for (let i = 0; i < s.n; i++) {
        if (got[i] !== want[i]) throw new Error(`int4-tiles: ${v.name} differs from the shipped kernel at ${rows}x${IN}x${OUT} group ${G}, output ${i}`);
      }
    }
  }
  console.log(`Node ${process.version}, ${os.cpus()[0].model}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`all ${Object.keys(kernels).length - 1} variants give the baseline's bits on ${shapes.length} shapes`);
  // 2. rates
  const result = { node: process.version, load_before: os.loadavg(), shapes: [] };
  for (const [rows, IN, OUT] of [[1, 512, 512], [62, 512, 512], [192, 512, 512], [192, 512, 256]]) {
    const s = setup(rows, IN, OUT, 32);
    const calls = rows === 1 ? 60 : 3; // (one row: $groupRow, the decoder's kernel)
    const gflop = (rows * IN * OUT * 2) / 1e9;
    const times = Object.fromEntries(Object.keys(kernels).map((k) => [k, []]));
    for (let rep = -3; rep < reps; rep++) {
      for (const [name, int4] of Object.entries(kernels)) {
        const t0 = performance.now();
        for (let k = 0; k < calls; k++) int4(...s.args);
        if (rep >= 0) times[name].push((performance.now() - t0) / calls);
      }
    }
    const base = median(times.shipped);
    const row = { rows, in: IN, out: OUT, kernels: {} };
    console.log(`${rows}x${IN}x${OUT}, medians of ${reps} alternating timings:`);
    for (const name of Object.keys(kernels)) {
      const ms = median(times[name]);
      row.kernels[name] = { ms, gflops: (gflop / ms) * 1000, speedup: base / ms };
      const best = Math.min(...times[name]);
      row.kernels[name].best_ms = best;
      console.log(`  ${name.padEnd(24)} ${ms.toFixed(3)} ms  ${((gflop / ms) * 1000).toFixed(1).padStart(5)} GFLOP/s  ${(base / ms).toFixed(2)}x`
        + `   (best ${((gflop / best) * 1000).toFixed(1)} GFLOP/s)`);
    }
    result.shapes.push(row);
  }
  result.load_after = os.loadavg();
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  const jsonOut = opt("json", null);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(result, null, 1));
}
