package io.needle.cli;

import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException;
import io.needle.jvm.DownloadException;
import io.needle.jvm.Needle;
import io.needle.jvm.ModelCache;
import io.needle.safetensors.SafeTensors;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * Where a command that runs the model ({@code run}, {@code retrieve}, {@code needle QUERY TOOLS})
 * gets it: {@code --weights W --vocab V}, or neither for the default model in the model cache
 * ({@link ModelCache}: {@code $NEEDLE_HOME}, else the user cache directory + {@code needle-java}),
 * downloaded on first use from {@code --hub-url} / {@code $NEEDLE_HUB_URL} / Hugging Face with a
 * progress bar on stderr. Each downloaded file's hash is checked: against {@code --weights-sha256}
 * / {@code --vocab-sha256} or {@code $NEEDLE_WEIGHTS_SHA256} / {@code $NEEDLE_VOCAB_SHA256} when
 * given (the option wins; a pinned cached file is also hashed at every load), else against what
 * the hub announces; stderr says which, or that a file could not be verified.
 *
 * <pre>
 * // in a command: add ModelFiles.OPTIONS to its value options, then
 * NeedleEngine engine = ModelFiles.resolve(args, inputs, err).load(args.flag(ModelFiles.PORTABLE));
 * </pre>
 */
final class ModelFiles {
    /** The value options of a command that runs the model. */
    static final List<String> OPTIONS = List.of("weights", "vocab", "hub-url", "weights-sha256", "vocab-sha256");
    /** The options pinning the default model's files' sha256 (the environment variables' counterparts). */
    static final List<String> SHA256_OPTIONS = List.of("weights-sha256", "vocab-sha256");
    /** The flag of a command that runs the model: {@code --portable} (the portable kernels, one thread). */
    static final String PORTABLE = "portable";

    /** Path of the weights file. */
    final String weights;
    /** Path of the vocabulary file. */
    final String vocab;
    /** The model cache when the files are the cached default model, else null. */
    final ModelCache cache;

    private ModelFiles(String weights, String vocab, ModelCache cache) {
        this.weights = weights;
        this.vocab = vocab;
        this.cache = cache;
    }

    /** The files named by the {@link #OPTIONS} of {@code a}, downloading the default model when needed. */
    static ModelFiles resolve(Args a, Inputs inputs, PrintStream err) {
        return resolve(a, a.value("weights"), a.value("vocab"), inputs, err);
    }

    /** As {@link #resolve(Args, Inputs, PrintStream)} with the files named elsewhere (positionals). */
    static ModelFiles resolve(Args a, String weights, String vocab, Inputs inputs, PrintStream err) {
        return resolve(a.command(), weights, vocab, a.value("hub-url"), a.value("weights-sha256"),
                a.value("vocab-sha256"), inputs, err);
    }

    /**
     * {@code weights} and {@code vocab} when both are given; neither: the cached default model
     * (downloaded from {@code hubUrl}, or the environment's hub, when missing, with the sha256 pins
     * of the options and the environment); one alone is a usage error.
     */
    static ModelFiles resolve(String command, String weights, String vocab, String hubUrl, String weightsSha256,
            String vocabSha256, Inputs inputs, PrintStream err) {
        if (weights != null && vocab != null) {
            if (hubUrl != null) {
                throw CliException.usage("--hub-url is for the default model; it cannot be used with --weights and"
                        + " --vocab");
            }
            if (weightsSha256 != null || vocabSha256 != null) {
                throw CliException.usage("--" + (weightsSha256 != null ? "weights" : "vocab") + "-sha256 is for the"
                        + " default model; it cannot be used with --weights and --vocab");
            }
            return new ModelFiles(weights, vocab, null);
        }
        if (weights != null || vocab != null) {
            throw CliException.usage("'" + command + "' needs both --weights and --vocab, or neither to use the"
                    + " default model (downloaded on first use; see needle --help)");
        }
        Map<String, String> env = inputs.env();
        if (hubUrl != null) {
            hubUrl(hubUrl, env); // a bad --hub-url is an error even when nothing needs downloading
        }
        ModelCache cache = pinned(cache(env), env, weightsSha256, vocabSha256);
        if (!cache.isComplete()) {
            download(cache, hubUrl, env, err, false, "; pass --weights and --vocab, or set NEEDLE_HUB_URL");
        }
        return new ModelFiles(cache.weightsFile().toString(), cache.vocabFile().toString(), cache);
    }

    /**
     * Reads the files and loads the engine with the host's fastest kernels, or the portable ones
     * when {@code portable}; errors name the file (and the cache, for the default model).
     */
    NeedleEngine load(boolean portable) {
        byte[] w = Inputs.readFile("weights", weights);
        if (cache == null) {
            return engine(w, Inputs.readTextFile("vocab", vocab), portable);
        }
        byte[] vocabBytes = Inputs.readFile("vocab", vocab);
        try {
            cache.checkPinned(ModelCache.WEIGHTS_FILE, w);
            cache.checkPinned(ModelCache.VOCAB_FILE, vocabBytes);
        } catch (DownloadException e) {
            throw CliException.error(e.getMessage() + "; 'needle download --force' downloads it again");
        }
        String v = Inputs.readTextFile("vocab", vocab);
        try {
            return engine(w, v, portable);
        } catch (NeedleException e) {
            throw new NeedleException(e.kind(), e.getMessage() + " (the cached default model in " + cache.directory()
                    + "; 'needle cache clear' removes it, or pass --weights and --vocab)");
        }
    }

    /**
     * {@link NeedleEngine#load} with the host's fastest kernels ({@link Needle.Kernels#FASTEST}), or
     * the portable ones when {@code portable}: the same tokens either way. A weight file in another
     * tensor layout is told which layout is read.
     */
    static NeedleEngine engine(byte[] weights, String vocab, boolean portable) {
        return NeedleEngine.load(weights, vocab, Needle.kernels(portable ? Needle.Kernels.PORTABLE : Needle.Kernels.FASTEST));
    }

    /** The model cache of {@code env} (NEEDLE_HOME, XDG_CACHE_HOME, LOCALAPPDATA) and this platform. */
    static ModelCache cache(Map<String, String> env) {
        try {
            return ModelCache.at(ModelCache.defaultDirectory(env, System.getProperty("os.name", ""),
                    System.getProperty("user.home", "")));
        } catch (IllegalStateException e) {
            throw CliException.error(e.getMessage());
        }
    }

    /**
     * {@code cache} with the sha256 pins of {@code env} ({@code NEEDLE_WEIGHTS_SHA256},
     * {@code NEEDLE_VOCAB_SHA256}) and of the options {@code --weights-sha256} and
     * {@code --vocab-sha256} (which win); a value that is not a sha256 is an error naming where it
     * came from (a usage error for an option).
     */
    static ModelCache pinned(ModelCache cache, Map<String, String> env, String weightsSha256, String vocabSha256) {
        ModelCache c;
        try {
            c = cache.withSha256From(env);
        } catch (IllegalArgumentException e) {
            throw CliException.error(e.getMessage());
        }
        try {
            if (weightsSha256 != null) {
                c = c.withSha256(ModelCache.WEIGHTS_FILE, weightsSha256, "--weights-sha256");
            }
            if (vocabSha256 != null) {
                c = c.withSha256(ModelCache.VOCAB_FILE, vocabSha256, "--vocab-sha256");
            }
        } catch (IllegalArgumentException e) {
            throw CliException.usage("option " + e.getMessage());
        }
        return c;
    }

    /** The hub URL: the {@code --hub-url} option, else NEEDLE_HUB_URL, else Hugging Face. */
    static String hubUrl(String option, Map<String, String> env) {
        try {
            return ModelCache.hubUrl(option, env);
        } catch (IllegalArgumentException e) {
            throw option != null ? CliException.usage(e.getMessage()) : CliException.error(e.getMessage());
        }
    }

    /**
     * Downloads into {@code cache} with a progress bar and the hash checks on {@code err};
     * {@code hint} ends the error message (not that of a hash mismatch, which no mirror or network
     * setting explains away).
     */
    static void download(ModelCache cache, String hubOption, Map<String, String> env, PrintStream err, boolean force,
            String hint) {
        String hub = hubUrl(hubOption, env);
        try {
            cache.download(hub, ProgressBar.forStderr(err, env), force);
        } catch (DownloadException e) {
            throw CliException.error(e.getMessage()
                    + (e.kind() == DownloadException.Kind.HASH_MISMATCH ? "" : hint));
        }
    }
}
