package io.needle.tokenizer;

import io.needle.json.Json;
import io.needle.json.JsonNumber;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Loads the shared tokenizer fixture (vocab.txt, cases.jsonl) at test time. */
final class TokenizerFixtures {
    /** One line of cases.jsonl. */
    static final class Case {
        final int line;
        final String kind;
        final String text;
        final int[] ids;

        Case(int line, String kind, String text, int[] ids) {
            this.line = line;
            this.kind = kind;
            this.text = text;
            this.ids = ids;
        }
    }

    private static Tokenizer tokenizer;
    private static List<Case> cases;

    private TokenizerFixtures() {
    }

    static Path dir() {
        String shared = System.getProperty("needle.shared");
        if (shared == null) {
            throw new IllegalStateException("system property needle.shared is not set");
        }
        return Paths.get(shared, "fixtures", "tokenizer");
    }

    static String vocabText() throws IOException {
        return new String(Files.readAllBytes(dir().resolve("vocab.txt")), StandardCharsets.UTF_8);
    }

    static synchronized Tokenizer tokenizer() throws IOException {
        if (tokenizer == null) {
            tokenizer = Tokenizer.fromVocab(vocabText());
        }
        return tokenizer;
    }

    static synchronized List<Case> cases() throws IOException {
        if (cases == null) {
            List<Case> list = new ArrayList<>();
            List<String> lines = Files.readAllLines(dir().resolve("cases.jsonl"), StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isEmpty()) {
                    continue;
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> obj = (Map<String, Object>) Json.parse(lines.get(i));
                List<?> idList = (List<?>) obj.get("ids");
                int[] ids = new int[idList.size()];
                for (int k = 0; k < ids.length; k++) {
                    ids[k] = (int) ((JsonNumber) idList.get(k)).longValue();
                }
                list.add(new Case(i + 1, (String) obj.get("kind"), (String) obj.get("text"), ids));
            }
            cases = list;
        }
        return cases;
    }
}
