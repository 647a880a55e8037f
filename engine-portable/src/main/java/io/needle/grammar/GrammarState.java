package io.needle.grammar;

/**
 * Where the decoder is in the tool-call grammar of docs/spec/DECODING.md, as a byte-level pushdown
 * automaton over the output text (after {@code <tool_call>}):
 *
 * <pre>
 * output := " "? "[" ( call ( "," call )* )? "]"
 * call   := "{" "\"name\":\"" TOOL "\"" ",\"arguments\":" args "}"
 * args   := "{" ( "\"" KEY "\":" value ( "," "\"" KEY "\":" value )* )? "}"
 * </pre>
 *
 * {@link #feed} consumes one byte and says whether the grammar accepts it; a rejected byte leaves
 * the state unusable (callers feed a {@link #copy}). Values are typed per the key's schema; untyped
 * values are any compact JSON value (nesting limited to {@link #MAX_DEPTH}). Strings must be valid
 * UTF-8 with JSON escapes. The automaton never enters a state from which the output cannot be
 * completed: a comma needs an unused key, a call needs a callable tool, {@code arguments} closes
 * only when every required key is present. A grammar compiled with {@code requireCall} refuses the
 * empty array while a tool can be called.
 *
 * <p>The one optional space before {@code [} is SentencePiece's dummy prefix: the model was trained
 * on the tokens of the answer text, whose first piece carries it (<code>▁[{"</code>, {@code ▁[]}), and
 * detokenizing drops it again. It is the only whitespace allowed outside strings (and it must be a
 * {@code ▁}: {@link ConstrainedDecoder} does not allow the byte piece of a space there, which
 * detokenizing would keep).
 */
public final class GrammarState {
    /** Deepest nesting of arrays/objects inside one argument value. */
    public static final int MAX_DEPTH = 16;

    // phases of the outer grammar
    private static final int ARR_OPEN = 0;
    private static final int CALL_OR_END = 1;
    private static final int CALL_OPEN = 2;
    private static final int LITERAL = 3;
    private static final int NAME = 4;
    private static final int ARGS_FIRST = 5;
    private static final int KEY_QUOTE = 6;
    private static final int KEY = 7;
    private static final int VALUE = 8;
    private static final int ARGS_NEXT = 9;
    private static final int CALL_CLOSE = 10;
    private static final int AFTER_CALL = 11;
    private static final int DONE = 12;
    private static final int START = 13; // before the optional leading space and '['

    // value machine modes
    private static final int V_START = 0;
    private static final int V_STRING = 1;
    private static final int V_NUMBER = 2;
    private static final int V_CHOICE = 3;
    private static final int V_CONTAINER = 4;

    // container frames
    private static final byte ARR_FIRST = 1; // after '[': value or ']'
    private static final byte ARR_VALUE = 2; // after ',': value
    private static final byte ARR_NEXT = 3; // after a value: ',' or ']'
    private static final byte OBJ_FIRST = 4; // after '{': '"' or '}'
    private static final byte OBJ_KEY = 5; // after ',': '"'
    private static final byte OBJ_COLON = 6; // after a key: ':'
    private static final byte OBJ_VALUE = 7; // after ':': value
    private static final byte OBJ_NEXT = 8; // after a value: ',' or '}'

    // number lexer states
    private static final int N_MINUS = 0; // after '-': digit
    private static final int N_ZERO = 1; // "0" (complete)
    private static final int N_INT = 2; // digits (complete)
    private static final int N_DOT = 3; // after '.': digit
    private static final int N_FRAC = 4; // (complete)
    private static final int N_EXP = 5; // after e: sign or digit
    private static final int N_EXP_SIGN = 6; // after sign: digit
    private static final int N_EXP_DIGITS = 7; // (complete)

    // value-feed results
    private static final int REJECT = 0;
    private static final int MORE = 1; // consumed, value continues
    private static final int END = 2; // consumed, value complete
    private static final int END_REFEED = 3; // value complete, byte not consumed

    // choice roles
    private static final int ROLE_NAME = 0;
    private static final int ROLE_KEY = 1;
    private static final int ROLE_VALUE = 2;

    private static final byte[] NAME_PREFIX = ToolGrammar.utf8("\"name\":\"");
    private static final byte[] ARGS_PREFIX = ToolGrammar.utf8(",\"arguments\":{");
    private static final Choice JSON_LITERALS;

    static {
        java.util.List<byte[]> l = new java.util.ArrayList<>();
        l.add(ToolGrammar.utf8("true"));
        l.add(ToolGrammar.utf8("false"));
        l.add(ToolGrammar.utf8("null"));
        JSON_LITERALS = Choice.of(l);
    }

    private final ToolGrammar g;
    private int phase = START;
    // literal matching
    private byte[] lit;
    private int litPos;
    private int litNext;
    // current call
    private int tool = -1;
    private int key = -1;
    private boolean[] used;
    // choice matching
    private Choice choice;
    private int chLo;
    private int chHi;
    private int chPos;
    private int chRole;
    // value machine
    private int vMode;
    private int vKind;
    private Choice vLiterals;
    private byte[] stack = new byte[MAX_DEPTH];
    private int depth;
    private int strEsc; // 0 normal, 1 after backslash, 2..5 = hex digits of a backslash-u escape still to read + 1
    private int utfNeed; // UTF-8 continuation bytes still expected
    private int utfLo = 0x80;
    private int utfHi = 0xBF;
    private int num;
    private boolean numIntOnly;

    /** The state before the first byte after {@code <tool_call>}. */
    public GrammarState(ToolGrammar grammar) {
        this.g = grammar;
    }

    /** An independent copy. */
    public GrammarState copy() {
        GrammarState c = new GrammarState(g);
        c.set(this);
        return c;
    }

    /**
     * Makes this state equal to {@code o} (a state of the same grammar) without allocating, so a
     * caller can reuse one scratch state per trie level.
     */
    void set(GrammarState o) {
        phase = o.phase;
        lit = o.lit;
        litPos = o.litPos;
        litNext = o.litNext;
        tool = o.tool;
        key = o.key;
        if (o.used == null) {
            used = null;
        } else if (used != null && used != o.used && used.length == o.used.length) {
            System.arraycopy(o.used, 0, used, 0, used.length);
        } else {
            used = o.used.clone();
        }
        choice = o.choice;
        chLo = o.chLo;
        chHi = o.chHi;
        chPos = o.chPos;
        chRole = o.chRole;
        vMode = o.vMode;
        vKind = o.vKind;
        vLiterals = o.vLiterals;
        System.arraycopy(o.stack, 0, stack, 0, o.depth);
        depth = o.depth;
        strEsc = o.strEsc;
        utfNeed = o.utfNeed;
        utfLo = o.utfLo;
        utfHi = o.utfHi;
        num = o.num;
        numIntOnly = o.numIntOnly;
    }

    /** True after the closing {@code ]}: only eos may follow. */
    public boolean isDone() {
        return phase == DONE;
    }

    /** True before the first byte (where the one leading space may come). */
    boolean atStart() {
        return phase == START;
    }

    /** True while the decoder is writing a tool name (between the quotes after {@code "name":}). */
    public boolean inToolName() {
        return phase == NAME;
    }

    /**
     * A key that identifies this state's future: two states with equal signatures accept exactly
     * the same continuations (used to cache token masks).
     */
    public String signature() {
        StringBuilder sb = new StringBuilder(48);
        sb.append(phase).append(',').append(tool).append(',').append(key).append(',');
        if (used != null) {
            for (boolean u : used) {
                sb.append(u ? '1' : '0');
            }
        }
        sb.append(',');
        if (phase == LITERAL) {
            sb.append(lit == NAME_PREFIX ? 'n' : 'a').append(litPos).append(',').append(litNext);
        } else if (phase == NAME || phase == KEY) {
            sb.append(chLo).append(':').append(chHi).append(':').append(chPos);
        } else if (phase == VALUE) {
            sb.append(vMode).append(':').append(vKind).append(':');
            for (int i = 0; i < depth; i++) {
                sb.append((char) ('a' + stack[i]));
            }
            sb.append(':');
            if (vMode == V_STRING) {
                sb.append(strEsc).append(':').append(utfNeed).append(':').append(utfLo).append(':').append(utfHi);
            } else if (vMode == V_NUMBER) {
                sb.append(num).append(numIntOnly ? 'i' : 'n');
            } else if (vMode == V_CHOICE) {
                sb.append(choice == JSON_LITERALS ? 'j' : 'e').append(chLo).append(':').append(chHi).append(':').append(chPos);
            }
        }
        return sb.toString();
    }

    /** Feeds one byte (0..255); false when the grammar rejects it. */
    public boolean feed(int b) {
        switch (phase) {
            case START:
                if (b == ' ') {
                    phase = ARR_OPEN;
                    return true;
                }
                if (b == '[') {
                    phase = CALL_OR_END;
                    return true;
                }
                return false;
            case ARR_OPEN:
                if (b == '[') {
                    phase = CALL_OR_END;
                    return true;
                }
                return false;
            case CALL_OR_END:
                if (b == ']') {
                    if (g.requiresCall()) {
                        return false; // at least one call (ToolGrammar.compile(catalog, true))
                    }
                    phase = DONE;
                    return true;
                }
                return b == '{' && startCall();
            case CALL_OPEN:
                return b == '{' && startCall();
            case LITERAL:
                if (lit[litPos] != (byte) b) {
                    return false;
                }
                if (++litPos == lit.length) {
                    phase = litNext;
                    if (phase == NAME) {
                        startChoice(g.names, ROLE_NAME);
                    }
                }
                return true;
            case NAME:
                return feedName(b);
            case ARGS_FIRST:
                if (b == '"') {
                    return startKey();
                }
                return b == '}' && closeArgs();
            case KEY_QUOTE:
                return b == '"' && startKey();
            case KEY:
                return feedKey(b);
            case VALUE: {
                int r = feedValue(b);
                if (r == REJECT) {
                    return false;
                }
                if (r == END || r == END_REFEED) {
                    phase = ARGS_NEXT;
                }
                return r != END_REFEED || feed(b);
            }
            case ARGS_NEXT:
                if (b == ',') {
                    if (!hasUnusedKey()) {
                        return false;
                    }
                    phase = KEY_QUOTE;
                    return true;
                }
                return b == '}' && closeArgs();
            case CALL_CLOSE:
                if (b == '}') {
                    phase = AFTER_CALL;
                    tool = -1;
                    key = -1;
                    used = null;
                    return true;
                }
                return false;
            case AFTER_CALL:
                if (b == ',') {
                    phase = CALL_OPEN;
                    return true;
                }
                if (b == ']') {
                    phase = DONE;
                    return true;
                }
                return false;
            default: // DONE
                return false;
        }
    }

    // ------------------------------------------------------------------ calls, names, keys

    private boolean startCall() {
        if (!g.hasTools()) {
            return false;
        }
        lit = NAME_PREFIX;
        litPos = 0;
        litNext = NAME;
        phase = LITERAL;
        return true;
    }

    private void startChoice(Choice c, int role) {
        choice = c;
        chLo = 0;
        chHi = c.size();
        chPos = 0;
        chRole = role;
    }

    /**
     * Narrows the choice range by byte b. Returns false when no (usable) candidate continues with b.
     */
    private boolean narrow(int b) {
        byte[][] items = choice.items;
        int lo = -1;
        int hi = -1;
        for (int i = chLo; i < chHi; i++) {
            if (items[i].length > chPos && (items[i][chPos] & 0xff) == b) {
                if (lo < 0) {
                    lo = i;
                }
                hi = i + 1;
            } else if (lo >= 0) {
                break; // sorted: the matching candidates are contiguous
            }
        }
        if (lo < 0) {
            return false;
        }
        if (chRole == ROLE_KEY) {
            boolean any = false;
            for (int i = lo; i < hi && !any; i++) {
                any = !used[choice.origin[i]];
            }
            if (!any) {
                return false;
            }
        }
        chLo = lo;
        chHi = hi;
        chPos++;
        return true;
    }

    /** The candidate fully matched, if any (the shortest candidate in range sorts first). */
    private int completed() {
        return choice.items[chLo].length == chPos ? chLo : -1;
    }

    private boolean feedName(int b) {
        if (!narrow(b)) {
            return false;
        }
        int done = completed();
        if (done >= 0) {
            tool = choice.origin[done];
            used = new boolean[g.tools[tool].paramCount];
            lit = ARGS_PREFIX;
            litPos = 0;
            litNext = ARGS_FIRST;
            phase = LITERAL;
        }
        return true;
    }

    private boolean hasUnusedKey() {
        ToolGrammar.ToolRule rule = g.tools[tool];
        for (int p = 0; p < rule.paramCount; p++) {
            if (rule.usable[p] && !used[p]) {
                return true;
            }
        }
        return false;
    }

    private boolean startKey() {
        if (!hasUnusedKey()) {
            return false;
        }
        startChoice(g.tools[tool].keys, ROLE_KEY);
        phase = KEY;
        return true;
    }

    private boolean feedKey(int b) {
        if (!narrow(b)) {
            return false;
        }
        int done = completed();
        if (done >= 0) {
            int p = choice.origin[done];
            key = p;
            used[p] = true;
            ToolGrammar.ToolRule rule = g.tools[tool];
            vKind = rule.kinds[p];
            vLiterals = rule.literals[p];
            vMode = V_START;
            depth = 0;
            phase = VALUE;
        }
        return true;
    }

    private boolean closeArgs() {
        ToolGrammar.ToolRule rule = g.tools[tool];
        for (int p = 0; p < rule.paramCount; p++) {
            if (rule.required[p] && !used[p]) {
                return false;
            }
        }
        phase = CALL_CLOSE;
        return true;
    }

    // ------------------------------------------------------------------ values

    private int feedValue(int b) {
        switch (vMode) {
            case V_START:
                return startValue(b, depth == 0 ? vKind : ToolGrammar.ANY);
            case V_STRING:
                return feedString(b);
            case V_NUMBER:
                return feedNumber(b);
            case V_CHOICE:
                if (narrow(b)) {
                    return MORE;
                }
                return completed() >= 0 ? scalarEnd(true, b) : REJECT;
            default:
                return feedContainer(b);
        }
    }

    private int startValue(int b, int kind) {
        switch (kind) {
            case ToolGrammar.STRING:
                return b == '"' ? startString() : REJECT;
            case ToolGrammar.INTEGER:
                return startNumber(b, true);
            case ToolGrammar.NUMBER:
                return startNumber(b, false);
            case ToolGrammar.BOOLEAN:
            case ToolGrammar.ENUM:
                startChoice(vLiterals, ROLE_VALUE);
                vMode = V_CHOICE;
                return narrow(b) ? MORE : REJECT;
            case ToolGrammar.ARRAY:
                return b == '[' ? push(ARR_FIRST) : REJECT;
            case ToolGrammar.OBJECT:
                return b == '{' ? push(OBJ_FIRST) : REJECT;
            default:
                if (b == '"') {
                    return startString();
                }
                if (b == '-' || (b >= '0' && b <= '9')) {
                    return startNumber(b, false);
                }
                if (b == '[') {
                    return push(ARR_FIRST);
                }
                if (b == '{') {
                    return push(OBJ_FIRST);
                }
                startChoice(JSON_LITERALS, ROLE_VALUE);
                vMode = V_CHOICE;
                return narrow(b) ? MORE : REJECT;
        }
    }

    private int push(byte frame) {
        if (depth >= MAX_DEPTH) {
            return REJECT;
        }
        stack[depth++] = frame;
        vMode = V_CONTAINER;
        return MORE;
    }

    /**
     * A scalar (string, number, literal) ended. With refeed, byte b did not belong to it and goes
     * on to the enclosing container (or, at the top, back to the outer grammar).
     */
    private int scalarEnd(boolean refeed, int b) {
        if (depth == 0) {
            return refeed ? END_REFEED : END;
        }
        vMode = V_CONTAINER; // the frame already says what comes next
        return refeed ? feedContainer(b) : MORE;
    }

    private int feedContainer(int b) {
        byte top = stack[depth - 1];
        switch (top) {
            case ARR_FIRST:
                if (b == ']') {
                    return closeContainer();
                }
                stack[depth - 1] = ARR_NEXT;
                vMode = V_START;
                return startValue(b, ToolGrammar.ANY);
            case ARR_VALUE:
                stack[depth - 1] = ARR_NEXT;
                vMode = V_START;
                return startValue(b, ToolGrammar.ANY);
            case ARR_NEXT:
                if (b == ',') {
                    stack[depth - 1] = ARR_VALUE;
                    return MORE;
                }
                return b == ']' ? closeContainer() : REJECT;
            case OBJ_FIRST:
                if (b == '}') {
                    return closeContainer();
                }
                if (b == '"') {
                    stack[depth - 1] = OBJ_COLON;
                    return startString();
                }
                return REJECT;
            case OBJ_KEY:
                if (b == '"') {
                    stack[depth - 1] = OBJ_COLON;
                    return startString();
                }
                return REJECT;
            case OBJ_COLON:
                if (b == ':') {
                    stack[depth - 1] = OBJ_VALUE;
                    return MORE;
                }
                return REJECT;
            case OBJ_VALUE:
                stack[depth - 1] = OBJ_NEXT;
                vMode = V_START;
                return startValue(b, ToolGrammar.ANY);
            default: // OBJ_NEXT
                if (b == ',') {
                    stack[depth - 1] = OBJ_KEY;
                    return MORE;
                }
                return b == '}' ? closeContainer() : REJECT;
        }
    }

    private int closeContainer() {
        depth--;
        if (depth == 0) {
            return END;
        }
        vMode = V_CONTAINER;
        return MORE;
    }

    // strings

    private int startString() {
        vMode = V_STRING;
        strEsc = 0;
        utfNeed = 0;
        return MORE;
    }

    private int feedString(int b) {
        if (utfNeed > 0) {
            if (b < utfLo || b > utfHi) {
                return REJECT;
            }
            utfNeed--;
            utfLo = 0x80;
            utfHi = 0xBF;
            return MORE;
        }
        if (strEsc == 1) {
            switch (b) {
                case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                    strEsc = 0;
                    return MORE;
                case 'u':
                    strEsc = 5; // four hex digits to read
                    return MORE;
                default:
                    return REJECT;
            }
        }
        if (strEsc > 1) {
            boolean hex = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
            if (!hex) {
                return REJECT;
            }
            strEsc = strEsc == 2 ? 0 : strEsc - 1;
            return MORE;
        }
        if (b == '"') {
            return scalarEnd(false, b);
        }
        if (b == '\\') {
            strEsc = 1;
            return MORE;
        }
        if (b < 0x20) {
            return REJECT;
        }
        if (b < 0x80) {
            return MORE;
        }
        // UTF-8 lead byte: only well-formed sequences (no overlongs, no surrogates, <= U+10FFFF)
        if (b >= 0xC2 && b <= 0xDF) {
            utfNeed = 1;
        } else if (b == 0xE0) {
            utfNeed = 2;
            utfLo = 0xA0;
        } else if (b == 0xED) {
            utfNeed = 2;
            utfHi = 0x9F;
        } else if (b >= 0xE1 && b <= 0xEF) {
            utfNeed = 2;
        } else if (b == 0xF0) {
            utfNeed = 3;
            utfLo = 0x90;
        } else if (b >= 0xF1 && b <= 0xF3) {
            utfNeed = 3;
        } else if (b == 0xF4) {
            utfNeed = 3;
            utfHi = 0x8F;
        } else {
            return REJECT;
        }
        return MORE;
    }

    // numbers

    private int startNumber(int b, boolean intOnly) {
        numIntOnly = intOnly;
        if (b == '-') {
            num = N_MINUS;
        } else if (b == '0') {
            num = N_ZERO;
        } else if (b >= '1' && b <= '9') {
            num = N_INT;
        } else {
            return REJECT;
        }
        vMode = V_NUMBER;
        return MORE;
    }

    private int feedNumber(int b) {
        boolean digit = b >= '0' && b <= '9';
        switch (num) {
            case N_MINUS:
                if (b == '0') {
                    num = N_ZERO;
                    return MORE;
                }
                if (digit) {
                    num = N_INT;
                    return MORE;
                }
                return REJECT;
            case N_ZERO:
            case N_INT:
                if (digit && num == N_INT) {
                    return MORE;
                }
                if (!numIntOnly && b == '.') {
                    num = N_DOT;
                    return MORE;
                }
                if (!numIntOnly && (b == 'e' || b == 'E')) {
                    num = N_EXP;
                    return MORE;
                }
                return digit ? REJECT : numberEnd(b);
            case N_DOT:
                if (digit) {
                    num = N_FRAC;
                    return MORE;
                }
                return REJECT;
            case N_FRAC:
                if (digit) {
                    return MORE;
                }
                if (b == 'e' || b == 'E') {
                    num = N_EXP;
                    return MORE;
                }
                return numberEnd(b);
            case N_EXP:
                if (b == '+' || b == '-') {
                    num = N_EXP_SIGN;
                    return MORE;
                }
                if (digit) {
                    num = N_EXP_DIGITS;
                    return MORE;
                }
                return REJECT;
            case N_EXP_SIGN:
                if (digit) {
                    num = N_EXP_DIGITS;
                    return MORE;
                }
                return REJECT;
            default: // N_EXP_DIGITS
                return digit ? MORE : numberEnd(b);
        }
    }

    /** A complete number met a byte that cannot continue it: the number ends, the byte goes on. */
    private int numberEnd(int b) {
        return scalarEnd(true, b);
    }
}
