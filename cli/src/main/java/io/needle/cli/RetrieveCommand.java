package io.needle.cli;

import io.needle.engine.NeedleEngine;
import io.needle.engine.ToolScore;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code needle retrieve [--weights W --vocab V] --query Q [--top-k K] DESCRIPTION...}: ranks the
 * descriptions by similarity to the query with the model's contrastive head
 * ({@link NeedleEngine#retrieveTools}) and prints one line per result, best first:
 * {@code index<TAB>score}, the index 0-based in the order the descriptions were given, the score
 * (cosine similarity, -1..1) with exactly 6 decimals ({@code 0.912345}). A DESCRIPTION or the query
 * may be {@code -} (standard input, once) or {@code @path}. A model without the head fails with one
 * clear error line.
 */
final class RetrieveCommand {
    private RetrieveCommand() {
    }

    static int run(String[] argv, int from, Inputs inputs, PrintStream out, PrintStream err) {
        List<String> valueOptions = new ArrayList<>(ModelFiles.OPTIONS);
        valueOptions.add("query");
        valueOptions.add("top-k");
        Args a = Args.parse("retrieve", argv, from, valueOptions, List.of(ModelFiles.PORTABLE));
        String queryArg = a.required("query");
        if (a.positionals().isEmpty()) {
            throw CliException.usage("'retrieve' needs at least one DESCRIPTION after the options (see needle --help)");
        }
        int topK = a.nonNegativeInt("top-k", NeedleEngine.DEFAULT_TOP_K);
        String query = inputs.text("query", queryArg);
        List<String> descriptions = new ArrayList<>();
        for (String d : a.positionals()) {
            descriptions.add(inputs.text("description " + (descriptions.size() + 1), d));
        }
        NeedleEngine engine = ModelFiles.resolve(a, inputs, err).load(a.flag(ModelFiles.PORTABLE));
        ToolScore[] ranked = engine.retrieveTools(query, descriptions, topK);
        StringBuilder sb = new StringBuilder();
        for (ToolScore s : ranked) {
            sb.append(s.index).append('\t').append(score(s.score)).append('\n');
        }
        out.print(sb);
        out.flush();
        return Main.EXIT_OK;
    }

    /** A score with exactly 6 decimals, half-up, {@code .} as the separator whatever the locale; no "-0". */
    static String score(float score) {
        if (Float.isNaN(score) || Float.isInfinite(score)) {
            return Float.toString(score);
        }
        String s = new BigDecimal(score).setScale(6, RoundingMode.HALF_UP).toPlainString();
        return s.equals("-0.000000") ? "0.000000" : s;
    }
}
