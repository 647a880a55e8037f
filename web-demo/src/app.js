// The demo page: model URLs and download progress, the tool list editor, the query, and the output
// of the engine, which runs in worker.js (a Web Worker) so that the page stays responsive.
//
// URL parameters: weights, vocab (the model files; default: the package's Hugging Face URLs),
// preset (weather, flights, lights, messages, routing), query, autoload=0 (do not load at once).
// <body data-state> is starting | loading | ready | running | error; <body data-runs> counts the
// runs started.
import init, { isInitialized } from "./needle-java-wasm/index.js";
import { PRESETS, checkTools, preset, presetText } from "./tools.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const FILE_LABELS = { weights: "weights", vocab: "vocabulary" };

let worker = null;
let defaults = null; // the worker's hello: the package's default URLs, version
let reloadAfterRestart = false;
let stopped = false; // a run was stopped: the engine restarts
let model = null; // the worker's "loaded" message
let files = {}; // download progress per file
let current = null; // the run in progress (or the last one)
let runs = 0;
let state = "starting";
let retrievalId = 0;
// the tool list check is the engine's (tools.js): needle.wasm on this page too, with no model
const toolCheckReady = init();
let toolCheckFailure = null; // why needle.wasm could not start on the page
toolCheckReady.catch((e) => {
  toolCheckFailure = e;
});

// ---------------------------------------------------------------- state and errors

function setState(s) {
  state = s;
  document.body.dataset.state = s;
  $("load").disabled = s === "loading" || s === "running" || s === "starting";
  $("clear-cache").disabled = s === "loading" || s === "starting" || !(defaults?.hasCache);
  $("run").disabled = s !== "ready";
  $("stop").hidden = s !== "running";
}

function showError(title, message) {
  $("error-title").textContent = title + ":";
  $("error-message").textContent = message;
  $("error").hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error-title").textContent = "";
  $("error-message").textContent = "";
}

const mb = (bytes) => (bytes / 1e6).toFixed(1) + " MB";
const ms = (t) => (t < 10 ? t.toFixed(1) : Math.round(t).toString()) + " ms";

function fileName(url) {
  try {
    return decodeURIComponent(new URL(url).pathname.split("/").pop()) || url;
  } catch {
    return url;
  }
}

// ---------------------------------------------------------------- the worker

function startWorker() {
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = (event) => handle(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    setState("error");
    showError("The engine could not start", (event.message ? event.message + ". " : "")
      + "This page needs module Web Workers and WebAssembly GC (Chrome or Edge 119+, Firefox 120+, Safari 18.2+).");
  };
}

function handle(msg) {
  switch (msg.type) {
    case "hello":
      return onHello(msg);
    case "progress":
      if (state !== "loading") {
        return undefined; // the other file's download after a failure
      }
      files[msg.file] = msg;
      return renderProgress();
    case "loaded":
      return onLoaded(msg);
    case "token":
      return onToken(msg);
    case "result":
      return onResult(msg);
    case "retrieval":
      return onRetrieval(msg);
    case "cache":
      return onCache(msg);
    case "error":
      return onError(msg);
    default:
      return undefined;
  }
}

function onHello(msg) {
  const first = defaults === null;
  defaults = msg;
  $("version").textContent = "needle-java-wasm " + (msg.version ?? "");
  if (first) {
    $("weights-url").value = params.get("weights") ?? msg.weightsUrl;
    $("vocab-url").value = params.get("vocab") ?? msg.vocabUrl;
    $("weights-url").placeholder = msg.weightsUrl;
    $("vocab-url").placeholder = msg.vocabUrl;
    setState("ready-to-load");
    worker.postMessage({ type: "cacheInfo" });
    if (params.get("autoload") !== "0") {
      load();
    } else {
      $("run").disabled = true;
    }
  } else if (reloadAfterRestart) {
    reloadAfterRestart = false;
    load();
  }
}

// ---------------------------------------------------------------- loading the model

function absolute(value, what) {
  try {
    return new URL(value, location.href).href;
  } catch {
    throw new Error("the " + what + " URL is not a URL: " + JSON.stringify(value));
  }
}

function load() {
  clearError();
  let weightsUrl;
  let vocabUrl;
  try {
    weightsUrl = absolute($("weights-url").value.trim() || defaults.weightsUrl, "weights");
    vocabUrl = absolute($("vocab-url").value.trim() || defaults.vocabUrl, "vocabulary");
  } catch (e) {
    showError("Could not load the model", e.message);
    return;
  }
  // the address bar keeps the files, so that the page can be bookmarked or shared
  const typedWeights = $("weights-url").value.trim();
  const typedVocab = $("vocab-url").value.trim();
  const url = new URL(location.href);
  for (const [key, value, fallback] of [["weights", typedWeights, defaults.weightsUrl], ["vocab", typedVocab, defaults.vocabUrl]]) {
    if (value && value !== fallback) {
      url.searchParams.set(key, value);
    } else {
      url.searchParams.delete(key);
    }
  }
  history.replaceState(null, "", url);

  model = null;
  files = {};
  $("model-info").hidden = true;
  $("retrieval-card").hidden = true;
  const bar = $("progress");
  bar.classList.remove("done", "failed", "indeterminate");
  bar.setAttribute("aria-valuenow", "0");
  $("progress-fill").style.width = "0%";
  $("progress-label").textContent = "Starting…";
  setState("loading");
  worker.postMessage({ type: "load", weightsUrl, vocabUrl });
}

function renderProgress() {
  const list = Object.values(files);
  const loaded = list.reduce((s, f) => s + f.loaded, 0);
  // a percentage only once both files are under way (the small vocabulary alone would show 99%)
  const totalsKnown = files.weights !== undefined && files.vocab !== undefined && list.every((f) => f.total !== null);
  const total = list.reduce((s, f) => s + (f.total ?? 0), 0);
  const allDone = files.weights?.done && files.vocab?.done;
  const bar = $("progress");
  let percent = null;
  if (allDone) {
    percent = 100;
  } else if (totalsKnown && total > 0) {
    percent = Math.min(99, Math.floor((loaded * 100) / total));
  }
  bar.classList.toggle("indeterminate", percent === null);
  if (percent !== null) {
    bar.setAttribute("aria-valuenow", String(percent));
    $("progress-fill").style.width = percent + "%";
  }
  const cached = list.length > 0 && list.every((f) => f.fromCache);
  const parts = ["weights", "vocab"].filter((k) => files[k]).map((k) => {
    const f = files[k];
    const size = f.total !== null ? mb(f.loaded) + " of " + mb(f.total) : mb(f.loaded);
    return fileName(f.url) + " " + (f.done ? mb(f.loaded) : size);
  });
  if (allDone) {
    bar.classList.add("done");
    $("progress-label").textContent = "100% · " + parts.join(" · ") + (cached ? " · read from the browser cache"
      : " · downloaded") + " · starting the engine…";
  } else {
    $("progress-label").textContent = (percent !== null ? percent + "% · " : "") + (cached ? "Reading from the cache: "
      : "Downloading: ") + parts.join(" · ");
  }
}

function onLoaded(msg) {
  model = msg;
  const bar = $("progress");
  bar.classList.remove("indeterminate");
  bar.classList.add("done");
  bar.setAttribute("aria-valuenow", "100");
  $("progress-fill").style.width = "100%";
  const source = msg.fromCache ? "read from the browser cache" : "downloaded";
  $("progress-label").textContent = "100% · " + mb(msg.weightsBytes) + " of weights and " + mb(msg.vocabBytes)
    + " of vocabulary " + source + ".";
  $("progress-label").dataset.source = msg.fromCache ? "cache" : "network";
  const c = msg.config;
  const info = $("model-info");
  info.textContent = "";
  const line = (text) => {
    const div = document.createElement("div");
    div.textContent = text;
    info.append(div);
    return div;
  };
  line("Ready in " + ms(msg.loadMs) + " (" + (msg.fromCache ? "cache read " : "download ") + ms(msg.downloadMs)
    + ", engine load " + ms(msg.engineLoadMs) + ").");
  line("Model: vocabulary " + c.vocab_size + ", d_model " + c.d_model + ", " + c.num_encoder_layers + " encoder + "
    + c.num_decoder_layers + " decoder layers, " + c.num_heads + "/" + c.num_kv_heads + " heads"
    + (c.no_feedforward ? ", no feed-forward" : ", feed-forward " + c.activation + " " + c.ffn_dim) + "."
    + (msg.simd === null ? "" : msg.simd ? " Matrix products: Wasm SIMD kernels." : " Matrix products: portable kernels."));
  line(msg.hasContrastiveHead ? "Contrastive head: yes (the tool retrieval panel ranks your tools)."
    : "Contrastive head: none (these weights cannot rank tools, so there is no retrieval panel).");
  info.hidden = false;
  info.dataset.contrastive = String(msg.hasContrastiveHead);
  if (stopped) {
    stopped = false;
    $("run-status").textContent = "Stopped. The engine was restarted.";
  }
  setState("ready");
  worker.postMessage({ type: "cacheInfo" });
}

function onCache(msg) {
  const el = $("cache-info");
  if (!msg.available) {
    el.textContent = "This browser gives the page no Cache API: the model is downloaded on every visit.";
  } else if (msg.files === 0) {
    el.textContent = msg.cleared ? "Cache cleared: the next load downloads the model again." : "Cache: empty.";
  } else {
    el.textContent = "Cache: " + msg.files + " file" + (msg.files === 1 ? "" : "s") + ", " + mb(msg.bytes) + ".";
  }
  el.dataset.files = String(msg.files);
}

// ---------------------------------------------------------------- tools and query

/** The check of the tool list in the editor (pending while needle.wasm starts on the page). */
function toolCheck() {
  if (isInitialized()) {
    return checkTools($("tools").value);
  }
  if (toolCheckFailure !== null) {
    return { ok: false, message: "The tool check could not start: " + toolCheckFailure.message };
  }
  return { ok: false, pending: true, message: "the tool check is starting" };
}

function renderToolStatus(check) {
  const status = $("tools-status");
  const area = $("tools");
  if (check.pending) {
    status.className = "small";
    status.textContent = "… checking the tool list";
  } else if (check.ok) {
    const n = check.tools.length;
    status.className = "small " + (n === 0 ? "status-warn" : "status-ok");
    status.textContent = n === 0 ? "✓ An empty list: the model can only answer []."
      : "✓ " + n + " tool" + (n === 1 ? "" : "s") + " · " + check.forms;
    area.classList.remove("invalid");
    area.removeAttribute("aria-invalid");
  } else {
    status.className = "small status-bad";
    status.textContent = "✗ " + check.message;
    area.classList.add("invalid");
    area.setAttribute("aria-invalid", "true");
  }
  for (const chip of document.querySelectorAll("#presets button")) {
    chip.setAttribute("aria-pressed", String(presetText(preset(chip.dataset.preset)) === area.value));
  }
}

function pickPreset(id, query) {
  const p = preset(id) ?? PRESETS[0];
  $("tools").value = presetText(p);
  const examples = $("examples");
  examples.textContent = "";
  for (const q of p.queries) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "example";
    b.textContent = q;
    b.addEventListener("click", () => {
      $("query").value = q;
      $("query").focus();
    });
    examples.append(b);
  }
  $("query").value = query ?? p.queries[0];
  renderToolStatus(toolCheck());
}

let checkTimer = 0;
function scheduleToolCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => renderToolStatus(toolCheck()), 150);
}

function formatTools() {
  try {
    $("tools").value = JSON.stringify(JSON.parse($("tools").value), null, 2);
  } catch {
    // the status line says what is wrong
  }
  renderToolStatus(toolCheck());
}

// ---------------------------------------------------------------- running

function run() {
  clearError();
  const toolsText = $("tools").value;
  const check = toolCheck();
  renderToolStatus(check);
  if (check.pending) {
    showError("Not ready", "the tool check is still starting: try again in a moment");
    return;
  }
  if (!check.ok) {
    showError("Invalid tool list", check.message);
    $("tools").focus();
    return;
  }
  if (model === null || state !== "ready") {
    showError("Not ready", model === null ? "load a model first (1 · Model)" : "wait for the current run to finish");
    return;
  }
  const maxNewTokens = Number($("max-tokens").value);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1 || maxNewTokens > 511) {
    showError("Invalid max tokens", "max tokens must be a whole number from 1 to 511, got " + JSON.stringify($("max-tokens").value));
    return;
  }
  runs++;
  document.body.dataset.runs = String(runs);
  current = {
    id: runs,
    query: $("query").value,
    descriptions: check.descriptions,
    names: check.tools.map((t) => t.original),
    started: performance.now(),
    tokens: 0,
  };
  $("stream").textContent = "";
  $("calls").textContent = "";
  $("complete").hidden = true;
  $("calls-note").hidden = true;
  $("timings").hidden = true;
  $("token-count").textContent = "";
  $("retrieval").textContent = "";
  setState("running");
  tick();
  worker.postMessage({
    type: "run",
    id: current.id,
    query: current.query,
    tools: toolsText,
    maxNewTokens,
    constrain: $("constrain").checked,
  });
}

/** The elapsed time while a run is in progress, redrawn every frame (the page is never blocked). */
function tick() {
  if (state !== "running" || current === null) {
    return;
  }
  const seconds = ((performance.now() - current.started) / 1000).toFixed(1);
  const status = $("run-status");
  status.textContent = "";
  const spinner = document.createElement("span");
  spinner.className = "spinner";
  status.append(spinner, "running… " + seconds + " s");
  requestAnimationFrame(tick);
}

function stop() {
  if (state !== "running") {
    return;
  }
  worker.terminate();
  $("run-status").textContent = "Stopped. Restarting the engine (the model comes from the cache)…";
  reloadAfterRestart = true;
  stopped = true;
  setState("loading");
  startWorker();
}

function onToken(msg) {
  if (current === null || msg.id !== current.id) {
    return;
  }
  current.tokens++;
  const span = document.createElement("span");
  span.textContent = msg.piece;
  span.title = "token " + msg.tokenId;
  $("stream").append(span);
  $("token-count").textContent = "(" + current.tokens + ")";
}

function onResult(msg) {
  if (current === null || msg.id !== current.id) {
    return;
  }
  if (msg.tail) {
    $("stream").append(document.createTextNode(msg.tail));
  }
  $("token-count").textContent = "(" + msg.tokens.length + " tokens)";
  const calls = $("calls");
  calls.textContent = msg.calls !== null ? JSON.stringify(msg.calls, null, 2) : msg.text;
  calls.dataset.parsed = String(msg.calls !== null);
  $("calls-note").hidden = msg.calls !== null;
  const badge = $("complete");
  badge.hidden = false;
  badge.className = "badge " + (msg.complete ? "ok" : "cut");
  badge.textContent = msg.complete ? "complete" : "cut short by max tokens";
  badge.dataset.complete = String(msg.complete);

  const t = msg.timings;
  const approx = msg.estimated ? "≈ " : "";
  $("t-load").textContent = ms(model.loadMs);
  $("t-encode").textContent = approx + ms(t.encodeMs);
  $("t-decode").textContent = approx + ms(t.decodeMs);
  $("t-speed").textContent = t.decodeMs > 0 ? approx + (t.decodeTokens / (t.decodeMs / 1000)).toFixed(1) + " tokens/s" : "–";
  $("t-prefill").textContent = t.prefillTokens + " tokens";
  $("t-generated").textContent = msg.tokens.length + " tokens";
  $("timings").hidden = false;
  $("run-status").textContent = "Done in " + ms(msg.wallMs)
    + (msg.calls !== null && msg.calls.length === 0 ? " · [] means the model chose none of the tools" : "") + ".";
  setState("ready");

  if (model.hasContrastiveHead) {
    retrievalId++;
    const card = $("retrieval-card");
    card.hidden = false;
    card.dataset.state = "running";
    card.dataset.query = current.query;
    card.dataset.descriptions = JSON.stringify(current.descriptions);
    worker.postMessage({ type: "retrieve", id: retrievalId, query: current.query, descriptions: current.descriptions });
  }
}

function onRetrieval(msg) {
  if (msg.id !== retrievalId) {
    return;
  }
  const list = $("retrieval");
  list.textContent = "";
  for (const [index, score] of msg.ranking) {
    const li = document.createElement("li");
    li.dataset.index = String(index);
    li.dataset.score = String(score);
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = Math.max(2, Math.round(((score + 1) / 2) * 160)) + "px";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = current.names[index];
    const desc = document.createElement("span");
    desc.className = "desc";
    desc.textContent = current.descriptions[index] === current.names[index] ? "" : " — " + current.descriptions[index];
    const value = document.createElement("div");
    value.className = "score";
    value.append(bar, score.toFixed(4));
    li.append(name, desc, value);
    list.append(li);
  }
  $("retrieval-card").dataset.state = "done";
}

function onError(msg) {
  const what = msg.kind ? " (" + msg.kind + ")" : "";
  switch (msg.op) {
    case "load": {
      let message = msg.message;
      if (msg.kind === "DOWNLOAD" && /Failed to fetch|NetworkError|Load failed/i.test(message)) {
        message += " (the browser could not reach the server: offline, a wrong address, or a server that does not"
          + " allow downloads from other sites (CORS))";
      }
      const bar = $("progress");
      bar.classList.remove("indeterminate", "done");
      bar.classList.add("failed");
      $("progress-fill").style.width = "100%"; // all red; aria-valuenow keeps what had arrived
      $("progress-label").textContent = "Failed: " + message;
      setState("error");
      showError("Could not load the model" + what, message);
      break;
    }
    case "run":
      $("run-status").textContent = "Failed.";
      setState(model !== null ? "ready" : "error");
      showError("The run failed" + what, msg.message);
      break;
    case "retrieve":
      $("retrieval-card").dataset.state = "failed";
      showError("Tool retrieval failed" + what, msg.message);
      break;
    default:
      showError("Error" + what, msg.message);
  }
}

// ---------------------------------------------------------------- start

function start() {
  for (const p of PRESETS) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "chip";
    b.textContent = p.label;
    b.dataset.preset = p.id;
    b.addEventListener("click", () => pickPreset(p.id));
    $("presets").append(b);
  }
  pickPreset(params.get("preset") ?? PRESETS[0].id, params.get("query") ?? undefined);
  toolCheckReady.then(() => renderToolStatus(toolCheck()), () => renderToolStatus(toolCheck()));

  $("load").addEventListener("click", load);
  $("clear-cache").addEventListener("click", () => worker.postMessage({ type: "clearCache" }));
  $("tools").addEventListener("input", scheduleToolCheck);
  $("format").addEventListener("click", formatTools);
  $("run").addEventListener("click", run);
  $("stop").addEventListener("click", stop);
  $("query").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !$("run").disabled) {
      run();
    }
  });
  $("error-close").addEventListener("click", clearError);
  setState("starting");
  startWorker();

  // the page itself (HTML, scripts, needle.wasm) for offline visits; the model has its own cache
  if ("serviceWorker" in navigator && location.protocol !== "file:") {
    navigator.serviceWorker.register("./sw.js").catch(() => {});
  }
}

start();
