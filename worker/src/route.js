// @ts-check
// Routing: one engine run over (query, tools), and the calls of an output, cut short or not.

/**
 * Runs the engine (constrained decoding) and returns the /route answer:
 * { calls, text, complete, timings: { load_ms, encode_ms, decode_ms, prefill_tokens, decode_tokens } }.
 * `calls` is null when the output was cut by the token budget (`complete` false), as the engine
 * says; load_ms is the time this request waited for the model to load (0 once it is loaded).
 */
export function route(engine, query, toolsText, maxNewTokens, waitedMs) {
  const r = engine.runDetailed(query, toolsText, { maxNewTokens });
  return {
    calls: r.calls,
    text: r.text,
    complete: r.complete,
    timings: {
      load_ms: ms(waitedMs),
      encode_ms: ms(r.timings.encodeMs),
      decode_ms: ms(r.timings.decodeMs),
      prefill_tokens: r.timings.prefillTokens,
      decode_tokens: r.timings.decodeTokens,
    },
  };
}

/** Milliseconds to the microsecond. */
const ms = (v) => Math.round(v * 1000) / 1000;

/**
 * The calls of an output: { calls: the complete ones, cut: null or the call the budget cut short
 * as { name (null when the name itself was cut), text } }. A complete output gives its calls; a cut
 * one ('[{"name":"a","arguments":{…}},{"name":"b","argu') gives the calls before the cut.
 */
export function callsOf(result) {
  if (result.complete && Array.isArray(result.calls)) {
    return { calls: result.calls, cut: null };
  }
  const text = result.text;
  const calls = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = text.startsWith("[") ? 1 : text.length; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
    } else if (c === "{" || c === "[") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}" || c === "]") {
      depth--;
      if (depth < 0) break; // the array's own ]
      if (depth === 0 && start >= 0) {
        calls.push(JSON.parse(text.slice(start, i + 1)));
        start = -1;
      }
    }
  }
  if (start < 0) {
    return { calls, cut: null }; // cut between calls (or before the first): nothing half-written
  }
  const rest = text.slice(start);
  const m = /^\{"name":"((?:[^"\\]|\\.)*)"/.exec(rest);
  let name = null;
  if (m !== null) {
    try {
      name = JSON.parse('"' + m[1] + '"');
    } catch {
      name = null;
    }
  }
  return { calls, cut: { name, text: rest } };
}
