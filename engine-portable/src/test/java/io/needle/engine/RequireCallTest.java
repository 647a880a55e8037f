package io.needle.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link RunOptions#requireCall}: the grammar refuses {@code []} while a tool is callable (OpenAI's
 * {@code tool_choice: "required"}). Over random models and catalogues: a required run whose output is
 * complete holds at least one call and passes the independent {@link OutputChecker}; when the free
 * run already calls a tool, the required run is token for token the same (masking tokens the model
 * did not choose never changes its choice); with no callable tool the answer stays {@code []}.
 */
class RequireCallTest {
    @Test
    void requiredRunsCallATool() {
        List<ConstrainedPropertyTest.Subject> subjects = ConstrainedPropertyTest.subjects();
        Random r = new Random(1515L);
        int forced = 0;
        int same = 0;
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < 160; i++) {
            ConstrainedPropertyTest.Subject subject = subjects.get(r.nextInt(subjects.size()));
            RandomCatalog catalog = RandomCatalog.make(r);
            String query = ConstrainedPropertyTest.QUERIES[r.nextInt(ConstrainedPropertyTest.QUERIES.length)];
            String where = subject.label + ", query " + Json.quote(query) + ", tools " + catalog.json;
            try {
                RunResult free = subject.engine.run(query, catalog.json, new RunOptions().maxNewTokens(120));
                RunResult required = subject.engine.run(query, catalog.json,
                        new RunOptions().maxNewTokens(120).requireCall(true));
                int[] callCount = {0};
                if (required.complete) { // (incomplete outputs: ConstrainedPropertyTest checks their prefixes)
                    assertEquals(OutputChecker.Verdict.COMPLETE, OutputChecker.check(required.text, catalog, null, callCount),
                            required.text);
                }
                if (!catalog.anyCallable()) {
                    assertEquals("[]", required.text);
                    continue;
                }
                assertFalse(required.text.equals("[]"), "a required run answered []");
                if (free.calls != null && !free.calls.isEmpty()) {
                    assertArrayEquals(free.tokens, required.tokens, "the free run called a tool: the same tokens");
                    assertEquals(free.text, required.text);
                    same++;
                } else if (required.complete) {
                    assertTrue(callCount[0] >= 1, "at least one call: " + required.text);
                    forced++;
                }
            } catch (AssertionError | RuntimeException e) {
                failures.add(where + ": " + e);
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " failures; the first: " + (failures.isEmpty() ? "" : failures.get(0)));
        // both cases must have been seen for the test to mean something
        assertTrue(forced >= 20, "forced calls: " + forced);
        assertTrue(same >= 1, "free runs that called a tool: " + same);
    }

    @Test
    void withoutCallableToolsTheAnswerStaysEmpty() {
        ConstrainedPropertyTest.Subject subject = ConstrainedPropertyTest.subjects().get(0);
        RunOptions required = new RunOptions().requireCall(true);
        assertEquals("[]", subject.engine.run("What's the weather?", "[]", required).text);
        String uncallable = "[{\"name\":\"broken\",\"parameters\":{\"x\":{\"enum\":[],\"required\":true}}}]";
        RunResult r = subject.engine.run("What's the weather?", uncallable, required);
        assertEquals("[]", r.text);
        assertTrue(r.complete);
    }
}
