package io.needle.cli;

import io.needle.json.Json;
import io.needle.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code needle detokenize --vocab V ID...}: the text of the ids.
 * {@code needle detokenize --vocab V --jsonl}: one JSON array of ids per stdin line → one JSON string
 * per line (non-ASCII written as {@code \\uXXXX}, so every output line is plain ASCII).
 */
final class DetokenizeCommand {
    private DetokenizeCommand() {
    }

    static int run(String[] argv, int from, Inputs inputs, PrintStream out) {
        Args a = Args.parse("detokenize", argv, from, List.of("vocab"), List.of("jsonl"));
        String vocabPath = a.required("vocab");
        int[] ids = null;
        if (a.flag("jsonl")) {
            a.expectPositionals(0, "no IDs with --jsonl (the id lists come from standard input)");
        } else {
            if (a.positionals().isEmpty()) {
                throw CliException.usage("'detokenize' needs token IDs (or --jsonl) (see needle --help)");
            }
            ids = TokenizeCommand.parseIds(String.join(" ", a.positionals()), "IDs");
        }
        Tokenizer tok = TokenizeCommand.loadTokenizer(vocabPath);
        if (ids != null) {
            out.print(decode(tok, ids) + "\n");
            return Main.EXIT_OK;
        }
        Jsonl.run(inputs.stdin("JSONL input"), out,
                line -> Json.writeAscii(decode(tok, Jsonl.ids(Json.parse(line), "the line"))));
        return Main.EXIT_OK;
    }

    private static String decode(Tokenizer tok, int[] ids) {
        for (int id : ids) {
            if (id < 0 || id >= tok.size()) {
                throw CliException.error("token id " + id + " is out of range (the vocabulary has ids 0.."
                        + (tok.size() - 1) + ")");
            }
        }
        return tok.decode(ids);
    }
}
