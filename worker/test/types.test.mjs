// The Worker's sources are type-checked JavaScript (`// @ts-check`): tsc checks them against the
// Workers runtime's types (@cloudflare/workers-types) and the installed needle-java-wasm's
// index.d.ts, with the settings of tsconfig.json.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { WORKER_DIR } from "./helpers.mjs";

test("every source file is checked, and tsc finds no type error", async () => {
  const sources = fs.readdirSync(path.join(WORKER_DIR, "src")).filter((f) => f.endsWith(".js"));
  for (const f of sources) {
    const first = fs.readFileSync(path.join(WORKER_DIR, "src", f), "utf8").split("\n")[0];
    assert.equal(first, "// @ts-check", `src/${f} starts with // @ts-check`);
  }
  const tsc = path.join(WORKER_DIR, "node_modules", "typescript", "bin", "tsc");
  const run = await promisify(execFile)(process.execPath, [tsc, "-p", path.join(WORKER_DIR, "tsconfig.json"), "--listFilesOnly"],
    { cwd: WORKER_DIR });
  const listed = run.stdout.split("\n").map((l) => path.resolve(l.trim()));
  for (const f of sources) {
    assert.ok(listed.includes(path.join(WORKER_DIR, "src", f)), `tsc checks src/${f}`);
  }
  assert.ok(listed.some((l) => l.endsWith(path.join("needle-java-wasm", "index.d.ts"))), "the package's types are read");
  assert.ok(listed.some((l) => l.includes(path.join("@cloudflare", "workers-types"))), "the Workers types are read");
  await promisify(execFile)(process.execPath, [tsc, "-p", path.join(WORKER_DIR, "tsconfig.json")], { cwd: WORKER_DIR })
    .catch((e) => assert.fail("tsc found type errors:\n" + e.stdout + e.stderr));
});
