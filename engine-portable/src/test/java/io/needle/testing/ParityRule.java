package io.needle.testing;

import io.needle.json.JsonNumber;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The tie rule of shared/fixtures/parity/README.md: how generated ids are compared with a parity
 * case's {@code expected_ids}.
 *
 * <p>Identical ids match. Otherwise, at the first step k where they differ (a different id, or
 * one side stopping with eos), the difference is forgiven only if {@code step_margins[k] < tie_eps}
 * and the implementation's choice at step k (eos = 1 when it stopped) is in
 * {@code near_ties[k]}; later steps are then not compared. More ids than {@code max_new_tokens}
 * always fail.
 *
 * <p>Used by the engine's Java-API parity test and the command line's parity test. The case is
 * the parsed JSON object of one entry of a {@code pN.json} file's {@code cases}.
 */
public final class ParityRule {
    /** The eos id: picking it ends decoding and is not emitted. */
    public static final int EOS = 1;

    private ParityRule() {
    }

    /**
     * Returns null when {@code actual} matches the case under the tie rule, otherwise a one-line
     * description of the first unforgiven difference.
     */
    public static String mismatch(Map<?, ?> testCase, double tieEps, int[] actual) {
        int[] expected = ints(testCase.get("expected_ids"));
        int maxNew = (int) number(testCase.get("max_new_tokens"));
        if (actual.length > maxNew) {
            return "produced " + actual.length + " ids, more than max_new_tokens " + maxNew;
        }
        if (Arrays.equals(expected, actual)) {
            return null;
        }
        int k = 0;
        while (k < expected.length && k < actual.length && expected[k] == actual[k]) {
            k++;
        }
        // The choice at step k: the id, or eos when that side stopped before max_new_tokens.
        int expectedChoice = k < expected.length ? expected[k] : EOS;
        int actualChoice = k < actual.length ? actual[k] : EOS;
        String where = "step " + k + ": expected " + name(expectedChoice) + ", got " + name(actualChoice)
                + " (expected " + Arrays.toString(expected) + ", got " + Arrays.toString(actual) + ")";
        if (k == actual.length && actual.length == maxNew) {
            return where + "; stopped by max_new_tokens where the reference continues";
        }
        List<?> margins = (List<?>) testCase.get("step_margins");
        if (margins == null || k >= margins.size()) {
            return where + "; the case has no margin for this step";
        }
        double margin = number(margins.get(k));
        if (!(margin < tieEps)) {
            return where + "; not a near-tie (margin " + margin + " >= tie_eps " + tieEps + ")";
        }
        Map<?, ?> nearTies = (Map<?, ?>) testCase.get("near_ties");
        Object tied = nearTies == null ? null : nearTies.get(Integer.toString(k));
        if (tied == null || !contains(ints(tied), actualChoice)) {
            return where + "; a near-tie (margin " + margin + ") but " + name(actualChoice)
                    + " is not among the tied ids " + (tied == null ? "[]" : Arrays.toString(ints(tied)));
        }
        return null;
    }

    /** Throws AssertionError naming {@code label} unless {@code actual} matches under the tie rule. */
    public static void check(String label, Map<?, ?> testCase, double tieEps, int[] actual) {
        String m = mismatch(testCase, tieEps, actual);
        if (m != null) {
            throw new AssertionError(label + ": " + m);
        }
    }

    /** A parsed JSON array of integers as an int[]. */
    public static int[] ints(Object jsonArray) {
        List<?> list = (List<?>) jsonArray;
        int[] a = new int[list.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (int) number(list.get(i));
        }
        return a;
    }

    private static double number(Object v) {
        if (v instanceof JsonNumber) {
            return ((JsonNumber) v).doubleValue();
        }
        return ((Number) v).doubleValue();
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private static String name(int id) {
        return id == EOS ? "eos" : Integer.toString(id);
    }
}
