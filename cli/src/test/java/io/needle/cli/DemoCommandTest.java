package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.json.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code needle demo}: offline, no files, says the weights are random, prints valid call lists. */
class DemoCommandTest {

    @Test
    void printsAValidCallListForEveryQuery() {
        // an environment that points nowhere: the demo must not need the cache or the network
        Map<String, String> env = new HashMap<>();
        env.put("NEEDLE_HOME", "/nonexistent/needle-demo-test");
        env.put("NEEDLE_HUB_URL", "http://127.0.0.1:9/");
        EnvCli r = EnvCli.run(env, "demo").ok();
        assertEquals("", r.err);
        assertTrue(r.out.startsWith("needle demo: a smoke test with RANDOM weights; the calls below are meaningless.\n"),
                r.out);
        assertTrue(r.out.contains("The weights were random.\n"), r.out);

        Map<String, Set<String>> declared = Map.of(
                "get_weather", Set.of("location", "unit"),
                "book_flight", Set.of("origin", "destination", "date"));
        List<String> calls = new ArrayList<>();
        List<String> queries = new ArrayList<>();
        for (String line : r.out.split("\n")) {
            if (line.startsWith("calls: ")) {
                calls.add(line.substring("calls: ".length()));
            } else if (line.startsWith("query: ")) {
                queries.add(line.substring("query: ".length()));
            } else if (line.startsWith("tools: ")) {
                assertEquals(Json.write(Json.parse(DemoCommand.TOOLS)), Json.write(Json.parse(line.substring(7))));
            }
        }
        assertEquals(DemoCommand.QUERIES, queries);
        assertEquals(DemoCommand.QUERIES.size(), calls.size());
        assertTrue(!r.out.contains("(incomplete"), "every demo answer completes: " + r.out);
        for (String text : calls) {
            Object v = Json.parse(text);
            assertTrue(v instanceof List, text);
            assertEquals(Json.write(v), text, "compact JSON");
            for (Object call : (List<?>) v) {
                Map<?, ?> c = (Map<?, ?>) call;
                assertEquals(List.of("name", "arguments"), List.copyOf(c.keySet()), text);
                Set<String> keys = declared.get(c.get("name"));
                assertTrue(keys != null, "a declared tool: " + text);
                Map<?, ?> args = (Map<?, ?>) c.get("arguments");
                assertTrue(keys.containsAll(args.keySet()), "declared argument keys: " + text);
                for (Object value : args.values()) {
                    assertTrue(value instanceof String, "string-typed parameters get strings: " + text);
                }
                if (c.get("name").equals("get_weather")) {
                    assertTrue(args.containsKey("location"), "the required parameter is present: " + text);
                }
            }
        }
        int timings = 0;
        for (String line : r.out.split("\n")) {
            if (line.startsWith("timings: load_ms=")) {
                timings++;
            }
        }
        assertEquals(DemoCommand.QUERIES.size(), timings);
    }

    @Test
    void takesNoArguments() {
        Cli.run("demo", "x").fails(Main.EXIT_USAGE, "unexpected argument 'x'");
        assertTrue(Cli.run("demo", "--help").ok().out.startsWith("Usage: needle"));
    }
}
