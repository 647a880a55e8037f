package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.json.Json;
import io.needle.testing.ParityRule;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The tie rule helper (engine-portable's test-jar) on made-up cases. */
class ParityRuleTest {
    private static final double EPS = 1e-4;

    /** expected [7, 8, 9] then eos; step 1 is a near-tie between 8 and 3; step 3 (eos) a near-tie with 4. */
    private static final Map<?, ?> CASE = (Map<?, ?>) Json.parse("{\"id\":\"x\",\"input_ids\":[5],"
            + "\"max_new_tokens\":5,\"expected_ids\":[7,8,9],\"stop\":\"eos\","
            + "\"step_margins\":[0.5,0.00001,0.3,0.00002],"
            + "\"near_ties\":{\"1\":[8,3],\"3\":[1,4]}}");

    private static String m(int... got) {
        return ParityRule.mismatch(CASE, EPS, got);
    }

    @Test
    void identicalMatches() {
        assertNull(m(7, 8, 9));
    }

    @Test
    void nearTieIsForgivenAndLaterStepsIgnored() {
        assertNull(m(7, 3));
        assertNull(m(7, 3, 100, 200, 300));
        assertNull(m(7, 8, 9, 4, 4)); // eos step was a near-tie with 4
    }

    @Test
    void realDifferencesFail() {
        assertTrue(m(7, 8, 10).contains("not a near-tie"), m(7, 8, 10));
        assertTrue(m(6).contains("step 0"));
        assertTrue(m(7, 5).contains("not among the tied ids"));
        assertTrue(m(7, 8).contains("expected 9, got eos"), m(7, 8)); // stopping early is a difference
        assertTrue(m(7, 8, 9, 5).contains("expected eos, got 5"));
        assertTrue(m(7, 3, 1, 1, 1, 1).contains("more than max_new_tokens"));
        assertThrows(AssertionError.class, () -> ParityRule.check("label", CASE, EPS, new int[] {6}));
    }

    @Test
    void stoppingAtEosOnANearTie() {
        Map<?, ?> c = (Map<?, ?>) Json.parse("{\"max_new_tokens\":4,\"expected_ids\":[7,8],"
                + "\"step_margins\":[0.5,0.00001],\"near_ties\":{\"1\":[8,1]}}");
        assertNull(ParityRule.mismatch(c, EPS, new int[] {7}));
    }
}
