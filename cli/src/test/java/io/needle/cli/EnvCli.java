package io.needle.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Test helper: runs {@link Main#run} in-process with an injected environment (NEEDLE_HOME,
 * NEEDLE_HUB_URL…), never the real one, so no test reaches the real user cache or network.
 */
final class EnvCli {
    final int status;
    final String out;
    final String err;

    private EnvCli(int status, String out, String err) {
        this.status = status;
        this.out = out;
        this.err = err;
    }

    static EnvCli run(Map<String, String> env, String... args) {
        return runWithInput(env, "", args);
    }

    static EnvCli runWithInput(Map<String, String> env, String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, false, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        int status = Main.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), o, e, env);
        o.flush();
        return new EnvCli(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Asserts status 0 and returns this. */
    EnvCli ok() {
        if (status != 0) {
            throw new AssertionError("expected success, got status " + status + ", stderr: [" + err + "]");
        }
        return this;
    }

    /**
     * Asserts the error contract: {@code expectedStatus}, nothing on stdout, and a last stderr line
     * "needle: error: …" containing {@code part}; lines before it may only be download progress
     * ("needle: …" lines).
     */
    EnvCli fails(int expectedStatus, String part) {
        String[] lines = err.split("\n", -1);
        boolean ok = status == expectedStatus && out.isEmpty() && err.endsWith("\n") && lines.length >= 2
                && lines[lines.length - 2].startsWith("needle: error: ") && lines[lines.length - 2].contains(part);
        for (int i = 0; ok && i < lines.length - 2; i++) {
            ok = lines[i].startsWith("needle: ") && !lines[i].startsWith("needle: error: ");
        }
        if (!ok || err.contains("\tat ")) {
            throw new AssertionError("expected status " + expectedStatus + " and an error line with '" + part
                    + "', got status " + status + ", stdout: [" + out + "], stderr: [" + err + "]");
        }
        return this;
    }
}
