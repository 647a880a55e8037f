package io.needle.cli;

import io.needle.base.NeedleException;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The {@code needle} command line (shared/spec/CLI.md). {@link #run} does all the work and returns
 * the exit status, so tests call it in-process; {@link #main} only binds it to the real streams
 * (UTF-8, whatever the platform default) and exits.
 *
 * <p>Errors are one line on stderr, {@code needle: error: MESSAGE}, with exit status
 * {@link #EXIT_ERROR} (or {@link #EXIT_USAGE} for a wrong command line); the stack trace follows
 * only with {@code --debug}.
 */
public final class Main {
    public static final int EXIT_OK = 0;
    public static final int EXIT_ERROR = 1;
    public static final int EXIT_USAGE = 2;

    static final List<String> COMMANDS =
            List.of("run", "tokenize", "detokenize", "generate", "prompt", "retrieve", "inspect", "bench",
                    "download", "cache", "demo", "serve");

    private Main() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(
                new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16), false,
                StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        int status = run(args, System.in, out, err);
        out.flush();
        err.flush();
        System.exit(status);
    }

    /**
     * Runs one command line. Output goes to {@code out} (flushed as produced in the streaming and
     * JSONL modes), diagnostics to {@code err}; {@code in} is read only when an input is {@code -}
     * or a JSONL mode is used. Returns the exit status; never throws.
     */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        return run(args, in, out, err, System.getenv());
    }

    /** {@link #run} with {@code env} as the environment variables (tests inject their own). */
    static int run(String[] args, InputStream in, PrintStream out, PrintStream err, Map<String, String> env) {
        boolean debug = Args.hasDebug(args);
        try {
            return dispatch(args, new Inputs(in, env), out, err);
        } catch (CliException e) {
            return fail(err, e.getMessage(), e, debug, e.exitCode());
        } catch (NeedleException e) {
            return fail(err, e.getMessage(), e, debug, EXIT_ERROR);
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            return fail(err, describeUnexpected(e), e, debug, EXIT_ERROR);
        } finally {
            out.flush();
        }
    }

    private static int dispatch(String[] args, Inputs inputs, PrintStream out, PrintStream err) {
        int first = 0;
        while (first < args.length && args[first].equals("--debug")) {
            first++;
        }
        if (first == args.length) {
            err.print(Usage.TEXT);
            return EXIT_USAGE;
        }
        String command = args[first];
        switch (command) {
            case "help":
            case "--help":
            case "-h":
                out.print(Usage.TEXT);
                return EXIT_OK;
            case "--version":
            case "version":
                out.print("needle " + version() + "\n");
                return EXIT_OK;
            default:
                break;
        }
        if (!COMMANDS.contains(command) && command.startsWith("-") && !command.equals("-")) {
            // options before any command: only the 4-argument form allows that
            return RunCommand.legacy(args, first, inputs, out, err);
        }
        if (wantsHelp(args, first)) {
            out.print(Usage.TEXT);
            return EXIT_OK;
        }
        switch (command) {
            case "run":
                return RunCommand.run(args, first + 1, inputs, out, err);
            case "tokenize":
                return TokenizeCommand.run(args, first + 1, inputs, out);
            case "detokenize":
                return DetokenizeCommand.run(args, first + 1, inputs, out);
            case "generate":
                return GenerateCommand.run(args, first + 1, inputs, out);
            case "prompt":
                return PromptCommand.run(args, first + 1, inputs, out);
            case "inspect":
                return InspectCommand.run(args, first + 1, out, err);
            case "retrieve":
                return RetrieveCommand.run(args, first + 1, inputs, out, err);
            case "download":
                return DownloadCommand.run(args, first + 1, inputs, out, err);
            case "cache":
                return CacheCommand.run(args, first + 1, inputs, out);
            case "demo":
                return DemoCommand.run(args, first + 1, out);
            case "bench":
                return BenchCommand.run(args, first + 1, out);
            case "serve":
                return ServeCommand.run(args, first + 1, inputs, out, err);
            default:
                return RunCommand.legacy(args, first, inputs, out, err);
        }
    }

    /** {@code --help} or {@code -h} among the options (before any {@code --}). */
    private static boolean wantsHelp(String[] args, int from) {
        for (int i = from; i < args.length; i++) {
            if (args[i].equals("--")) {
                return false;
            }
            if (args[i].equals("--help") || args[i].equals("-h")) {
                return true;
            }
        }
        return false;
    }

    private static int fail(PrintStream err, String message, Throwable e, boolean debug, int status) {
        err.print("needle: error: " + oneLine(message) + "\n");
        if (debug) {
            e.printStackTrace(err);
        }
        err.flush();
        return status;
    }

    /** The message of an error that is not the user's fault (a bug, or the JVM running out of memory). */
    static String describeUnexpected(Throwable e) {
        if (e instanceof OutOfMemoryError) {
            return "out of memory; give the JVM more heap, e.g. NEEDLE_JAVA_OPTS=-Xmx2g";
        }
        if (e instanceof StackOverflowError) {
            return "input nested too deeply (stack overflow)";
        }
        String msg = e.getMessage();
        return "internal error: " + e.getClass().getName() + (msg == null ? "" : ": " + msg)
                + " (run with --debug for the stack trace)";
    }

    /** {@code message} on one line (line breaks become spaces); never null. */
    static String oneLine(String message) {
        if (message == null || message.isEmpty()) {
            return "unknown error";
        }
        return message.replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
    }

    /** The version from the jar manifest, or "dev" when run from classes. */
    static String version() {
        String v = Main.class.getPackage() == null ? null : Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
