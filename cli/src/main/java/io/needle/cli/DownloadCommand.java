package io.needle.cli;

import io.needle.jvm.ModelCache;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code needle download [--hub-url URL] [--force] [--weights-sha256 H] [--vocab-sha256 H]}: puts
 * the default model ({@code needle.safetensors} and {@code vocab.txt}) in the model cache now, with
 * a progress bar on stderr and a line per file saying how its hash was checked (against the pins
 * of the options or of NEEDLE_WEIGHTS_SHA256 / NEEDLE_VOCAB_SHA256, else against the hub's), and
 * prints the two paths. Files already there are kept unless {@code --force} is given (or a pinned
 * one's recorded sha256 is not its pin); a file whose hash does not match is not installed (exit 1).
 */
final class DownloadCommand {
    private DownloadCommand() {
    }

    static int run(String[] argv, int from, Inputs inputs, PrintStream out, PrintStream err) {
        Args a = Args.parse("download", argv, from, List.of("hub-url", "weights-sha256", "vocab-sha256"),
                List.of("force"));
        a.expectPositionals(0, "no arguments");
        ModelCache cache = ModelFiles.pinned(ModelFiles.cache(inputs.env()), inputs.env(), a.value("weights-sha256"),
                a.value("vocab-sha256"));
        boolean force = a.flag("force");
        if (force || !cache.isComplete()) {
            ModelFiles.download(cache, a.value("hub-url"), inputs.env(), err, force,
                    "; check the network (a proxy: NEEDLE_JAVA_OPTS=\"-Dhttps.proxyHost=H -Dhttps.proxyPort=P\"),"
                            + " or set NEEDLE_HUB_URL to a mirror");
        } else {
            ModelFiles.hubUrl(a.value("hub-url"), inputs.env()); // a bad URL is still an error
            err.print("needle: the default model is already in " + cache.directory()
                    + " (--force downloads it again)\n");
        }
        out.print(cache.weightsFile() + "\n" + cache.vocabFile() + "\n");
        out.flush();
        return Main.EXIT_OK;
    }
}
