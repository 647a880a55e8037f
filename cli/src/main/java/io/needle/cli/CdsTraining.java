package io.needle.cli;

import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The training run of the class-data sharing archive ({@code cli/target/needle-cli.jsa}, made at
 * {@code mvn package}; see cli/pom.xml and the {@code ./needle} launcher): it runs the commands a
 * user starts most often, on a small random model written to a temporary folder, in a JVM started
 * with {@code -XX:ArchiveClassesAtExit}, so that every class they load (the command line, the
 * engine, the JDK classes and lambda forms beyond the JDK's own archive) is archived, and a later
 * {@code ./needle} maps them instead of loading, verifying and linking them again.
 *
 * <p>Not a command: {@code java -cp needle-cli.jar io.needle.cli.CdsTraining}. Prints one line; the
 * exit status is non-zero when a command failed (then the build fails: a broken command line).
 */
public final class CdsTraining {
    private CdsTraining() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("needle-cds-training");
        try {
            int failures = train(dir);
            System.out.println("needle: class-data sharing training run: " + (failures == 0 ? "ok" : failures
                    + " command(s) failed"));
            System.out.flush();
            if (failures != 0) {
                System.exit(1);
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Runs the commands on a small model in {@code dir}; returns how many failed. */
    static int train(Path dir) throws IOException {
        Path weights = dir.resolve("needle.safetensors");
        Path vocab = dir.resolve("vocab.txt");
        Files.write(weights, DemoCommand.model().build());
        Files.write(vocab, TestVocab.wordPrefixes(DemoCommand.VOCAB_SIZE, DemoCommand.SEED)
                .getBytes(StandardCharsets.UTF_8));
        String w = weights.toString();
        String v = vocab.toString();
        String query = DemoCommand.QUERIES.get(0);
        String tools = DemoCommand.TOOLS;
        String flatTools = BenchCommand.WEATHER_TOOLS;
        List<String[]> commands = new ArrayList<>();
        // the needle-rs form, the one to be fast (a short budget: the archive's JVM runs interpreted)
        commands.add(new String[] {w, v, query, flatTools, "--max-new-tokens", "24"});
        commands.add(new String[] {"run", "--weights", w, "--vocab", v, "--query", query, "--tools", tools,
                "--json", "--timings", "--max-new-tokens", "48"});
        commands.add(new String[] {"run", "--weights", w, "--vocab", v, "--query", query, "--tools", tools,
                "--stream", "--max-new-tokens", "48"});
        commands.add(new String[] {"tokenize", "--vocab", v, query});
        commands.add(new String[] {"prompt", "--vocab", v, "--query", query, "--tools", tools});
        commands.add(new String[] {"--version"});
        int failures = 0;
        for (String[] command : commands) {
            PrintStream out = discard();
            PrintStream err = discard();
            int status = Main.run(command, new ByteArrayInputStream(new byte[0]), out, err);
            if (status != Main.EXIT_OK) {
                System.err.println("needle: training command failed (" + status + "): " + String.join(" ", command));
                failures++;
            }
        }
        return failures;
    }

    private static PrintStream discard() {
        return new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8);
    }
}
