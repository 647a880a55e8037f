// index.d.ts against a TypeScript program that uses it (types-usage.ts): tsc --noEmit finds no
// error in either (the `@ts-expect-error` lines must be errors), and the program uses every export
// of the declarations, types included, outside its import lines. TypeScript is a devDependency of
// the package (NEEDLE_TEST_TOOLS: its node_modules); it reads the installed needle-java-wasm.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { TEST_DIR } from "./helpers.mjs";

const tools = process.env.NEEDLE_TEST_TOOLS;
assert.ok(tools, "NEEDLE_TEST_TOOLS names the package's node_modules (scripts/node-tests.sh sets it)");
const config = path.join(TEST_DIR, "tsconfig.json");

test("tsc --noEmit: index.d.ts and its usage type-check", async () => {
  const tsc = path.join(tools, "typescript", "bin", "tsc");
  await promisify(execFile)(process.execPath, [tsc, "--noEmit", "-p", config], { cwd: TEST_DIR })
    .catch((e) => assert.fail("tsc found type errors:\n" + e.stdout + e.stderr));
});

test("the usage file uses every export of index.d.ts", () => {
  const ts = createRequire(path.join(tools, "typescript", "package.json"))("typescript");
  const parsed = ts.getParsedCommandLineOfConfigFile(config, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const checker = program.getTypeChecker();
  const usage = program.getSourceFile(path.join(TEST_DIR, "types-usage.ts"));
  const firstImport = usage.statements.find(ts.isImportDeclaration);
  assert.equal(firstImport.moduleSpecifier.text, "needle-java-wasm");
  const module = checker.getSymbolAtLocation(firstImport.moduleSpecifier);
  assert.ok(module, "needle-java-wasm resolves to its declarations");
  assert.match(module.valueDeclaration.getSourceFile().fileName, /needle-java-wasm[\\/]index\.d\.ts$/);
  const exported = checker.getExportsOfModule(module);
  assert.ok(exported.length > 30, "the declarations' exports: " + exported.map((s) => s.name));

  const used = new Set();
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      return; // naming an export in an import line does not use it
    }
    if (ts.isIdentifier(node)) {
      let symbol = checker.getSymbolAtLocation(node);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) {
        symbol = checker.getAliasedSymbol(symbol);
      }
      if (symbol) used.add(symbol);
    }
    ts.forEachChild(node, visit);
  };
  visit(usage);
  const unused = exported.filter((s) => !used.has(s)).map((s) => (s.name === "default" ? "default (init)" : s.name));
  assert.deepEqual(unused, [], "exports of index.d.ts that types-usage.ts does not use");
});
