package io.needle.cli;

import io.needle.decoding.Prompt;
import io.needle.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * {@code needle prompt --vocab V --query Q --tools T}: the encoder input ids {@code run} would feed
 * the model (docs/spec/MODEL.md section 3 steps 1-2), space-separated. No weights are needed.
 * With {@code --jsonl}: one {@code {"query":…, "tools":…}} object per stdin line → one line of ids.
 */
final class PromptCommand {
    private PromptCommand() {
    }

    static int run(String[] argv, int from, Inputs inputs, PrintStream out) {
        Args a = Args.parse("prompt", argv, from, List.of("vocab", "query", "tools"), List.of("jsonl"));
        a.expectPositionals(0, "no positional arguments");
        String vocabPath = a.required("vocab");
        boolean jsonl = a.flag("jsonl");
        String query = null;
        String tools = null;
        if (jsonl) {
            if (a.value("query") != null || a.value("tools") != null) {
                throw CliException.usage("'prompt --jsonl' reads query and tools from standard input;"
                        + " do not give --query or --tools");
            }
        } else {
            String queryArg = a.required("query");
            String toolsArg = a.required("tools");
            query = inputs.text("query", queryArg);
            tools = inputs.text("tools", toolsArg);
        }
        Tokenizer tok = TokenizeCommand.loadTokenizer(vocabPath);
        if (!jsonl) {
            out.print(TokenizeCommand.ids(Prompt.encoderInput(tok, query, tools)) + "\n");
            return Main.EXIT_OK;
        }
        Jsonl.run(inputs.stdin("JSONL input"), out, line -> {
            Map<?, ?> obj = Jsonl.object(line);
            String q = Jsonl.text(obj, "query", true);
            String t = Jsonl.text(obj, "tools", true);
            return TokenizeCommand.ids(Prompt.encoderInput(tok, q, t));
        });
        return Main.EXIT_OK;
    }
}
