package io.needle.testing;

import io.needle.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The shared spec and fixtures beside the checkout ({@code ../shared}, system property needle.shared). */
public final class Shared {
    private Shared() {
    }

    public static Path dir() {
        String shared = System.getProperty("needle.shared");
        Path p = shared != null ? Paths.get(shared) : Paths.get("..", "shared");
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("the shared fixtures folder is missing: " + p.toAbsolutePath());
        }
        return p;
    }

    public static Path fixture(String relative) {
        return dir().resolve("fixtures").resolve(relative);
    }

    public static byte[] bytes(String relative) {
        try {
            return Files.readAllBytes(fixture(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String text(String relative) {
        return new String(bytes(relative), StandardCharsets.UTF_8);
    }

    /** The fixture vocabulary (8192 pieces). */
    public static String vocab() {
        return text("tokenizer/vocab.txt");
    }

    /** The parity model names p1, p2, … present in fixtures/parity. */
    public static List<String> parityModels() {
        List<String> names = new ArrayList<>();
        try (var files = Files.list(fixture("parity"))) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).sorted()
                    .forEach(n -> names.add(n.substring(0, n.length() - 5)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return names;
    }

    /** The parsed pN.json of a parity model. */
    public static Map<?, ?> parityCases(String model) {
        return (Map<?, ?>) Json.parse(text("parity/" + model + ".json"));
    }
}
