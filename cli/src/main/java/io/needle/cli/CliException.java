package io.needle.cli;

/**
 * An error the command line reports as one line on stderr ({@code needle: error: MESSAGE}) before
 * exiting with {@link #exitCode()}: {@link Main#EXIT_USAGE} for a wrong command line,
 * {@link Main#EXIT_ERROR} for everything else (a missing file, bad input).
 */
final class CliException extends RuntimeException {
    private final int exitCode;

    CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    /** A mistake in the command line itself (unknown option, missing argument). */
    static CliException usage(String message) {
        return new CliException(Main.EXIT_USAGE, message);
    }

    /** A failure while doing the work (unreadable file, bad input text). */
    static CliException error(String message) {
        return new CliException(Main.EXIT_ERROR, message);
    }

    int exitCode() {
        return exitCode;
    }
}
