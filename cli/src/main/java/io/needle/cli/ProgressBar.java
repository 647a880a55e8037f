package io.needle.cli;

import io.needle.jvm.DownloadListener;
import io.needle.jvm.ModelCache;
import io.needle.jvm.Verification;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * Shows a download on stderr: bytes, percent and speed. On a terminal one line is redrawn in place
 * (at most ten times a second):
 * <pre>
 *   needle.safetensors  [##########          ]  50%  11.2/22.3 MB  4.1 MB/s
 * </pre>
 * Elsewhere (a log, a pipe, CI) it prints a line at the start, at 25%, 50% and 75%, and at the end,
 * so logs stay readable. After each file, one line says how its hash was checked:
 * <pre>
 * needle: verified needle.safetensors: sha256 3f… matches the X-Linked-Etag header of huggingface.co
 * needle: vocab.txt was not verified: mirror.local sent no hash for it (sha256 9a…); pin it with --vocab-sha256 or NEEDLE_VOCAB_SHA256
 * </pre>
 */
final class ProgressBar implements DownloadListener {
    private static final int WIDTH = 20;
    private static final long REDRAW_NS = 100_000_000L;

    private final PrintStream err;
    private final boolean interactive;
    private long startNs;
    private long from;
    private long lastDrawNs;
    private int lastQuarter;
    private boolean drawn;
    /** The line about the file's hash, printed after the "downloaded" line. */
    private String verifiedLine;

    ProgressBar(PrintStream err, boolean interactive) {
        this.err = err;
        this.interactive = interactive;
    }

    /** A bar for the process's stderr: redrawn in place when the console is a terminal. */
    static ProgressBar forStderr(PrintStream err, Map<String, String> env) {
        return new ProgressBar(err, System.console() != null && !"dumb".equals(env.get("TERM")));
    }

    @Override
    public void started(String file, String url, long fromByte, long total) {
        startNs = System.nanoTime();
        lastDrawNs = 0;
        from = fromByte;
        lastQuarter = total > 0 ? (int) (fromByte * 4 / total) : 0;
        drawn = false;
        String size = total >= 0 ? " (" + megabytes(total) + " MB)" : "";
        if (fromByte > 0) {
            line("needle: resuming " + file + size + " at " + megabytes(fromByte) + " MB from " + url);
        } else {
            line("needle: downloading " + file + size + " from " + url);
        }
    }

    @Override
    public void progress(String file, long done, long total) {
        long now = System.nanoTime();
        if (interactive) {
            if (now - lastDrawNs >= REDRAW_NS) {
                lastDrawNs = now;
                draw(file, done, total, now);
            }
            return;
        }
        if (total > 0) {
            int quarter = (int) Math.min(4, done * 4 / total);
            if (quarter > lastQuarter && quarter < 4) {
                lastQuarter = quarter;
                line("needle: " + status(file, done, total, now));
            }
        }
    }

    @Override
    public void retrying(String file, String reason) {
        endLine();
        line("needle: " + file + ": " + reason + "; trying again");
    }

    @Override
    public void verified(Verification v) {
        verifiedLine = verifiedLine(v);
    }

    /** The line that says how a file's hash was checked. */
    static String verifiedLine(Verification v) {
        if (v.status() != Verification.Status.NOT_VERIFIED) {
            return "needle: verified " + v.describe();
        }
        boolean weights = v.file().equals(ModelCache.WEIGHTS_FILE);
        return "needle: " + v.file() + " was not verified: " + v.note() + " (sha256 " + v.sha256() + "); pin it with --"
                + (weights ? "weights" : "vocab") + "-sha256 or "
                + (weights ? ModelCache.WEIGHTS_SHA256_VARIABLE : ModelCache.VOCAB_SHA256_VARIABLE);
    }

    @Override
    public void finished(String file, long bytes) {
        long now = System.nanoTime();
        if (interactive) {
            draw(file, bytes, bytes, now);
            endLine();
        }
        double seconds = Math.max(1e-3, (now - startNs) / 1e9);
        line("needle: downloaded " + file + ": " + megabytes(bytes) + " MB in "
                + String.format(Locale.ROOT, "%.1f", seconds) + " s (" + megabytes((long) ((bytes - from) / seconds))
                + " MB/s)");
        if (verifiedLine != null) {
            line(verifiedLine);
            verifiedLine = null;
        }
    }

    private void draw(String file, long done, long total, long now) {
        StringBuilder sb = new StringBuilder("\r  ").append(status(file, done, total, now)).append("  ");
        err.print(sb);
        err.flush();
        drawn = true;
    }

    /** "FILE  [####      ]  45%  10.0/22.3 MB  4.1 MB/s" (without bar and percent when the size is unknown). */
    String status(String file, long done, long total, long now) {
        StringBuilder sb = new StringBuilder(file).append("  ");
        if (total > 0) {
            int filled = (int) Math.min(WIDTH, done * WIDTH / total);
            sb.append('[');
            for (int i = 0; i < WIDTH; i++) {
                sb.append(i < filled ? '#' : ' ');
            }
            sb.append("]  ");
            sb.append(String.format(Locale.ROOT, "%3d%%  ", Math.min(100, done * 100 / total)));
            sb.append(megabytes(done)).append('/').append(megabytes(total)).append(" MB");
        } else {
            sb.append(megabytes(done)).append(" MB");
        }
        sb.append("  ").append(speed(done - from, now));
        return sb.toString();
    }

    private String speed(long bytes, long now) {
        double seconds = (now - startNs) / 1e9;
        if (seconds <= 0.05) {
            return "-- MB/s";
        }
        return megabytes((long) (bytes / seconds)) + " MB/s";
    }

    /** Bytes as megabytes (10^6) with one decimal. */
    static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / 1e6);
    }

    private void endLine() {
        if (drawn) {
            err.print("\n");
            drawn = false;
        }
    }

    private void line(String s) {
        endLine();
        err.print(s + "\n");
        err.flush();
    }
}
