package io.needle.cli;

import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.engine.Timings;
import io.needle.engine.TokenListener;
import io.needle.json.Json;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code needle run --weights W --vocab V --query Q --tools T [...]} and the needle-rs form
 * {@code needle WEIGHTS VOCAB QUERY TOOLS}: load the model, run one request, print the result text
 * (or the {@code --json} object, or the streamed pieces).
 */
final class RunCommand {
    private static final List<String> VALUE_OPTIONS =
            List.of("weights", "vocab", "hub-url", "weights-sha256", "vocab-sha256", "query", "tools", "max-new-tokens");
    private static final List<String> FLAGS = List.of("no-constrain", "stream", "json", "timings", ModelFiles.PORTABLE);
    private static final List<String> RUN_FLAGS = List.of("no-constrain", "stream", "json", "timings", "jsonl",
            "require-call", ModelFiles.PORTABLE);
    private static final List<String> LEGACY_VALUE_OPTIONS = List.of("max-new-tokens", "weights", "vocab", "hub-url",
            "weights-sha256", "vocab-sha256");

    private RunCommand() {
    }

    static int run(String[] argv, int from, Inputs inputs, PrintStream out, PrintStream err) {
        Args a = Args.parse("run", argv, from, VALUE_OPTIONS, RUN_FLAGS);
        a.expectPositionals(0, "no positional arguments");
        if (a.flag("jsonl")) {
            return jsonl(a, inputs, out, err);
        }
        String query = a.required("query");
        String tools = a.required("tools");
        // without --weights and --vocab: the default model (ModelFiles)
        return execute(a, a.value("weights"), a.value("vocab"), query, tools, inputs, out, err);
    }

    /**
     * The 4-argument form, and the 2-argument form {@code needle QUERY TOOLS} (the default model, or
     * {@code --weights}/{@code --vocab}); the options of {@code run} other than the four files/texts
     * are accepted too.
     */
    static int legacy(String[] argv, int from, Inputs inputs, PrintStream out, PrintStream err) {
        Args a = Args.parse("needle", argv, from, LEGACY_VALUE_OPTIONS, FLAGS);
        List<String> p = a.positionals();
        if (p.size() == 2 && !(isFile(p.get(0)) && isFile(p.get(1)))) {
            if (looksLikeCommand(p.get(0), p.get(1))) {
                throw CliException.usage("unknown command '" + p.get(0) + "' (commands: " + String.join(", ", Main.COMMANDS)
                        + "; or needle QUERY TOOLS with TOOLS a JSON array; see needle --help)");
            }
            return execute(a, a.value("weights"), a.value("vocab"), p.get(0), p.get(1), inputs, out, err);
        }
        if (p.size() == 4 && (a.value("weights") != null || a.value("vocab") != null || a.value("hub-url") != null
                || a.value("weights-sha256") != null || a.value("vocab-sha256") != null)) {
            throw CliException.usage("--weights, --vocab, --hub-url and the --*-sha256 pins go with needle QUERY TOOLS,"
                    + " not with the 4-argument form (see needle --help)");
        }
        if (p.size() != 4) {
            if (!p.isEmpty() && !Files.isRegularFile(pathOrEmpty(p.get(0)))) {
                throw CliException.usage("unknown command '" + p.get(0) + "' (commands: "
                        + String.join(", ", Main.COMMANDS)
                        + "; or the 4-argument form needle WEIGHTS VOCAB QUERY TOOLS, or needle QUERY TOOLS;"
                        + " see needle --help)");
            }
            throw CliException.usage("the 4-argument form needs WEIGHTS VOCAB QUERY TOOLS, got "
                    + p.size() + " argument" + (p.size() == 1 ? "" : "s") + " (see needle --help)");
        }
        return execute(a, p.get(0), p.get(1), p.get(2), p.get(3), inputs, out, err);
    }

    private static boolean isFile(String s) {
        return Files.isRegularFile(pathOrEmpty(s));
    }

    /**
     * Whether {@code needle A B} is more likely a mistyped command than a query and tools: A is one
     * word and B is given literally but is not JSON.
     */
    private static boolean looksLikeCommand(String first, String second) {
        if (first.isEmpty() || first.equals("-") || first.startsWith("@") || second.equals("-")
                || second.startsWith("@")) {
            return false;
        }
        for (int i = 0; i < first.length(); i++) {
            if (Character.isWhitespace(first.charAt(i))) {
                return false;
            }
        }
        return !isJson(second);
    }

    private static boolean isJson(String text) {
        try {
            Json.parse(text);
            return true;
        } catch (NeedleException e) {
            return false;
        }
    }

    /** Fails as the engine does when the tools are not JSON. */
    private static void requireJsonTools(String tools) {
        try {
            Json.parse(tools);
        } catch (NeedleException e) {
            String why = e.getMessage() == null ? "" : e.getMessage();
            if (why.startsWith("invalid JSON: ")) {
                why = why.substring("invalid JSON: ".length());
            }
            throw new NeedleException(NeedleException.Kind.JSON, "the tools are not valid JSON: " + why);
        }
    }

    /** {@code s} as a path (the empty path when it cannot be one), to tell a file from a mistyped command. */
    private static Path pathOrEmpty(String s) {
        try {
            return Paths.get(s);
        } catch (InvalidPathException e) {
            return Paths.get("");
        }
    }

    private static int execute(Args a, String weightsPath, String vocabPath, String queryArg, String toolsArg,
            Inputs inputs, PrintStream out, PrintStream err) {
        boolean json = a.flag("json");
        boolean stream = a.flag("stream");
        if (json && stream) {
            throw CliException.usage("--stream and --json cannot be used together");
        }
        RunOptions options = new RunOptions()
                .maxNewTokens(a.nonNegativeInt("max-new-tokens", RunOptions.DEFAULT_MAX_NEW_TOKENS))
                .constrain(!a.flag("no-constrain"))
                .requireCall(requireCall(a));
        String query = inputs.text("query", queryArg);
        String tools = inputs.text("tools", toolsArg);
        if (weightsPath == null && vocabPath == null) {
            requireJsonTools(tools); // before a possible download of the default model
        }
        NeedleEngine engine = ModelFiles.resolve(a, weightsPath, vocabPath, inputs, err).load(a.flag(ModelFiles.PORTABLE));
        if (stream) {
            options.listener(new TokenListener() {
                @Override
                public void onToken(int tokenId, String piece) {
                    out.print(piece);
                    out.flush();
                }

                @Override
                public void onFinish(String tail) {
                    out.print(tail); // text held back until the end (an unfinished name or character)
                }
            });
        }
        RunResult result = engine.run(query, tools, options);

        if (stream) {
            out.print("\n");
        } else if (json) {
            out.print(Json.writeAscii(toJson(result, engine.loadMs())) + "\n");
        } else {
            out.print(result.text + "\n");
        }
        out.flush();
        if (!result.complete && !json) {
            err.print("needle: warning: the output is incomplete: --max-new-tokens (" + options.maxNewTokens()
                    + ") ran out before the model finished\n");
        }
        if (a.flag("timings")) {
            err.print(timingsLine(result.timings, engine.loadMs()) + "\n");
        }
        return Main.EXIT_OK;
    }

    /**
     * {@code run --jsonl}: many requests in one process. Standard input holds one JSON object per
     * line, {@code {"query":"…", "tools":[…] or "…", "max_new_tokens":N}} ({@code tools} defaults to
     * {@code --tools}, {@code max_new_tokens} to {@code --max-new-tokens}); each line is answered by
     * one line holding the {@code --json} object of its result, or {@code error: MESSAGE}.
     */
    private static int jsonl(Args a, Inputs inputs, PrintStream out, PrintStream err) {
        if (a.value("query") != null) {
            throw CliException.usage("'run --jsonl' reads the queries from standard input; --query cannot be used"
                    + " with it");
        }
        if (a.flag("stream")) {
            throw CliException.usage("--stream cannot be used with --jsonl");
        }
        int defaultMax = a.nonNegativeInt("max-new-tokens", RunOptions.DEFAULT_MAX_NEW_TOKENS);
        new RunOptions().maxNewTokens(defaultMax); // a bad default fails here, not on every line
        boolean constrain = !a.flag("no-constrain");
        boolean defaultRequireCall = requireCall(a);
        String defaultTools = a.value("tools") == null ? null : inputs.text("tools", a.value("tools"));
        NeedleEngine engine = ModelFiles.resolve(a, inputs, err).load(a.flag(ModelFiles.PORTABLE));
        Jsonl.run(inputs.stdin("JSONL input"), out, line -> {
            Map<?, ?> obj = Jsonl.object(line);
            String query = Jsonl.text(obj, "query", true);
            String tools = Jsonl.text(obj, "tools", false);
            if (tools == null) {
                tools = defaultTools;
            }
            if (tools == null) {
                throw CliException.error("missing field \"tools\" (or give --tools)");
            }
            int max = defaultMax;
            if (obj.get("max_new_tokens") != null) {
                max = Jsonl.intValue(obj.get("max_new_tokens"), "max_new_tokens");
            }
            boolean requireCall = defaultRequireCall;
            Object require = obj.get("require_call");
            if (require != null) {
                if (!(require instanceof Boolean)) {
                    throw CliException.error("\"require_call\" must be true or false, got " + Json.kindOf(require));
                }
                requireCall = (Boolean) require;
                if (requireCall && !constrain) {
                    throw CliException.error("\"require_call\" needs constrained decoding (drop --no-constrain)");
                }
            }
            RunResult result = engine.run(query, tools,
                    new RunOptions().maxNewTokens(max).constrain(constrain).requireCall(requireCall));
            if (a.flag("timings")) {
                err.print(timingsLine(result.timings, engine.loadMs()) + "\n");
            }
            return Json.writeAscii(toJson(result, engine.loadMs()));
        });
        return Main.EXIT_OK;
    }

    /** {@code --require-call}, which needs the grammar (not with {@code --no-constrain}). */
    private static boolean requireCall(Args a) {
        if (a.flag("require-call") && a.flag("no-constrain")) {
            throw CliException.usage("--require-call needs constrained decoding; it cannot be used with --no-constrain");
        }
        return a.flag("require-call");
    }

    /** The {@code --json} object. */
    static Map<String, Object> toJson(RunResult r, double loadMs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", r.text);
        m.put("calls", r.calls);
        m.put("complete", r.complete);
        m.put("tokens", r.tokens);
        Timings t = r.timings;
        Map<String, Object> tm = new LinkedHashMap<>();
        tm.put("load_ms", ms(loadMs));
        tm.put("encode_ms", ms(t == null ? 0 : t.encodeMs));
        tm.put("decode_ms", ms(t == null ? 0 : t.decodeMs));
        tm.put("prefill_tokens", t == null ? 0 : t.prefillTokens);
        tm.put("decode_tokens", t == null ? 0 : t.decodeTokens);
        m.put("timings", tm);
        return m;
    }

    /** The {@code --timings} line: the JSON names with their values, then the decode speed. */
    static String timingsLine(Timings t, double loadMs) {
        double encode = t == null ? 0 : t.encodeMs;
        double decode = t == null ? 0 : t.decodeMs;
        int prefill = t == null ? 0 : t.prefillTokens;
        int steps = t == null ? 0 : t.decodeTokens;
        String line = "timings: load_ms=" + ms(loadMs) + " encode_ms=" + ms(encode) + " decode_ms=" + ms(decode)
                + " prefill_tokens=" + prefill + " decode_tokens=" + steps;
        if (decode > 0 && steps > 0) {
            line += " (" + Math.round(steps * 10000.0 / decode) / 10.0 + " tokens/s)";
        }
        return line;
    }

    /** Milliseconds rounded to microseconds, so JSON and the timings line stay short. */
    private static double ms(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return 0;
        }
        return Math.round(v * 1000.0) / 1000.0;
    }
}
