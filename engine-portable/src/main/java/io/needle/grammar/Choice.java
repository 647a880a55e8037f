package io.needle.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * A fixed set of byte strings the grammar chooses among (tool names, argument keys, enum values),
 * sorted (unsigned bytes) so that the candidates sharing a matched prefix form one index range.
 */
final class Choice {
    /** The candidates, sorted. */
    final byte[][] items;
    /** For each sorted candidate, its index in the list given to {@link #of}. */
    final int[] origin;

    private Choice(byte[][] items, int[] origin) {
        this.items = items;
        this.origin = origin;
    }

    /** Builds a choice; duplicates keep the first occurrence. */
    static Choice of(List<byte[]> candidates) {
        return of(candidates, null);
    }

    /**
     * Builds a choice whose candidate i stands for {@code origins.get(i)} (null: for i itself), so
     * that several spellings can stand for one thing; duplicates keep the first occurrence.
     */
    static Choice of(List<byte[]> candidates, List<Integer> origins) {
        List<byte[]> items = new ArrayList<>();
        List<Integer> origin = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            byte[] c = candidates.get(i);
            if (c == null) {
                continue;
            }
            int at = 0;
            boolean dup = false;
            while (at < items.size()) {
                int cmp = compare(items.get(at), c);
                if (cmp == 0) {
                    dup = true;
                    break;
                }
                if (cmp > 0) {
                    break;
                }
                at++;
            }
            if (!dup) {
                items.add(at, c);
                origin.add(at, origins == null ? i : origins.get(i));
            }
        }
        int[] o = new int[origin.size()];
        for (int i = 0; i < o.length; i++) {
            o[i] = origin.get(i);
        }
        return new Choice(items.toArray(new byte[0][]), o);
    }

    int size() {
        return items.length;
    }

    private static int compare(byte[] a, byte[] b) {
        int n = Math.min(a.length, b.length);
        for (int i = 0; i < n; i++) {
            int x = a[i] & 0xff;
            int y = b[i] & 0xff;
            if (x != y) {
                return x - y;
            }
        }
        return a.length - b.length;
    }
}
