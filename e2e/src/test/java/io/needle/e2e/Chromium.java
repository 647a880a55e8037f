package io.needle.e2e;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Playwright;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Headless Debian Chromium under Playwright, as the tests use it: the system browser (Playwright
 * downloads none), no sandbox (the tests run as root in CI), no GPU, and a host resolver that
 * answers only 127.0.0.1, so the page cannot reach any other host (no fonts, CDNs or Hugging
 * Face) and the browser itself makes no background lookups.
 */
final class Chromium {
    /** The browser's flags. */
    static final List<String> ARGS = List.of(
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1");

    private Chromium() {
    }

    /** Playwright, told never to download browsers. */
    static Playwright playwright() {
        return Playwright.create(new Playwright.CreateOptions()
                .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
    }

    /** Launches the Chromium named by the system property needle.chromium (default /usr/bin/chromium). */
    static Browser launch(Playwright playwright) {
        Path executable = Path.of(System.getProperty("needle.chromium", "/usr/bin/chromium"));
        if (!Files.isExecutable(executable)) {
            throw new IllegalStateException("Chromium is missing at " + executable + ": ./run-tests installs it "
                    + "(apt-get install -y chromium), or pass -Dneedle.chromium=PATH");
        }
        return playwright.chromium().launch(new BrowserType.LaunchOptions()
                .setExecutablePath(executable)
                .setHeadless(true)
                .setArgs(ARGS));
    }
}
