// The root README's "OpenAI SDK users: five lines" run as written, with the official `openai`
// client, against `needle serve` on 127.0.0.1: only the base URL is changed (the README's
// http://127.0.0.1:8080/v1 to the port the server got). Its printed tool calls must be the JVM
// engine's answer to the same query and tools (`needle run --jsonl`), so the example stays true.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { answerOf } from "../src/openai.js";
import { jvmRun, model, startNeedleServe, WORK } from "./helpers.mjs";

const MODEL = model("drelu-gqa-contrastive");
const README = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "README.md");
const README_BASE_URL = "http://127.0.0.1:8080/v1";

/** The ```js block under the README heading `title`. */
function snippet(title) {
  const text = fs.readFileSync(README, "utf8");
  const at = text.indexOf("\n## " + title + "\n");
  assert.ok(at >= 0, `README.md has no section "${title}"`);
  const block = /```js\n([\s\S]*?)```/.exec(text.slice(at));
  assert.ok(block, `README.md's "${title}" has no js block`);
  return block[1];
}

let serve;
before(async () => {
  serve = await startNeedleServe(MODEL);
});
after(async () => {
  await serve?.stop();
});

test("README: the OpenAI SDK example, five lines, prints the JVM engine's tool calls", async () => {
  const code = snippet("OpenAI SDK users: five lines");
  assert.equal(code.trimEnd().split("\n").length, 5, "five lines:\n" + code);
  assert.equal(code.split(README_BASE_URL).length, 2, "the example names " + README_BASE_URL + " once");
  assert.match(code, /new OpenAI\(\{ baseURL: .*apiKey: /);
  assert.match(code, /chat\.completions\.create\(\{ model: "needle", messages: .*tools \}\)/);

  // the example as a module under worker/ (so that `openai` resolves to the Worker's test tools),
  // then one added line that reports what it used and got
  const dir = fs.mkdtempSync(path.join(WORK, "readme-example-"));
  const file = path.join(dir, "example.mjs");
  fs.writeFileSync(file, code.replace(README_BASE_URL, serve.baseURL)
    + 'process.stdout.write("\\n@@" + JSON.stringify({ tools, choice: r.choices[0] }) + "\\n");\n');
  let stdout;
  try {
    ({ stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 120_000 }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const [printed, report] = stdout.split("\n@@");
  const { tools, choice } = JSON.parse(report);
  const query = /content: "([^"]+)"/.exec(code)[1];
  assert.equal(query, "What's the weather in Paris?");

  const [want] = jvmRun(MODEL, [{ query, tools: JSON.stringify(tools) }]);
  const expected = answerOf(want, { parallelToolCalls: true });
  assert.deepEqual(
    (choice.message.tool_calls ?? []).map((c) => ({ name: c.function.name, arguments: c.function.arguments })),
    expected.calls.map((c) => ({ name: c.name, arguments: c.arguments })), "the tool calls: " + JSON.stringify(choice));
  assert.equal(choice.message.content, expected.content);
  assert.equal(choice.finish_reason, expected.finishReason);
  // what the example's console.log printed: the tool calls (undefined when the model calls none)
  if (expected.calls.length > 0) {
    for (const c of choice.message.tool_calls) {
      assert.ok(printed.includes(c.id) && printed.includes("get_weather"), "printed: " + printed);
    }
  } else {
    assert.equal(printed.trim(), "undefined");
  }
});
