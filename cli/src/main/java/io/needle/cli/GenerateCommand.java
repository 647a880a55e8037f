package io.needle.cli;

import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * {@code needle generate}: encoder + greedy decoder on raw encoder ids (no tokenizer, no prompt
 * building); prints the generated ids space-separated, eos excluded. Constrained by default, which
 * needs {@code --vocab} and tools; {@code --no-constrain} is plain argmax (the parity mode).
 * With {@code --jsonl}, stdin holds one {@code {"input_ids":[…], "max_new_tokens":N, "tools":"…"}}
 * object per line.
 */
final class GenerateCommand {
    private GenerateCommand() {
    }

    static int run(String[] argv, int from, Inputs inputs, PrintStream out) {
        Args a = Args.parse("generate", argv, from,
                List.of("weights", "vocab", "tools", "input-ids", "max-new-tokens"), List.of("jsonl", "no-constrain", ModelFiles.PORTABLE));
        a.expectPositionals(0, "no positional arguments");
        String weightsPath = a.required("weights");
        boolean jsonl = a.flag("jsonl");
        boolean constrain = !a.flag("no-constrain");
        if (jsonl == (a.value("input-ids") != null)) {
            throw CliException.usage(jsonl ? "'generate' takes either --input-ids or --jsonl, not both"
                    : "'generate' needs --input-ids 5,17,42 (or --jsonl) (see needle --help)");
        }
        if (constrain && a.value("vocab") == null) {
            throw CliException.usage("constrained 'generate' needs --vocab and --tools (the grammar needs token"
                    + " texts and tool names); add --no-constrain for plain greedy decoding");
        }
        if (constrain && !jsonl && a.value("tools") == null) {
            throw CliException.usage("constrained 'generate' needs --tools (the grammar needs the tool names);"
                    + " add --no-constrain for plain greedy decoding");
        }
        int defaultMax = a.nonNegativeInt("max-new-tokens", RunOptions.DEFAULT_MAX_NEW_TOKENS);
        int[] inputIds = jsonl ? null : checkIds(TokenizeCommand.parseIds(a.value("input-ids"), "--input-ids"));
        String defaultTools = a.value("tools") == null ? null : inputs.text("tools", a.value("tools"));

        byte[] weights = Inputs.readFile("weights", weightsPath);
        String vocab = a.value("vocab") == null ? null : Inputs.readTextFile("vocab", a.value("vocab"));
        NeedleEngine engine = ModelFiles.engine(weights, vocab, a.flag(ModelFiles.PORTABLE));

        if (!jsonl) {
            out.print(TokenizeCommand.ids(generate(engine, inputIds, defaultMax, constrain, defaultTools)) + "\n");
            return Main.EXIT_OK;
        }
        Jsonl.run(inputs.stdin("JSONL input"), out, line -> {
            Map<?, ?> obj = Jsonl.object(line);
            if (!obj.containsKey("input_ids")) {
                throw CliException.error("missing field \"input_ids\"");
            }
            int[] ids = checkIds(Jsonl.ids(obj.get("input_ids"), "input_ids"));
            int max = defaultMax;
            if (obj.containsKey("max_new_tokens") && obj.get("max_new_tokens") != null) {
                max = Jsonl.intValue(obj.get("max_new_tokens"), "max_new_tokens");
                if (max < 0) {
                    throw CliException.error("max_new_tokens must be >= 0, got " + max);
                }
            }
            String tools = Jsonl.text(obj, "tools", false);
            if (tools == null) {
                tools = defaultTools;
            }
            if (constrain && tools == null) {
                throw CliException.error("missing field \"tools\" (constrained generate needs the tools;"
                        + " or give --tools, or --no-constrain)");
            }
            return TokenizeCommand.ids(generate(engine, ids, max, constrain, tools));
        });
        return Main.EXIT_OK;
    }

    private static int[] generate(NeedleEngine engine, int[] ids, int max, boolean constrain, String tools) {
        if (!constrain) {
            return engine.generate(ids, max);
        }
        return engine.generate(ids, tools, new RunOptions().maxNewTokens(max).constrain(true));
    }

    private static int[] checkIds(int[] ids) {
        if (ids.length == 0) {
            throw CliException.error("no input ids: the encoder needs at least one token");
        }
        return ids;
    }
}
