package io.needle.cli;

/** The text of {@code needle --help}. */
final class Usage {
    private Usage() {
    }

    static final String TEXT = """
            Usage: needle COMMAND [OPTIONS]
                   needle WEIGHTS VOCAB QUERY TOOLS
                   needle QUERY TOOLS

            Needle turns a query plus a list of tool definitions (JSON) into JSON tool calls.

            Commands:
              needle WEIGHTS VOCAB QUERY TOOLS
                  Run the model (the needle-rs form); print the result text (the JSON array of
                  calls) on one line.
              needle QUERY TOOLS
                  The same with the default model: needle.safetensors and vocab.txt from the
                  model cache, downloaded from Hugging Face on first use (see download).
              run [--weights W --vocab V] --query Q --tools T [--max-new-tokens N]
                  [--no-constrain] [--require-call] [--stream] [--json] [--timings]
                  Run the model and print the result text on one line. Without --weights and
                  --vocab: the default model (as needle QUERY TOOLS; --hub-url URL sets the hub).
                    --max-new-tokens N  stop after N generated tokens (default 511)
                    --no-constrain      plain greedy decoding, no grammar masking
                    --require-call      the grammar refuses the empty answer [] while a tool
                                        can be called: at least one call
                    --stream            print each token's text as it is produced, then a newline
                    --json              print one JSON object: {"text":..., "calls":[...] or null,
                                        "complete":bool, "tokens":[ids...], "timings":{"load_ms",
                                        "encode_ms","decode_ms","prefill_tokens","decode_tokens"}}
                    --timings           print timings on stderr
              run [--weights W --vocab V] --jsonl [--tools T] [--max-new-tokens N]
                  [--no-constrain] [--require-call] [--timings]
                  Many requests in one process. stdin: one JSON object per line
                  {"query":..., "tools":[...] or "...", "max_new_tokens":N, "require_call":bool}
                  ("tools" defaults to --tools, "max_new_tokens" to --max-new-tokens,
                  "require_call" to --require-call); stdout: one line per input line, the
                  --json object of its result.
              tokenize --vocab V TEXT
                  Print the token ids of TEXT on one line, space-separated.
              tokenize --vocab V --jsonl
                  stdin: one JSON string per line; stdout: one line of ids per input line.
              detokenize --vocab V ID...
                  Print the text of the token ids (given as separate arguments or 5,17,42).
              detokenize --vocab V --jsonl
                  stdin: one JSON array of ids per line; stdout: one JSON string per line.
              generate --weights W --input-ids 5,17,42 [--max-new-tokens N] [--no-constrain]
                  [--vocab V] [--tools T]
                  Encoder + greedy decoder on raw encoder ids (no tokenizer, no prompt); print
                  the generated ids on one line, space-separated, eos excluded. Unless
                  --no-constrain is given the grammar is applied, which needs --vocab and --tools.
              generate --weights W --jsonl [--max-new-tokens N] [--no-constrain] [--vocab V]
                  [--tools T]
                  stdin: one JSON object per line {"input_ids":[...], "max_new_tokens":N,
                  "tools":"..." (constrained only; --tools is the default)};
                  stdout: one line of generated ids per input line.
              prompt --vocab V --query Q --tools T
                  Print the encoder input ids that run would feed the model, space-separated.
              prompt --vocab V --jsonl
                  stdin: one JSON object {"query":..., "tools":...} per line; stdout: one line
                  of ids per input line.
              inspect W
                  Print the model config, one "key: value" line per field, the first one
                  "source:" (from __metadata__, or which values were inferred from the
                  tensors), then one line per tensor: name dtype shape bytes (shape like
                  [32,64], no spaces); an I4 linear adds its logical shape, e.g.
                  "(logical [75,128], in padded to 96)", a tensor the model does not use
                  "(not used by the model)".
              retrieve [--weights W --vocab V] --query Q [--top-k K] DESCRIPTION...
                  Rank the DESCRIPTIONs (e.g. one per tool) by similarity to the query with the
                  model's contrastive head; print the best K (default 5), best first, one line
                  each: the 0-based index of the description, a tab, the score (cosine
                  similarity, 6 decimals). A DESCRIPTION may be '-' or '@path' too. Fails if
                  the model has no contrastive head.
              bench [--runs N] [--warmup N] [--quick] [--json] [--no-roofline] [--save DIR]
                  [--weights W --vocab V] [--threads N] [--kernels portable|parallel|vector]
                  [--no-constrain] [--batch]
                  The benchmark of BENCHMARKS.md: load + run medians of two workloads on the
                  full-size random model (or W/V), constrained, eos ignored: "standard" (about
                  120 encoder tokens, 32 decode steps) and "weather" (the needle-rs example, 20
                  steps); then this machine's measured multiply-add rate and bandwidth and the
                  fraction of that roofline reached. --json: one JSON object on stdout;
                  --save DIR: also write DIR/bench.safetensors and DIR/vocab.txt (for the Node
                  benchmark, npm-package/bench/bench.mjs); --threads N: split the matrix
                  products over N threads (the same tokens as the default, one); --kernels:
                  the JVM's kernels measured: portable (the reference loops), parallel (those
                  split over --threads, default 2), vector (the Vector API ones, the default
                  when java runs with --add-modules jdk.incubator.vector; with --threads N
                  split too). Every choice gives the same tokens. --no-constrain: decode with
                  full logits every step; --batch: also 8 requests run one by one and as one
                  runBatch (same tokens checked), with the throughput ratio.
              serve [--weights W --vocab V] [--host H] [--port N] [--portable]
                  [--hub-url URL] [--weights-sha256 H] [--vocab-sha256 H]
                  OpenAI's chat completions API for the openai SDKs (baseURL
                  http://H:N/v1): POST /v1/chat/completions (tools, tool_choice, stream...),
                  GET /v1/models; the model is "needle". Default 127.0.0.1:8080 (--port 0:
                  any free port). Without --weights and --vocab: the default model. Prints
                  one line with the URL once it listens, then runs until stopped; one line
                  per request on stderr. With $NEEDLE_API_KEY set, requests need the header
                  "Authorization: Bearer $NEEDLE_API_KEY". See README.md.
              download [--hub-url URL] [--force] [--weights-sha256 H] [--vocab-sha256 H]
                  Download the default model into the model cache now (progress on stderr) and
                  print the paths of the two files. --force downloads them again. Each file's
                  hash is checked (see Integrity below); --weights-sha256 and --vocab-sha256
                  pin the sha256 a file must have (also on run, retrieve, needle QUERY TOOLS).
              cache [show | dir | clear | verify]
                  show (default): the cache directory, the hub and the files (with the sha256
                  recorded at download); dir: the directory alone; clear: delete the downloaded
                  model files; verify: hash the cached files again and compare them with the
                  recorded sha256 and the pins (exit 1 when one differs).
              demo
                  Smoke test, no network or files needed: a small model with RANDOM weights,
                  built in memory, runs the whole pipeline on example tools (meaningless calls).
              help, --help, -h    print this text
              --version           print the version

            TEXT, QUERY, TOOLS and DESCRIPTION may be '-' to read standard input or '@path' to read a file
            (UTF-8; one trailing line ending is dropped). Put '--' before a TEXT or IDs that
            start with '-'. Options also take the form --name=value.
            JSONL modes answer every input line with exactly one output line, in order, flushed
            at once; a bad line gives "error: MESSAGE" in its place and the run goes on.
            Output is UTF-8 with LF line endings on every platform; JSON output writes non-ASCII
            characters as \\uXXXX escapes.
            Kernels: run, retrieve, generate, serve and the needle-rs forms use the fastest
            kernels this machine has (the matrix products split over up to 2 cores); --portable
            keeps the portable one-thread kernels. Both give the same tokens.
            --debug (with any command) prints the stack trace of an error.
            Exit status: 0 success, 1 error (bad file, bad input, model failure),
            2 bad command line.
            Launcher environment: NEEDLE_JAVA_OPTS adds JVM options (e.g. -Xmx2g).
            Model cache: $NEEDLE_HOME, else $XDG_CACHE_HOME/needle-java or ~/.cache/needle-java
            (macOS ~/Library/Caches/needle-java, Windows %LOCALAPPDATA%\\needle-java).
            Hub: --hub-url or $NEEDLE_HUB_URL, else
            https://huggingface.co/Abdalrahman/needle-rs-safetensors/resolve/main/
            Integrity: a downloaded file must have the sha256 pinned by --weights-sha256 /
            --vocab-sha256 or $NEEDLE_WEIGHTS_SHA256 / $NEEDLE_VOCAB_SHA256 (a pinned cached file
            is hashed again at every load), else the hash the hub announces (Hugging Face: the
            weights' sha256 in X-Linked-Etag, the vocabulary's git blob sha1 in its ETag); a file
            that differs is deleted, never installed (exit 1). Without either, stderr says the
            file was not verified.
            """;
}
