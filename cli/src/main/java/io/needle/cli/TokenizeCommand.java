package io.needle.cli;

import io.needle.json.Json;
import io.needle.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code needle tokenize --vocab V TEXT}: one line, the ids of TEXT space-separated.
 * {@code needle tokenize --vocab V --jsonl}: one JSON string per stdin line → one line of ids each.
 */
final class TokenizeCommand {
    private TokenizeCommand() {
    }

    static int run(String[] argv, int from, Inputs inputs, PrintStream out) {
        Args a = Args.parse("tokenize", argv, from, List.of("vocab"), List.of("jsonl"));
        String vocabPath = a.required("vocab");
        if (a.flag("jsonl")) {
            a.expectPositionals(0, "no TEXT with --jsonl (the texts come from standard input)");
        } else {
            a.expectPositionals(1, "a TEXT ('-' for standard input, '@path' for a file)");
        }
        String text = a.flag("jsonl") ? null : inputs.text("text", a.positionals().get(0));
        Tokenizer tok = loadTokenizer(vocabPath);
        if (text != null) {
            out.print(ids(tok.encode(text)) + "\n");
            return Main.EXIT_OK;
        }
        Jsonl.run(inputs.stdin("JSONL input"), out, line -> {
            Object v = Json.parse(line);
            if (!(v instanceof String)) {
                throw CliException.error("expected a JSON string, got " + Json.kindOf(v));
            }
            return ids(tok.encode((String) v));
        });
        return Main.EXIT_OK;
    }

    /** Reads and parses a vocab.txt file. */
    static Tokenizer loadTokenizer(String path) {
        return Tokenizer.fromVocab(Inputs.readTextFile("vocab", path));
    }

    /** Ids separated by single spaces ("" for none). */
    static String ids(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(ids[i]);
        }
        return sb.toString();
    }

    /**
     * Parses a list of token ids written as {@code 5,17,42}, {@code 5 17 42} or a mix; {@code what}
     * names the argument in errors. An empty list is allowed here (callers decide).
     */
    static int[] parseIds(String text, String what) {
        String[] parts = text.trim().split("[,\\s]+");
        if (parts.length == 1 && parts[0].isEmpty()) {
            return new int[0];
        }
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw CliException.error(what + ": '" + parts[i] + "' is not a token id (a non-negative integer)");
            }
            if (ids[i] < 0) {
                throw CliException.error(what + ": token id " + ids[i] + " is negative");
            }
        }
        return ids;
    }
}
