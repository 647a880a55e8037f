package io.needle.cli;

import io.needle.jvm.ModelCache;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code needle cache [show | dir | clear | verify]}: the model cache that holds the default model.
 * <ul>
 *   <li>{@code show} (the default): the directory, the hub it downloads from, then one line per
 *       file, {@code NAME: N bytes} (plus {@code , sha256 HEX} when its hash was recorded at
 *       download) or {@code NAME: not downloaded}, and any unfinished download;</li>
 *   <li>{@code dir}: the directory alone, one line (for scripts);</li>
 *   <li>{@code clear}: deletes the model files, their hash records and unfinished downloads,
 *       nothing else;</li>
 *   <li>{@code verify}: hashes the cached files again and compares them with the sha256 recorded
 *       at download and with the pins of NEEDLE_WEIGHTS_SHA256 / NEEDLE_VOCAB_SHA256: one line per
 *       file, or an error (exit 1) naming the file that differs.</li>
 * </ul>
 */
final class CacheCommand {
    private CacheCommand() {
    }

    static int run(String[] argv, int from, Inputs inputs, PrintStream out) {
        Args a = Args.parse("cache", argv, from, List.of(), List.of());
        List<String> p = a.positionals();
        String action = p.isEmpty() ? "show" : p.get(0);
        if (p.size() > 1) {
            throw CliException.usage("'cache': unexpected argument '" + p.get(1) + "' (see needle --help)");
        }
        ModelCache cache = ModelFiles.cache(inputs.env());
        switch (action) {
            case "show":
                show(cache, ModelFiles.hubUrl(null, inputs.env()), out);
                break;
            case "dir":
                out.print(cache.directory() + "\n");
                break;
            case "clear":
                clear(cache, out);
                break;
            case "verify":
                verify(ModelFiles.pinned(cache, inputs.env(), null, null), out);
                break;
            default:
                throw CliException.usage("'cache': unknown action '" + action + "' (show, dir, clear or verify)");
        }
        out.flush();
        return Main.EXIT_OK;
    }

    private static void show(ModelCache cache, String hub, PrintStream out) {
        out.print("directory: " + cache.directory() + "\n");
        out.print("hub: " + hub + "\n");
        for (Path f : new Path[] {cache.weightsFile(), cache.vocabFile()}) {
            String recorded = cache.recordedSha256(f.getFileName().toString());
            out.print(f.getFileName() + ": " + (Files.isRegularFile(f) ? size(f) + " bytes"
                    + (recorded == null ? "" : ", sha256 " + recorded) : "not downloaded") + "\n");
        }
        for (Path part : cache.partialDownloads()) {
            out.print("unfinished download: " + part.getFileName() + " (" + size(part)
                    + " bytes; the next download resumes it)\n");
        }
    }

    private static void clear(ModelCache cache, PrintStream out) {
        List<Path> removed;
        try {
            removed = cache.clear();
        } catch (IOException e) {
            throw CliException.error("cannot clear the model cache " + cache.directory() + ": " + e.getMessage());
        }
        out.print(removed.isEmpty() ? "nothing to remove in " + cache.directory() + "\n"
                : "removed " + removed.size() + " file" + (removed.size() == 1 ? "" : "s") + " from "
                        + cache.directory() + "\n");
    }

    /** Hashes each cached file; prints a line per file, or fails naming the first that differs. */
    private static void verify(ModelCache cache, PrintStream out) {
        StringBuilder lines = new StringBuilder();
        for (Path f : new Path[] {cache.weightsFile(), cache.vocabFile()}) {
            String name = f.getFileName().toString();
            if (!Files.isRegularFile(f)) {
                lines.append(name).append(": not downloaded\n");
                continue;
            }
            String actual;
            try {
                actual = ModelCache.sha256Of(f);
            } catch (IOException e) {
                throw CliException.error("cannot read " + f + ": " + e.getMessage());
            }
            String recorded = cache.recordedSha256(name);
            String pin = cache.pinnedSha256(name);
            String variable = name.equals(ModelCache.WEIGHTS_FILE) ? ModelCache.WEIGHTS_SHA256_VARIABLE
                    : ModelCache.VOCAB_SHA256_VARIABLE;
            if (recorded != null && !recorded.equals(actual)) {
                throw CliException.error("the cached " + name + " in " + cache.directory() + " has sha256 " + actual
                        + ", not the " + recorded + " recorded when it was downloaded: it changed since; 'needle"
                        + " download --force' downloads it again");
            }
            if (pin != null && !pin.equals(actual)) {
                throw CliException.error("the cached " + name + " in " + cache.directory() + " has sha256 " + actual
                        + ", not the " + pin + " of " + variable + "; 'needle download' downloads the pinned one");
            }
            lines.append(name).append(": sha256 ").append(actual);
            if (recorded != null) {
                lines.append(", as recorded at download");
            } else {
                lines.append(", no record to compare with (downloaded by an older version)");
            }
            if (pin != null) {
                lines.append(", as ").append(variable).append(" pins");
            }
            lines.append('\n');
        }
        out.print(lines);
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return 0;
        }
    }
}
