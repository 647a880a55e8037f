package io.needle.tokenizer;


/**
 * The BPE merge loop of SentencePiece's {@code bpe_model.cc} (package-private).
 *
 * <p>The normalized text is first split into symbols: a user-defined piece found at the current
 * position (longest match) becomes one frozen symbol that never merges, anything else one code
 * point. Every adjacent pair whose concatenation is a mergeable piece (normal or user-defined)
 * goes into a priority queue ordered by the piece's score (higher first), ties broken by the
 * leftmost position. The best pair is merged, its neighbours form new candidate pairs, and stale
 * queue entries are skipped. Symbols live in a doubly linked list over arrays, so the whole run
 * is O(n log n) in the text length.
 *
 * <p>One instance serves one {@link #segment} call (it holds that call's working arrays).
 *
 * <p>The result is the list of final symbols as [start, end) char ranges of the normalized text.
 * SentencePiece's re-segmentation of UNUSED pieces is not needed: a vocab.txt has no such pieces.
 */
final class Bpe {
    private final PieceIndex pieceToId;
    private final boolean[] mergeable;
    private final float[] scores;
    private final String[] userDefined;
    private final int maxPieceChars;

    // Symbols: [start, end) in the text, linked list by prev/next (-1 = none).
    private int[] start;
    private int[] end;
    private int[] prev;
    private int[] next;
    private boolean[] frozen;

    // Candidate pairs: entry arrays plus a binary heap of entry indices.
    private float[] pScore;
    private int[] pLeft;
    private int[] pRight;
    private int[] pSize;
    private int pairCount;
    private int[] heap;
    private int heapSize;

    /**
     * @param pieceToId     piece → id for every piece
     * @param mergeable     per id: whether a merge may produce the piece
     * @param scores        score by id
     * @param userDefined   user-defined pieces, matched whole in the text
     * @param maxPieceChars length in chars of the longest mergeable piece
     */
    Bpe(PieceIndex pieceToId, boolean[] mergeable, float[] scores, String[] userDefined,
            int maxPieceChars) {
        this.pieceToId = pieceToId;
        this.mergeable = mergeable;
        this.scores = scores;
        this.userDefined = userDefined;
        this.maxPieceChars = maxPieceChars;
    }

    /** Length in chars of the user-defined piece starting at {@code i}, or 0 (longest match). */
    static int matchUserDefined(String[] userDefined, String text, int i) {
        int best = 0;
        for (String u : userDefined) {
            if (u.length() > best && text.startsWith(u, i)) {
                best = u.length();
            }
        }
        return best;
    }

    /**
     * Segments {@code text} (already normalized, no lone surrogates). Returns the final symbols as
     * a flat array {@code [start0, end0, start1, end1, ...]} in text order.
     */
    int[] segment(String text) {
        int n = text.length();
        start = new int[n];
        end = new int[n];
        prev = new int[n];
        next = new int[n];
        frozen = new boolean[n];
        int count = 0;
        for (int i = 0; i < n; ) {
            int len = matchUserDefined(userDefined, text, i);
            boolean freeze = len > 0;
            if (!freeze) {
                len = Character.charCount(text.codePointAt(i));
            }
            start[count] = i;
            end[count] = i + len;
            frozen[count] = freeze;
            prev[count] = count - 1;
            next[count] = i + len < n ? count + 1 : -1;
            count++;
            i += len;
        }
        if (count == 0) {
            return new int[0];
        }

        int cap = Math.max(16, 2 * count);
        pScore = new float[cap];
        pLeft = new int[cap];
        pRight = new int[cap];
        pSize = new int[cap];
        heap = new int[cap];
        pairCount = 0;
        heapSize = 0;

        for (int i = 1; i < count; i++) {
            maybeAddPair(text, i - 1, i);
        }

        while (heapSize > 0) {
            int top = pop();
            int left = pLeft[top];
            int right = pRight[top];
            // The pair is stale if either side was merged away or has grown since it was queued.
            if (start[left] == end[left] || start[right] == end[right]
                    || (end[left] - start[left]) + (end[right] - start[right]) != pSize[top]) {
                continue;
            }
            end[left] = end[right];
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            start[right] = end[right]; // empty: merged away
            maybeAddPair(text, prev[left], left);
            maybeAddPair(text, left, next[left]);
        }

        int kept = 0;
        for (int i = 0; i != -1; i = next[i]) {
            kept++;
        }
        int[] out = new int[2 * kept];
        int o = 0;
        for (int i = 0; i != -1; i = next[i]) {
            out[o++] = start[i];
            out[o++] = end[i];
        }
        return out;
    }

    private void maybeAddPair(String text, int left, int right) {
        if (left < 0 || right < 0 || frozen[left] || frozen[right]) {
            return;
        }
        int size = end[right] - start[left]; // left and right are adjacent in the text
        if (size > maxPieceChars) {
            return;
        }
        int id = pieceToId.get(text, start[left], end[right]);
        if (id < 0 || !mergeable[id]) {
            return;
        }
        if (pairCount == pLeft.length) {
            int cap = 2 * pairCount;
            pScore = copyOf(pScore, cap);
            pLeft = copyOf(pLeft, cap);
            pRight = copyOf(pRight, cap);
            pSize = copyOf(pSize, cap);
            heap = copyOf(heap, cap);
        }
        int e = pairCount++;
        pScore[e] = scores[id];
        pLeft[e] = left;
        pRight[e] = right;
        pSize[e] = size;
        push(e);
    }

    /** True when entry a comes out of the queue before entry b. */
    private boolean before(int a, int b) {
        return pScore[a] > pScore[b] || (pScore[a] == pScore[b] && pLeft[a] < pLeft[b]);
    }

    private void push(int e) {
        int i = heapSize++;
        while (i > 0) {
            int parent = (i - 1) >> 1;
            if (!before(e, heap[parent])) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = e;
    }

    private int pop() {
        int top = heap[0];
        int last = heap[--heapSize];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= heapSize) {
                break;
            }
            if (child + 1 < heapSize && before(heap[child + 1], heap[child])) {
                child++;
            }
            if (!before(heap[child], last)) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        if (heapSize > 0) {
            heap[i] = last;
        }
        return top;
    }

    private static int[] copyOf(int[] a, int n) {
        int[] b = new int[n];
        System.arraycopy(a, 0, b, 0, a.length);
        return b;
    }

    private static float[] copyOf(float[] a, int n) {
        float[] b = new float[n];
        System.arraycopy(a, 0, b, 0, a.length);
        return b;
    }
}
