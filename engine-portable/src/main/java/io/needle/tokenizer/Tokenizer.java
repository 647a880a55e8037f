package io.needle.tokenizer;

import io.needle.base.NeedleException;

/**
 * Needle's SentencePiece BPE tokenizer (vocabulary of {@code vocab.txt}, byte fallback), giving
 * exactly the ids and texts of the reference SentencePiece with {@code needle.model}.
 *
 * <p><b>Vocabulary.</b> {@code vocab.txt} has one {@code piece<TAB>score} line per id. The layout
 * is fixed and gives each piece its type: ids 0–2 {@code <pad> </s> <s>} are control pieces, id 3
 * {@code <unk>} the unknown piece, ids 4–5 {@code <tool_call> <tools>} user-defined pieces, ids
 * 6–261 the byte pieces {@code <0x00>}…{@code <0xFF>}, every later id a normal piece. {@code ▁}
 * (U+2581) stands for a space.
 *
 * <p><b>Encoding</b> ({@link #encode}) is SentencePiece's: normalize (identity mapping; drop
 * leading spaces, collapse runs of spaces, drop trailing spaces and {@code ▁}, add a dummy
 * {@code ▁} prefix, write spaces as {@code ▁}), then BPE merges by score (see {@link Bpe}), with
 * {@code <tool_call>} and {@code <tools>} taken whole wherever they appear, and every symbol that
 * is not in the vocabulary written as the byte pieces of its UTF-8 bytes. No BOS/EOS is added.
 * Java strings may hold lone surrogates, which have no UTF-8 form: each one is encoded as U+FFFD
 * (the character SentencePiece substitutes for a malformed input byte).
 *
 * <p><b>Decoding</b> ({@link #decode}, and piece by piece {@link StreamDecoder}) follows
 * SentencePiece's {@code DecodeIds}: {@code ▁} becomes a space; while the text produced so far is
 * empty, a leading {@code ▁} of a piece is dropped; control pieces give nothing, the unknown
 * piece gives {@code " ⁇ "}, user-defined pieces give their text; runs of byte pieces are joined
 * and read as UTF-8, each malformed byte giving U+FFFD.
 *
 * <p>Instances are immutable.
 */
public final class Tokenizer {
    /** Text that the unknown piece decodes to (SentencePiece's unk_surface). */
    public static final String UNKNOWN_SURFACE = " \u2047 ";

    /** The character that stands for a space in pieces. */
    static final char SPACE_SYMBOL = '\u2581';

    private static final byte NORMAL = 0;
    private static final byte CONTROL = 1;
    private static final byte UNKNOWN = 2;
    private static final byte USER_DEFINED = 3;
    private static final byte BYTE = 4;

    /** Pieces the fixed layout requires at ids 0..5, with their types. */
    private static final String[] SPECIAL_PIECES = {"<pad>", "</s>", "<s>", "<unk>", "<tool_call>", "<tools>"};
    private static final byte[] SPECIAL_TYPES = {CONTROL, CONTROL, CONTROL, UNKNOWN, USER_DEFINED, USER_DEFINED};
    private static final int FIRST_BYTE_ID = SPECIAL_PIECES.length;
    private static final int MIN_LINES = FIRST_BYTE_ID + 256;

    private final String[] pieces;
    private final float[] scores;
    private final byte[] types;
    /** Every piece → id (the pieces a BPE merge may produce are those of {@link #mergeable} ids). */
    private final PieceIndex pieceToId;
    /** Per id: whether a BPE merge may produce the piece (normal and user-defined pieces). */
    private final boolean[] mergeable;
    private final String[] userDefined;
    private final int maxPieceChars;
    /** id of the byte piece for each byte value. */
    private final int[] byteIds;
    /**
     * True when no mergeable piece has {@code ▁} after its first char (as in SentencePiece
     * vocabularies trained with split_by_whitespace): no merge then crosses the start of a word,
     * so each word tokenizes on its own and {@link #encodePrefix} may stop early.
     */
    private final boolean wordsIndependent;

    /** {@code pieceToId}: every piece of {@code pieces} → its id (taken, not copied). */
    private Tokenizer(String[] pieces, float[] scores, byte[] types, PieceIndex pieceToId) {
        this.pieces = pieces;
        this.scores = scores;
        this.types = types;
        this.pieceToId = pieceToId;
        this.mergeable = new boolean[pieces.length];
        this.byteIds = new int[256];
        int userCount = 0;
        int longest = 0;
        boolean independent = true;
        for (int id = 0; id < pieces.length; id++) {
            if (types[id] == NORMAL || types[id] == USER_DEFINED) {
                mergeable[id] = true;
                longest = Math.max(longest, pieces[id].length());
                if (pieces[id].indexOf(SPACE_SYMBOL, 1) >= 0) {
                    independent = false;
                }
            }
            if (types[id] == USER_DEFINED) {
                userCount++;
            }
            if (types[id] == BYTE) {
                byteIds[id - FIRST_BYTE_ID] = id;
            }
        }
        this.maxPieceChars = longest;
        this.wordsIndependent = independent;
        this.userDefined = new String[userCount];
        int u = 0;
        for (int id = 0; id < pieces.length; id++) {
            if (types[id] == USER_DEFINED) {
                userDefined[u++] = pieces[id];
            }
        }
    }

    /**
     * Parses {@code vocab.txt} text: {@code piece<TAB>score} per line, id = line index (0-based).
     * A final newline, CRLF line endings and a leading byte-order mark are accepted.
     *
     * @throws NeedleException kind VOCAB naming the 1-based line of the first problem: a line
     *         without a tab, an empty piece, a score that is not a finite decimal number, a
     *         duplicate piece, a special or byte piece missing from its fixed place, or fewer lines
     *         than the 262 fixed pieces
     */
    public static Tokenizer fromVocab(String vocabText) {
        if (vocabText == null) {
            throw vocabError("no vocabulary text");
        }
        String text = vocabText;
        int pos = text.startsWith("\uFEFF") ? 1 : 0;
        int len = text.length();
        String[] pieces = new String[Math.max(MIN_LINES, 16)];
        float[] scores = new float[pieces.length];
        int count = 0;
        // every piece → its id: the duplicate check, then the tokenizer's map (one map, built once)
        PieceIndex seen = new PieceIndex(8192);
        while (pos < len) {
            int nl = text.indexOf('\n', pos);
            int lineEnd = nl < 0 ? len : nl;
            int contentEnd = lineEnd;
            if (contentEnd > pos && text.charAt(contentEnd - 1) == '\r') {
                contentEnd--;
            }
            int lineNo = count + 1;
            int tab = text.indexOf('\t', pos);
            if (tab < 0 || tab >= contentEnd) {
                if (contentEnd == pos) {
                    throw vocabError("vocabulary line " + lineNo + ": empty line (expected piece<TAB>score)");
                }
                throw vocabError("vocabulary line " + lineNo + ": no tab between piece and score");
            }
            String piece = text.substring(pos, tab);
            String scoreText = text.substring(tab + 1, contentEnd);
            if (piece.isEmpty()) {
                throw vocabError("vocabulary line " + lineNo + ": empty piece");
            }
            float score = parseScore(scoreText, lineNo);
            if (count < MIN_LINES) {
                String expected = expectedPiece(count);
                if (!piece.equals(expected)) {
                    throw vocabError("vocabulary line " + lineNo + ": expected the "
                            + (count < FIRST_BYTE_ID ? "special" : "byte") + " piece " + expected
                            + " (id " + count + "), found " + shorten(piece));
                }
            }
            int previous = seen.putIfAbsent(piece, count);
            if (previous >= 0) {
                throw vocabError("vocabulary line " + lineNo + ": duplicate piece " + shorten(piece)
                        + " (already on line " + (previous + 1) + ")");
            }
            if (count == pieces.length) {
                String[] p = new String[2 * count];
                System.arraycopy(pieces, 0, p, 0, count);
                pieces = p;
                float[] s = new float[2 * count];
                System.arraycopy(scores, 0, s, 0, count);
                scores = s;
            }
            pieces[count] = piece;
            scores[count] = score;
            count++;
            pos = nl < 0 ? len : nl + 1;
        }
        if (count < MIN_LINES) {
            throw vocabError("vocabulary line " + (count + 1) + ": missing; the vocabulary has " + count
                    + " lines but needs at least " + MIN_LINES + " (6 special pieces and 256 byte pieces)");
        }
        String[] p = new String[count];
        System.arraycopy(pieces, 0, p, 0, count);
        float[] s = new float[count];
        System.arraycopy(scores, 0, s, 0, count);
        byte[] types = new byte[count];
        for (int id = 0; id < count; id++) {
            types[id] = id < FIRST_BYTE_ID ? SPECIAL_TYPES[id] : id < MIN_LINES ? BYTE : NORMAL;
        }
        return new Tokenizer(p, s, types, seen);
    }

    /** Number of pieces (ids are 0 .. size()-1). */
    public int size() {
        return pieces.length;
    }

    /** The raw piece of {@code id} as written in the vocabulary (with {@code ▁}, {@code <0xXX>}). */
    public String piece(int id) {
        checkId(id);
        return pieces[id];
    }

    /** The score of {@code id} from the vocabulary. */
    public float score(int id) {
        checkId(id);
        return scores[id];
    }

    /** The id of {@code piece}, or -1 when it is not in the vocabulary. */
    public int pieceToId(String piece) {
        return piece == null ? -1 : pieceToId.get(piece);
    }

    /** True for the byte pieces {@code <0x00>}…{@code <0xFF>}. */
    public boolean isByte(int id) {
        checkId(id);
        return types[id] == BYTE;
    }

    /** True for the control pieces {@code <pad>}, {@code </s>}, {@code <s>}. */
    public boolean isControl(int id) {
        checkId(id);
        return types[id] == CONTROL;
    }

    /** True for the user-defined pieces {@code <tool_call>} and {@code <tools>}. */
    public boolean isUserDefined(int id) {
        checkId(id);
        return types[id] == USER_DEFINED;
    }

    /** True for the unknown piece {@code <unk>}. */
    public boolean isUnknown(int id) {
        checkId(id);
        return types[id] == UNKNOWN;
    }

    /**
     * The bytes this token contributes to the text as a constrained JSON grammar sees it (a fresh
     * array each call):
     * a normal piece gives the UTF-8 of its text with {@code ▁} replaced by a space (the decoder's
     * rule of dropping the very first leading space is not applied here); a byte piece gives its
     * one byte; control, unknown and user-defined pieces give an empty array (they are not part of
     * the JSON text).
     */
    public byte[] tokenBytes(int id) {
        checkId(id);
        switch (types[id]) {
            case NORMAL:
                return normalBytes(pieces[id]);
            case BYTE:
                return new byte[] {(byte) (id - FIRST_BYTE_ID)};
            default:
                return new byte[0];
        }
    }

    /**
     * The UTF-8 of a normal piece with {@code ▁} as a space. Most pieces are ASCII and {@code ▁}
     * only: those in one pass (the engine makes every piece's bytes when it builds the grammar's
     * trie), the others through {@link Utf8#encode}.
     */
    private static byte[] normalBytes(String piece) {
        int n = piece.length();
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            char c = piece.charAt(i);
            if (c < 0x80) {
                out[i] = (byte) c;
            } else if (c == SPACE_SYMBOL) {
                out[i] = ' ';
            } else {
                return Utf8.encode(piece.replace(SPACE_SYMBOL, ' '));
            }
        }
        return out;
    }

    /** The ids of {@code text}, exactly as SentencePiece's {@code EncodeAsIds} (no BOS/EOS). */
    public int[] encode(String text) {
        if (text == null) {
            throw new NeedleException(NeedleException.Kind.INPUT, "no text to tokenize (null)");
        }
        return idsOf(normalize(text));
    }

    /** Chars of normalized text {@link #encodePrefix} tokenizes at a time (then up to the next word). */
    private static final int PREFIX_CHUNK = 1024;

    /**
     * The first {@code maxIds} ids of {@link #encode}{@code (text)}, exactly, tokenizing only the
     * words needed (when the vocabulary lets words tokenize independently, as Needle's does; else
     * the whole text). This keeps the cost of a long query or tools text that the encoder
     * truncates proportional to what it keeps, except for a single very long word.
     */
    public int[] encodePrefix(String text, int maxIds) {
        if (text == null) {
            throw new NeedleException(NeedleException.Kind.INPUT, "no text to tokenize (null)");
        }
        if (maxIds <= 0) {
            return new int[0];
        }
        String normalized = normalize(text);
        if (!wordsIndependent) {
            return cut(idsOf(normalized), maxIds);
        }
        int[] ids = new int[0];
        int from = 0;
        int n = normalized.length();
        while (from < n && ids.length < maxIds) {
            // a chunk ends where a word starts (at a ▁): no merge spans that point, and no
            // user-defined piece does (a vocabulary with one holding ▁ is not word-independent)
            int to = Math.min(n, from + PREFIX_CHUNK);
            while (to < n && normalized.charAt(to) != SPACE_SYMBOL) {
                to++;
            }
            int[] more = idsOf(normalized.substring(from, to));
            int[] joined = new int[ids.length + more.length];
            System.arraycopy(ids, 0, joined, 0, ids.length);
            System.arraycopy(more, 0, joined, ids.length, more.length);
            ids = joined;
            from = to;
        }
        return cut(ids, maxIds);
    }

    private static int[] cut(int[] ids, int max) {
        if (ids.length <= max) {
            return ids;
        }
        int[] out = new int[max];
        System.arraycopy(ids, 0, out, 0, max);
        return out;
    }

    /** The ids of an already normalized text: BPE, then byte fallback for unknown symbols. */
    private int[] idsOf(String normalized) {
        if (normalized.isEmpty()) {
            return new int[0];
        }
        int[] symbols = new Bpe(pieceToId, mergeable, scores, userDefined, maxPieceChars).segment(normalized);
        int[] ids = new int[symbols.length / 2 + 16];
        int n = 0;
        for (int k = 0; k < symbols.length; k += 2) {
            int id = pieceToId.get(normalized, symbols[k], symbols[k + 1]);
            if (id >= 0 && types[id] != UNKNOWN) {
                if (n == ids.length) {
                    ids = grow(ids);
                }
                ids[n++] = id;
            } else {
                // Byte fallback: an unknown symbol becomes the byte pieces of its UTF-8 bytes.
                byte[] bytes = Utf8.encode(normalized.substring(symbols[k], symbols[k + 1]));
                for (byte b : bytes) {
                    if (n == ids.length) {
                        ids = grow(ids);
                    }
                    ids[n++] = byteIds[b & 0xFF];
                }
            }
        }
        int[] out = new int[n];
        System.arraycopy(ids, 0, out, 0, n);
        return out;
    }

    /**
     * The text of {@code ids}, exactly as SentencePiece's {@code DecodeIds}.
     *
     * @throws NeedleException kind INPUT when an id is outside 0 .. size()-1
     */
    public String decode(int[] ids) {
        if (ids == null) {
            throw new NeedleException(NeedleException.Kind.INPUT, "no ids to decode (null)");
        }
        StringBuilder text = new StringBuilder();
        byte[] run = new byte[ids.length];
        int runLength = 0;
        for (int id : ids) {
            checkId(id);
            if (types[id] == BYTE) {
                run[runLength++] = (byte) (id - FIRST_BYTE_ID);
            } else {
                appendBytes(run, runLength, text);
                runLength = 0;
                text.append(surface(id, text.length() == 0));
            }
        }
        appendBytes(run, runLength, text);
        return text.toString();
    }

    /** Appends a finished run of byte pieces, read as UTF-8 the SentencePiece way. */
    static void appendBytes(byte[] run, int length, StringBuilder text) {
        int off = 0;
        while (off < length) {
            off += Utf8.decodeOne(run, off, length, true, text);
        }
    }

    /**
     * The text of a non-byte piece. {@code atStart}: nothing has been produced yet, so a leading
     * {@code ▁} is dropped (SentencePiece with remove_extra_whitespaces drops it for every piece
     * until the text is non-empty).
     */
    String surface(int id, boolean atStart) {
        switch (types[id]) {
            case CONTROL:
                return "";
            case UNKNOWN:
                return UNKNOWN_SURFACE;
            default:
                String p = pieces[id];
                if (atStart && p.charAt(0) == SPACE_SYMBOL) {
                    p = p.substring(1);
                }
                return p.replace(SPACE_SYMBOL, ' ');
        }
    }

    /** The byte value of a byte piece id, or -1 for any other id. */
    int byteValue(int id) {
        return types[id] == BYTE ? id - FIRST_BYTE_ID : -1;
    }

    /** Throws NeedleException INPUT unless {@code id} is a valid id. */
    void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new NeedleException(NeedleException.Kind.INPUT,
                    "token id " + id + " is out of range (vocabulary size " + pieces.length + ")");
        }
    }

    /**
     * SentencePiece's normalizer with the identity mapping, remove_extra_whitespaces,
     * add_dummy_prefix and escape_whitespaces. It walks the input one unit at a time (a
     * user-defined piece or one code point; a lone surrogate becomes U+FFFD): leading spaces are
     * skipped, a space right after a space is dropped, spaces become {@code ▁}, a {@code ▁} is put
     * in front, and trailing {@code ▁} (from spaces or literally in the input) are removed.
     */
    String normalize(String input) {
        int n = input.length();
        int i = 0;
        while (i < n && input.charAt(i) == ' ') {
            i++;
        }
        if (i == n) {
            return "";
        }
        StringBuilder out = new StringBuilder(n + 8);
        out.append(SPACE_SYMBOL);
        boolean prevSpace = true;
        while (i < n) {
            int unit = Bpe.matchUserDefined(userDefined, input, i);
            if (unit > 0) {
                // A user-defined piece is one unit, copied as it is (the fixed ones have no spaces).
                out.append(input, i, i + unit);
                prevSpace = false;
                i += unit;
                continue;
            }
            int cp = Utf8.codePointAt(input, i);
            i += (cp >= 0x10000) ? 2 : 1;
            if (cp == ' ') {
                if (!prevSpace) {
                    out.append(SPACE_SYMBOL);
                    prevSpace = true;
                }
            } else {
                out.appendCodePoint(cp);
                prevSpace = false;
            }
        }
        int end = out.length();
        while (end > 0 && out.charAt(end - 1) == SPACE_SYMBOL) {
            end--;
        }
        out.setLength(end);
        return out.toString();
    }

    private static String expectedPiece(int id) {
        if (id < FIRST_BYTE_ID) {
            return SPECIAL_PIECES[id];
        }
        int b = id - FIRST_BYTE_ID;
        String hex = "0123456789ABCDEF";
        return "<0x" + hex.charAt(b >> 4) + hex.charAt(b & 15) + ">";
    }

    /** A finite decimal number: [+-]digits[.digits][(e|E)[+-]digits], or [+-].digits[...]. */
    private static float parseScore(String s, int lineNo) {
        int i = 0;
        int n = s.length();
        if (i < n && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
            i++;
        }
        int digits = 0;
        while (i < n && isDigit(s.charAt(i))) {
            i++;
            digits++;
        }
        if (i < n && s.charAt(i) == '.') {
            i++;
            while (i < n && isDigit(s.charAt(i))) {
                i++;
                digits++;
            }
        }
        boolean ok = digits > 0;
        if (ok && i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < n && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
                i++;
            }
            int expDigits = 0;
            while (i < n && isDigit(s.charAt(i))) {
                i++;
                expDigits++;
            }
            ok = expDigits > 0;
        }
        if (!ok || i != n) {
            throw vocabError("vocabulary line " + lineNo + ": bad score " + shorten(s) + " (expected a number)");
        }
        if (digits == n - (isDigit(s.charAt(0)) ? 0 : 1) && digits <= 7) {
            return integerScore(s); // what Float.parseFloat gives, without its general path
        }
        float v = Float.parseFloat(s);
        if (Float.isInfinite(v) || Float.isNaN(v)) {
            throw vocabError("vocabulary line " + lineNo + ": score " + shorten(s) + " is out of range");
        }
        return v;
    }

    /**
     * A score written as an integer of at most 7 digits (optionally signed): exact in a float
     * (below 2^24), so the same float as {@link Float#parseFloat}, -0 included. The scores of
     * SentencePiece's BPE vocabularies are such integers (minus the merge rank).
     */
    private static float integerScore(String s) {
        boolean negative = s.charAt(0) == '-';
        int i = negative || s.charAt(0) == '+' ? 1 : 0;
        int v = 0;
        for (; i < s.length(); i++) {
            v = 10 * v + (s.charAt(i) - '0');
        }
        return negative ? -(float) v : (float) v;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** A piece or score quoted for an error message, cut to a readable length. */
    private static String shorten(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c < 0x20) {
                sb.append("\\u00").append("0123456789abcdef".charAt(c >> 4)).append("0123456789abcdef".charAt(c & 15));
            } else {
                sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }

    private static NeedleException vocabError(String message) {
        return new NeedleException(NeedleException.Kind.VOCAB, message);
    }

    private static int[] grow(int[] a) {
        int[] b = new int[a.length * 2];
        System.arraycopy(a, 0, b, 0, a.length);
        return b;
    }
}
