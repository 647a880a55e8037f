package io.needle.cli;

import io.needle.engine.NeedleEngine;
import io.needle.engine.RunOptions;
import io.needle.engine.RunResult;
import io.needle.json.Json;
import io.needle.jvm.ParallelKernels;
import io.needle.jvm.VectorKernels;
import io.needle.model.Config;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code needle bench}: the benchmark of BENCHMARKS.md. Two workloads on the full-size random
 * model ({@link ModelWriter#fullSize()}, seed 1, with {@link TestVocab#wordPrefixes} 8192, seed 1),
 * decoding constrained with eos ignored so every run does the same work:
 * <ul>
 *   <li>standard: a query plus two tools, about 120 encoder tokens (128 with the bench
 *       vocabulary), exactly 32 decode steps;</li>
 *   <li>weather: the needle-rs example (its query and get_weather tool), 20 decode steps.</li>
 * </ul>
 * Each run loads the engine from the weight bytes and runs the request once; the figures are
 * medians over {@code --runs} runs after {@code --warmup} unmeasured ones. Then the roofline: this
 * machine's measured multiply-add rate and memory bandwidth ({@link Roofline}), the workload's
 * arithmetic and bytes counted from the config, and the fraction of that bound the engine reaches.
 */
final class BenchCommand {
    /** The standard workload's query (with {@link #TOOLS}: about 120 encoder tokens with the bench vocabulary). */
    static final String QUERY = "Text Maria that I will be late and remind me at 6 pm.";

    /** Two tools in the needle-rs flat form. */
    static final String TOOLS = "["
            + "{\"name\":\"send_message\",\"description\":\"Send a text\",\"parameters\":{"
            + "\"recipient\":{\"type\":\"string\",\"required\":true},"
            + "\"text\":{\"type\":\"string\",\"required\":true}}},"
            + "{\"name\":\"set_reminder\",\"description\":\"Create a reminder\",\"parameters\":{"
            + "\"time\":{\"type\":\"string\",\"required\":true}}}]";

    /** The needle-rs example: its query and its get_weather tool. */
    static final String WEATHER_QUERY = "What's the weather in San Francisco?";
    static final String WEATHER_TOOLS = "[{\"name\":\"get_weather\",\"description\":\"Get current weather for a city\","
            + "\"parameters\":{\"location\":{\"type\":\"string\",\"description\":\"City name\",\"required\":true}}}]";

    static final long SEED = 1;
    static final int STANDARD_STEPS = 32;
    static final int WEATHER_STEPS = 20;

    private static final List<String> VALUE_OPTIONS = List.of("runs", "warmup", "weights", "vocab", "save", "threads",
            "kernels");
    private static final List<String> FLAGS = List.of("json", "no-roofline", "quick", "no-constrain", "batch");

    private BenchCommand() {
    }

    /** One workload's measured medians. */
    static final class Result {
        final String name;
        final int encoderTokens;
        final int decodeSteps;
        final double loadMs;
        final double encodeMs;
        final double decodeMs;
        final double endToEndMs;
        double warmEncodeMs; // the same request again on an engine that has served it (no load, nothing first-time)
        double warmDecodeMs;
        String query;
        String tools;
        int[] tokens;

        Result(String name, int encoderTokens, int decodeSteps, double loadMs, double encodeMs, double decodeMs,
                double endToEndMs) {
            this.name = name;
            this.encoderTokens = encoderTokens;
            this.decodeSteps = decodeSteps;
            this.loadMs = loadMs;
            this.encodeMs = encodeMs;
            this.decodeMs = decodeMs;
            this.endToEndMs = endToEndMs;
        }

        double encoderTokensPerSecond() {
            return encoderTokens / (encodeMs / 1000);
        }

        double decodeTokensPerSecond() {
            return decodeSteps / (decodeMs / 1000);
        }
    }

    static int run(String[] argv, int from, PrintStream out) {
        Args a = Args.parse("bench", argv, from, VALUE_OPTIONS, FLAGS);
        a.expectPositionals(0, "no arguments");
        boolean quick = a.flag("quick");
        int runs = intOption(a, "runs", quick ? 3 : 7, 1, 1000);
        int warmup = intOption(a, "warmup", quick ? 1 : 3, 0, 1000);
        String kernelsName = a.value("kernels");
        if (kernelsName == null) { // the fastest one-thread kernels, or (--threads N) the portable ones split
            kernelsName = a.value("threads") != null && !"1".equals(a.value("threads")) ? "parallel"
                    : VectorKernels.available() ? "vector" : "portable";
        }
        if (!List.of("portable", "parallel", "vector").contains(kernelsName)) {
            throw CliException.usage("--kernels must be portable, parallel or vector, got '" + kernelsName + "'");
        }
        if (kernelsName.equals("vector") && !VectorKernels.available()) {
            throw CliException.usage("--kernels vector needs the Vector API: run java with --add-modules jdk.incubator.vector");
        }
        int threads = intOption(a, "threads", kernelsName.equals("parallel") ? 2 : 1, 1, 64);
        if (kernelsName.equals("portable") && threads != 1) {
            throw CliException.usage("--kernels portable runs on one thread (--threads 1)");
        }
        byte[] weights;
        String vocab;
        String modelName;
        if (a.value("weights") != null || a.value("vocab") != null) {
            weights = Inputs.readFile("weights", a.required("weights"));
            vocab = new String(Inputs.readFile("vocab", a.required("vocab")), StandardCharsets.UTF_8);
            ModelFiles.engine(weights, vocab, true); // a bad file is one clear error before anything is measured
            modelName = "file " + a.value("weights");
        } else {
            weights = ModelWriter.fullSize().seed(SEED).build();
            vocab = TestVocab.wordPrefixes(8192, SEED);
            modelName = "random full-size model (" + ModelWriter.fullSize().describe() + ", seed " + SEED + ")";
        }
        if (a.value("save") != null) {
            save(Paths.get(a.value("save")), weights, vocab);
        }
        boolean json = a.flag("json");
        constrain = !a.flag("no-constrain");
        batch = null;
        PrintStream log = json ? new PrintStream(java.io.OutputStream.nullOutputStream()) : out;
        log.print("needle bench: " + modelName + ", " + String.format("%.1f", weights.length / 1e6) + " MB; Java "
                + System.getProperty("java.version") + ", " + Runtime.getRuntime().availableProcessors()
                + " cores; " + kernelsName + " kernels"
                + (kernelsName.equals("vector") ? " (" + VectorKernels.describe() + ")" : "")
                + (threads == 1 ? ", one thread" : " on " + threads + " threads")
                + (constrain ? "" : "; not constrained (full logits every step)")
                + "; medians of " + runs + " runs after " + warmup + " warm-up runs\n");
        if (kernelsName.equals("vector")) {
            VectorKernels.create();
            try {
                VectorKernels.warmUp(); // measure the compiled vector code, not the portable code of a cold start
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!VectorKernels.warm()) {
                log.print("note: the Vector API kernels did not become faster than the portable ones in the warm-up:"
                        + " some kernels run the portable code\n");
            }
        }
        resetPeaks();
        List<Result> results = new ArrayList<>();
        try (ParallelKernels kernels = new ParallelKernels(threads,
                kernelsName.equals("vector") ? VectorKernels.create() : null)) {
            results.add(measure("standard", weights, vocab, QUERY, TOOLS, STANDARD_STEPS, runs, warmup, kernels));
            results.add(measure("weather", weights, vocab, WEATHER_QUERY, WEATHER_TOOLS, WEATHER_STEPS, runs, warmup,
                    kernels));
            if (a.flag("batch")) {
                batch = batch(weights, vocab, runs, warmup, kernels);
            }
        }
        long heapPeak = heapPeakBytes();
        long rssPeak = rssPeakBytes();
        for (Result r : results) {
            log.print(String.format("%-9s encoder %4d tokens  load %6.1f ms  encode %7.1f ms (%6.0f tokens/s)  "
                    + "decode %2d steps %7.1f ms (%6.1f tokens/s)  end-to-end %7.1f ms%n", r.name, r.encoderTokens,
                    r.loadMs, r.encodeMs, r.encoderTokensPerSecond(), r.decodeSteps, r.decodeMs,
                    r.decodeTokensPerSecond(), r.endToEndMs));
            log.print(String.format("%-9s warm engine (the request again on the same engine): encode %7.1f ms, decode"
                    + " %7.1f ms (%.2f ms/step)%n", "", r.warmEncodeMs, r.warmDecodeMs, r.warmDecodeMs / r.decodeSteps));
        }
        if (batch != null) {
            log.print(String.format("batch     the standard tools, 8 queries, %d steps each: 8 sequential runs %.1f ms,"
                    + " runBatch of 8 %.1f ms: %.2fx the throughput%n", STANDARD_STEPS, batch[0], batch[1],
                    batch[0] / batch[1]));
        }
        log.print(String.format("peak memory: Java heap %.1f MB, process RSS %s (weights %.1f MB)%n", heapPeak / 1e6,
                rssPeak < 0 ? "n/a" : String.format("%.1f MB", rssPeak / 1e6), weights.length / 1e6));

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("engine", "jvm");
        report.put("java", System.getProperty("java.version"));
        report.put("model", modelName);
        report.put("weights_bytes", (long) weights.length);
        report.put("runs", runs);
        report.put("warmup", warmup);
        report.put("threads", threads);
        report.put("kernels", kernelsName);
        List<Object> list = new ArrayList<>();
        for (Result r : results) {
            list.add(toJson(r));
        }
        report.put("workloads", list);
        report.put("constrained", constrain);
        if (batch != null) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("sequential_ms", round(batch[0]));
            b.put("batch_ms", round(batch[1]));
            b.put("throughput_ratio", round(batch[0] / batch[1]));
            report.put("batch", b);
        }
        report.put("heap_peak_bytes", heapPeak);
        report.put("rss_peak_bytes", rssPeak);
        if (!a.flag("no-roofline")) {
            Config config = NeedleEngine.load(weights, null).config();
            Roofline.Machine m = Roofline.measure(quick);
            log.print(m.describe());
            List<Object> roof = new ArrayList<>();
            for (Result r : results) {
                Roofline.Work w = Roofline.work(config, r.encoderTokens, r.decodeSteps);
                log.print(Roofline.report(r.name, w, m, r.encodeMs, r.decodeMs));
                log.print(Roofline.warmReport(w, m, r.warmEncodeMs, r.warmDecodeMs, threads));
                roof.add(Roofline.toJson(r.name, w, m, r.encodeMs, r.decodeMs));
            }
            report.put("machine", m.toJson());
            report.put("roofline", roof);
        }
        if (json) {
            out.print(Json.write(report) + "\n");
        }
        out.flush();
        return Main.EXIT_OK;
    }

    /** The eight queries of the batch measurement (with {@link #TOOLS}). */
    static final List<String> BATCH_QUERIES = List.of(QUERY, "Remind me to call mom at 5 pm",
            "Send Bob a message saying the report is done", "Text Ana that I am on my way",
            "Set a reminder for the dentist tomorrow at 9", "Tell John the meeting moved to 3 pm",
            "Remind me at noon to take the pills", "Message Lea: dinner at 8?");

    /**
     * {@code --batch}: the eight {@link #BATCH_QUERIES} with the standard tools, {@link
     * #STANDARD_STEPS} steps each (eos ignored), run one after the other and as one runBatch,
     * alternating in the same loaded engine; returns the medians {sequential ms, batch ms}.
     */
    static double[] batch(byte[] weights, String vocab, int runs, int warmup, ParallelKernels kernels) {
        NeedleEngine engine = NeedleEngine.load(weights, vocab, kernels);
        RunOptions options = new RunOptions().maxNewTokens(STANDARD_STEPS).ignoreEos(true).constrain(constrain);
        List<io.needle.engine.BatchItem> items = new ArrayList<>();
        for (String q : BATCH_QUERIES) {
            items.add(new io.needle.engine.BatchItem(q, TOOLS));
        }
        double[] seq = new double[runs];
        double[] bat = new double[runs];
        for (int i = -warmup; i < runs; i++) {
            long t0 = System.nanoTime();
            List<int[]> single = new ArrayList<>();
            for (io.needle.engine.BatchItem it : items) {
                single.add(engine.run(it.query, it.tools, options).tokens);
            }
            long t1 = System.nanoTime();
            List<RunResult> batched = engine.runBatch(items, options);
            long t2 = System.nanoTime();
            for (int k = 0; k < items.size(); k++) {
                if (!Arrays.equals(single.get(k), batched.get(k).tokens)) {
                    throw new IllegalStateException("bench: runBatch gave other tokens than run for " + items.get(k).query);
                }
            }
            if (i >= 0) {
                seq[i] = (t1 - t0) / 1e6;
                bat[i] = (t2 - t1) / 1e6;
            }
        }
        return new double[] {median(seq), median(bat)};
    }

    /** Whether the workloads decode under the grammar (the default) or take full logits each step. */
    private static boolean constrain = true;
    private static double[] batch;

    /**
     * Runs the workload warmup + runs times, each time loading the engine (with {@code kernels}
     * installed: {@link ParallelKernels}, over the portable or the {@link VectorKernels} ones; the
     * portable kernels themselves with one thread and no inner kernels) and
     * running once.
     */
    static Result measure(String name, byte[] weights, String vocab, String query, String tools, int steps, int runs,
            int warmup, ParallelKernels kernels) {
        RunOptions options = new RunOptions().maxNewTokens(steps).ignoreEos(true).constrain(constrain);
        double[] load = new double[runs];
        double[] encode = new double[runs];
        double[] decode = new double[runs];
        double[] total = new double[runs];
        int tokens = 0;
        int[] ids = null;
        for (int i = -warmup; i < runs; i++) {
            long t0 = System.nanoTime();
            NeedleEngine engine = NeedleEngine.load(weights, vocab, kernels);
            RunResult r = engine.run(query, tools, options);
            double e2e = (System.nanoTime() - t0) / 1e6;
            if (r.tokens.length != steps) {
                throw new IllegalStateException("bench: expected " + steps + " tokens, got " + r.tokens.length);
            }
            tokens = r.timings.prefillTokens;
            ids = r.tokens;
            if (i >= 0) {
                load[i] = engine.loadMs();
                encode[i] = r.timings.encodeMs;
                decode[i] = r.timings.decodeMs;
                total[i] = e2e;
            }
        }
        Result result = new Result(name, tokens, steps, median(load), median(encode), median(decode), median(total));
        // a warm engine: what a service that keeps its engine pays per request (each run above is a
        // fresh engine's first request: its buffers made, the garbage of its load still collected)
        NeedleEngine engine = NeedleEngine.load(weights, vocab, kernels);
        double[] warmEncode = new double[runs];
        double[] warmDecode = new double[runs];
        for (int i = -Math.max(2, warmup); i < runs; i++) {
            RunResult r = engine.run(query, tools, options);
            if (!java.util.Arrays.equals(r.tokens, ids)) {
                throw new IllegalStateException("bench: a warm engine decoded other tokens than fresh ones");
            }
            if (i >= 0) {
                warmEncode[i] = r.timings.encodeMs;
                warmDecode[i] = r.timings.decodeMs;
            }
        }
        result.warmEncodeMs = median(warmEncode);
        result.warmDecodeMs = median(warmDecode);
        result.query = query;
        result.tools = tools;
        result.tokens = ids;
        return result;
    }

    static Map<String, Object> toJson(Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name);
        m.put("encoder_tokens", r.encoderTokens);
        m.put("decode_steps", r.decodeSteps);
        m.put("load_ms", round(r.loadMs));
        m.put("encode_ms", round(r.encodeMs));
        m.put("decode_ms", round(r.decodeMs));
        m.put("end_to_end_ms", round(r.endToEndMs));
        m.put("warm_encode_ms", round(r.warmEncodeMs));
        m.put("warm_decode_ms", round(r.warmDecodeMs));
        m.put("encoder_tokens_per_s", round(r.encoderTokensPerSecond()));
        m.put("decode_tokens_per_s", round(r.decodeTokensPerSecond()));
        m.put("query", r.query);
        m.put("tools", r.tools);
        List<Object> ids = new ArrayList<>();
        for (int id : r.tokens) {
            ids.add(id);
        }
        m.put("tokens", ids);
        return m;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static int intOption(Args a, String name, int dflt, int min, int max) {
        String v = a.value(name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw CliException.usage("--" + name + " must be an integer from " + min + " to " + max + ", got '" + v + "'");
    }

    private static void save(Path dir, byte[] weights, String vocab) {
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve("bench.safetensors"), weights);
            Files.write(dir.resolve("vocab.txt"), vocab.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw CliException.error("cannot write the benchmark model to " + dir + ": " + e.getMessage());
        }
    }

    private static void resetPeaks() {
        System.gc();
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            p.resetPeakUsage();
        }
    }

    /** Sum of the heap pools' peak usage since {@link #resetPeaks} (an upper bound of the live peak). */
    private static long heapPeakBytes() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** The process's peak resident set (VmHWM) on Linux; -1 elsewhere. */
    private static long rssPeakBytes() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String kb = line.substring(6).trim();
                    return Long.parseLong(kb.substring(0, kb.indexOf(' '))) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }
}
