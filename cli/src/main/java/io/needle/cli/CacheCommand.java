package io.needle.cli;

import io.needle.jvm.ModelCache;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code needle cache [show | dir | clear]}: the model cache that holds the default model.
 * <ul>
 *   <li>{@code show} (the default): the directory, the hub it downloads from, then one line per
 *       file, {@code NAME: N bytes} or {@code NAME: not downloaded}, and any unfinished download;</li>
 *   <li>{@code dir}: the directory alone, one line (for scripts);</li>
 *   <li>{@code clear}: deletes the model files and unfinished downloads, nothing else.</li>
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
            default:
                throw CliException.usage("'cache': unknown action '" + action + "' (show, dir or clear)");
        }
        out.flush();
        return Main.EXIT_OK;
    }

    private static void show(ModelCache cache, String hub, PrintStream out) {
        out.print("directory: " + cache.directory() + "\n");
        out.print("hub: " + hub + "\n");
        for (Path f : new Path[] {cache.weightsFile(), cache.vocabFile()}) {
            out.print(f.getFileName() + ": " + (Files.isRegularFile(f) ? size(f) + " bytes" : "not downloaded") + "\n");
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

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return 0;
        }
    }
}
