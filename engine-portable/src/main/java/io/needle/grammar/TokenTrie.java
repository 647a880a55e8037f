package io.needle.grammar;

import io.needle.tokenizer.Tokenizer;

/**
 * The vocabulary's token texts (as the grammar sees them: {@link Tokenizer#tokenBytes}) in a byte
 * trie, so that checking every token against a grammar state walks shared prefixes once and
 * abandons a whole subtree at its first rejected byte. Built once per tokenizer.
 */
public final class TokenTrie {
    // node arrays; node 0 is the root
    private int[] firstChild;
    private int[] nextSibling;
    private byte[] label;
    private int[] firstToken; // first token id ending at this node, or -1
    private int[] nextToken; // per token id: next token ending at the same node, or -1
    private final int[] rootChild = new int[256]; // per byte: the root's child with that label, or 0 (none)
    private int nodes;
    private int maxDepth; // bytes of the longest token text
    private int spaceBytePiece = -1;
    private final TokenTexts texts;

    public TokenTrie(Tokenizer tok) {
        this(tok, TokenTexts.of(tok));
    }

    /**
     * As {@link #TokenTrie(Tokenizer)} from the token texts already made: {@code texts} holds
     * {@code tok.tokenBytes(id)} for every id (kept: {@link #texts}).
     */
    public TokenTrie(Tokenizer tok, TokenTexts texts) {
        if (texts.size() != tok.size()) {
            throw new IllegalArgumentException("the token texts have " + texts.size() + " entries, the tokenizer "
                    + tok.size() + " ids");
        }
        this.texts = texts;
        int cap = 4096;
        firstChild = new int[cap];
        nextSibling = new int[cap];
        label = new byte[cap];
        firstToken = new int[cap];
        nextToken = new int[tok.size()];
        nodes = 1;
        firstChild[0] = -1;
        nextSibling[0] = -1;
        firstToken[0] = -1;
        for (int id = 0; id < tok.size(); id++) {
            nextToken[id] = -1;
            int length = texts.length(id);
            if (length == 0) {
                continue; // control, unknown, user-defined: no text
            }
            if (tok.isByte(id) && texts.byteAt(id, 0) == ' ') {
                spaceBytePiece = id;
            }
            int node = 0;
            for (int k = 0; k < length; k++) {
                node = child(node, (byte) texts.byteAt(id, k));
            }
            maxDepth = Math.max(maxDepth, length);
            nextToken[id] = firstToken[node];
            firstToken[node] = id;
        }
    }

    private int child(int node, byte b) {
        if (node == 0) {
            // the root has a child for most byte values: looked up, not searched among its siblings
            int c = rootChild[b & 0xff];
            if (c > 0) {
                return c;
            }
        } else {
            for (int c = firstChild[node]; c >= 0; c = nextSibling[c]) {
                if (label[c] == b) {
                    return c;
                }
            }
        }
        if (nodes == firstChild.length) {
            int cap = nodes * 2;
            firstChild = grow(firstChild, cap);
            nextSibling = grow(nextSibling, cap);
            firstToken = grow(firstToken, cap);
            byte[] l = new byte[cap];
            System.arraycopy(label, 0, l, 0, nodes);
            label = l;
        }
        int n = nodes++;
        label[n] = b;
        firstChild[n] = -1;
        firstToken[n] = -1;
        nextSibling[n] = firstChild[node];
        firstChild[node] = n;
        if (node == 0) {
            rootChild[b & 0xff] = n;
        }
        return n;
    }

    private static int[] grow(int[] a, int cap) {
        int[] r = new int[cap];
        System.arraycopy(a, 0, r, 0, a.length);
        return r;
    }

    /** The token texts this trie was built from (shared). */
    public TokenTexts texts() {
        return texts;
    }

    /**
     * The id of the byte piece {@code <0x20>}, or -1. Unlike a {@code ▁} it is not dropped when it
     * starts the text, so it cannot stand for the leading space.
     */
    public int spaceBytePiece() {
        return spaceBytePiece;
    }

    public int nodeCount() {
        return nodes;
    }

    /** Every token whose whole text the grammar accepts from {@code state}, in no particular order. */
    public int[] allowed(GrammarState state) {
        IntList out = new IntList();
        walk(0, state, 0, new GrammarState[maxDepth], out);
        return out.toArray();
    }

    /**
     * Visits the children of {@code node}, {@code state} being the grammar state after the node's
     * bytes; {@code scratch[depth]} is reused for every child (deeper levels use later slots).
     */
    private void walk(int node, GrammarState state, int depth, GrammarState[] scratch, IntList out) {
        for (int c = firstChild[node]; c >= 0; c = nextSibling[c]) {
            GrammarState s = scratch[depth];
            if (s == null) {
                s = scratch[depth] = state.copy();
            } else {
                s.set(state);
            }
            if (!s.feed(label[c] & 0xff)) {
                continue;
            }
            for (int t = firstToken[c]; t >= 0; t = nextToken[t]) {
                out.add(t);
            }
            if (firstChild[c] >= 0) {
                walk(c, s, depth + 1, scratch, out);
            }
        }
    }

    /** A growable int array. */
    static final class IntList {
        private int[] a = new int[256];
        private int n;

        void add(int v) {
            if (n == a.length) {
                a = grow(a, n * 2);
            }
            a[n++] = v;
        }

        int[] toArray() {
            int[] r = new int[n];
            System.arraycopy(a, 0, r, 0, n);
            return r;
        }
    }
}
