package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.json.Json;
import io.needle.testing.ParityRule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tokenize} and {@code detokenize}, single and JSONL, against the tokenizer fixture. */
class TokenizeCommandTest {
    private static final String VOCAB = Cli.fixtureString("tokenizer/vocab.txt");

    @TempDir
    Path tmp;

    /** The fixture's cases of one kind, as parsed JSON objects. */
    private static List<Map<?, ?>> cases(String kind) throws IOException {
        List<Map<?, ?>> out = new ArrayList<>();
        for (String line : Files.readAllLines(Cli.fixture("tokenizer/cases.jsonl"), StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            Map<?, ?> c = (Map<?, ?>) Json.parse(line);
            if (kind.equals(c.get("kind"))) {
                out.add(c);
            }
        }
        return out;
    }

    private static String ids(Object jsonArray) {
        return TokenizeCommand.ids(ParityRule.ints(jsonArray));
    }

    @Test
    void tokenizeOneText() {
        Cli r = Cli.run("tokenize", "--vocab", VOCAB, "Hello world").ok();
        assertEquals(TokenizeCommand.ids(TokenizeCommand.loadTokenizer(VOCAB).encode("Hello world")), r.line());
        assertEquals("", Cli.run("tokenize", "--vocab", VOCAB, "").ok().line());
    }

    @Test
    void tokenizeJsonlMatchesEveryEncodeCase() throws IOException {
        List<Map<?, ?>> cases = cases("encode");
        StringBuilder in = new StringBuilder();
        for (Map<?, ?> c : cases) {
            in.append(Json.writeAscii(c.get("text"))).append('\n');
        }
        String[] lines = Cli.runWithInput(in.toString(), "tokenize", "--vocab", VOCAB, "--jsonl").ok().lines();
        assertEquals(cases.size(), lines.length);
        for (int i = 0; i < lines.length; i++) {
            assertEquals(ids(cases.get(i).get("ids")), lines[i], "case " + i + ": " + cases.get(i).get("text"));
        }
    }

    @Test
    void tokenizeSingleMatchesEncodeCasesWithoutLineBreaks() throws IOException {
        int checked = 0;
        for (Map<?, ?> c : cases("encode")) {
            String text = (String) c.get("text");
            if (text.contains("\n") || text.contains("\r") || text.startsWith("-") || text.startsWith("@")) {
                continue;
            }
            assertEquals(ids(c.get("ids")), Cli.run("tokenize", "--vocab", VOCAB, text).ok().line(), text);
            if (++checked == 40) {
                break;
            }
        }
        assertTrue(checked > 10);
    }

    @Test
    void textFromStdinAndFile() {
        String expected = Cli.run("tokenize", "--vocab", VOCAB, "café au lait").ok().line();
        assertEquals(expected, Cli.runWithInput("café au lait\n", "tokenize", "--vocab", VOCAB, "-").ok().line());
        assertEquals(expected, Cli.runWithInput("café au lait", "tokenize", "--vocab", VOCAB, "-").ok().line());
        Path f = Cli.write(tmp, "text.txt", "café au lait\r\n");
        assertEquals(expected, Cli.run("tokenize", "--vocab", VOCAB, "@" + f).ok().line());
        assertEquals(expected, Cli.run("tokenize", "--vocab=" + VOCAB, "--", "café au lait").ok().line());
        Cli.run("tokenize", "--vocab", VOCAB, "@" + tmp.resolve("missing.txt"))
                .fails(Main.EXIT_ERROR, "cannot read text file");
        Path bad = Cli.write(tmp, "bad.txt", new byte[] {'a', (byte) 0xff, 'b'});
        Cli.run("tokenize", "--vocab", VOCAB, "@" + bad).fails(Main.EXIT_ERROR, "is not valid UTF-8 (bad byte at offset 1)");
    }

    @Test
    void jsonlBadLinesGiveErrorLinesInPlace() {
        byte[] in = ("\"a\"\n[1,2]\nnot json\n\n\"b\"\r\n\"c\"").getBytes(StandardCharsets.UTF_8);
        byte[] withBadUtf8 = new byte[in.length + 3];
        System.arraycopy(in, 0, withBadUtf8, 0, in.length);
        withBadUtf8[in.length] = '\n';
        withBadUtf8[in.length + 1] = (byte) 0xc3;
        withBadUtf8[in.length + 2] = '\n';
        String[] lines = Cli.runWithInput(withBadUtf8, "tokenize", "--vocab", VOCAB, "--jsonl").ok().lines();
        String a = Cli.run("tokenize", "--vocab", VOCAB, "a").line();
        assertEquals(7, lines.length, String.join("|", lines));
        assertEquals(a, lines[0]);
        assertEquals("error: expected a JSON string, got an array", lines[1]);
        assertTrue(lines[2].startsWith("error: invalid JSON"), lines[2]);
        assertEquals("error: empty input line", lines[3]);
        assertEquals(Cli.run("tokenize", "--vocab", VOCAB, "b").line(), lines[4]);
        assertEquals(Cli.run("tokenize", "--vocab", VOCAB, "c").line(), lines[5]);
        assertTrue(lines[6].startsWith("error: input line is not valid UTF-8"), lines[6]);
    }

    @Test
    void jsonlWithNoInputPrintsNothing() {
        assertEquals("", Cli.run("tokenize", "--vocab", VOCAB, "--jsonl").ok().out);
        Cli.run("tokenize", "--vocab", VOCAB, "--jsonl", "x").fails(Main.EXIT_USAGE, "unexpected argument 'x'");
    }

    /** detokenize --vocab VOCAB ID ID ... (one argument per id). */
    private static String[] detokenizeArgs(String spaceSeparatedIds) {
        List<String> a = new ArrayList<>(List.of("detokenize", "--vocab", VOCAB));
        a.addAll(List.of(spaceSeparatedIds.split(" ")));
        return a.toArray(new String[0]);
    }

    @Test
    void detokenizeIds() {
        String ids = Cli.run("tokenize", "--vocab", VOCAB, "Hello world").ok().line();
        assertEquals("Hello world", Cli.run(detokenizeArgs(ids)).ok().line());
        assertEquals("Hello world", Cli.run("detokenize", "--vocab", VOCAB, ids.replace(' ', ',')).ok().line());
        Cli.run("detokenize", "--vocab", VOCAB, "1", "99999").fails(Main.EXIT_ERROR, "token id 99999 is out of range");
        Cli.run("detokenize", "--vocab", VOCAB, "x").fails(Main.EXIT_ERROR, "'x' is not a token id");
        Cli.run("detokenize", "--vocab", VOCAB).fails(Main.EXIT_USAGE, "needs token IDs");
    }

    @Test
    void detokenizeJsonlMatchesEveryDecodeCase() throws IOException {
        List<Map<?, ?>> cases = cases("decode");
        StringBuilder in = new StringBuilder();
        for (Map<?, ?> c : cases) {
            in.append(Json.write(c.get("ids"))).append('\n');
        }
        in.append("[1,\"x\"]\n").append("{}\n").append("[999999]\n");
        String[] lines = Cli.runWithInput(in.toString(), "detokenize", "--vocab", VOCAB, "--jsonl").ok().lines();
        assertEquals(cases.size() + 3, lines.length);
        for (int i = 0; i < cases.size(); i++) {
            assertTrue(lines[i].chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f), "ASCII only: " + lines[i]);
            assertEquals(cases.get(i).get("text"), Json.parse(lines[i]), "case " + i);
        }
        assertEquals("error: the line[1] must be an integer, got a string", lines[cases.size()]);
        assertEquals("error: the line must be a JSON array of token ids, got an object", lines[cases.size() + 1]);
        assertTrue(lines[cases.size() + 2].startsWith("error: token id 999999 is out of range"));
    }

    @Test
    void outputIsUtf8WithLf() {
        String ids = Cli.run("tokenize", "--vocab", VOCAB, "naïve 東京 😀").ok().line();
        Cli r = Cli.run(detokenizeArgs(ids)).ok();
        assertEquals("naïve 東京 😀\n", r.out);
    }

    @Test
    void badVocabFile() {
        Path v = Cli.write(tmp, "vocab.txt", "not a vocab\n");
        Cli r = Cli.run("tokenize", "--vocab", v.toString(), "x");
        assertEquals(Main.EXIT_ERROR, r.status);
        assertTrue(r.err.startsWith("needle: error: ") && r.err.indexOf('\n') == r.err.length() - 1, r.err);
    }
}
