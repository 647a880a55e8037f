package io.needle.cli;

import io.needle.json.Json;
import io.needle.json.JsonNumber;
import io.needle.tools.ToolReport;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * OpenAI's chat completions API over Needle, the Java side (the one place where {@code needle
 * serve} maps requests and answers; the Worker's twin is worker/src/openai.js, which follows the
 * same rules, checks in the same order and writes the same messages):
 *
 * <ul>
 *   <li>{@link #parse}: a request body → what the engine runs ({@link Request}): the query (the last
 *       user message), the tools text, whether a call is required, the token budget; or an
 *       {@link OpenAiError};
 *   <li>{@link Output}: the engine's text (a JSON array of calls, as it streams) → tool calls with
 *       their arguments as the model wrote them;
 *   <li>{@link #completion} and {@link Chunks}: the {@code chat.completion} object and the
 *       {@code chat.completion.chunk} events of a stream.
 * </ul>
 */
final class OpenAiChat {
    /** The one model this endpoint serves. */
    static final String MODEL_ID = "needle";
    static final String OWNED_BY = "needle-java-wasm";

    /** Request parameters that change what is run. */
    private static final Set<String> USED = Set.of("model", "messages", "tools", "tool_choice", "parallel_tool_calls",
            "max_tokens", "max_completion_tokens", "stream", "stream_options");
    /** Accepted and ignored: they have no effect on greedy, grammar-constrained decoding, or are bookkeeping. */
    private static final Set<String> IGNORED = Set.of("temperature", "top_p", "seed", "user", "metadata", "store",
            "frequency_penalty", "presence_penalty", "stop", "service_tier", "prompt_cache_key", "safety_identifier",
            "reasoning_effort", "verbosity");
    /** Accepted at their default only (null or the JSON text given), with the reason why. */
    private static final Map<String, String[]> DEFAULT_ONLY = defaultOnly();
    private static final List<String> ROLES = List.of("system", "developer", "user", "assistant", "tool", "function");

    private static Map<String, String[]> defaultOnly() {
        Map<String, String[]> m = new LinkedHashMap<>();
        m.put("n", new String[] {"1", "Needle answers with one choice"});
        m.put("logprobs", new String[] {"false", "Needle does not return log probabilities"});
        m.put("top_logprobs", new String[] {"0", "Needle does not return log probabilities"});
        m.put("response_format", new String[] {"{\"type\":\"text\"}", "Needle answers with tool calls, not formatted text"});
        m.put("modalities", new String[] {"[\"text\"]", "Needle reads and writes text only"});
        m.put("logit_bias", new String[] {"{}", "Needle's decoding is greedy and constrained by the tools' grammar"});
        m.put("audio", new String[] {null, "Needle reads and writes text only"});
        m.put("functions", new String[] {null, "the deprecated \"functions\" are not supported: use \"tools\""});
        m.put("function_call", new String[] {null, "the deprecated \"function_call\" is not supported: use \"tool_choice\""});
        m.put("web_search_options", new String[] {null, "Needle has no web search"});
        m.put("prediction", new String[] {null, "Needle has no predicted outputs"});
        return Collections.unmodifiableMap(m);
    }

    private OpenAiChat() {
    }

    // ------------------------------------------------------------------ requests

    /** What one chat.completions request asks of the engine. */
    static final class Request {
        /** The last user message's text. */
        final String query;
        /** The tool list given to the engine (JSON): all tools, the named one, or none ({@code "none"}). */
        final String tools;
        /** {@code tool_choice} "required" or a named function: the grammar refuses {@code []}. */
        final boolean requireCall;
        /** False: only the first call is answered. */
        final boolean parallelToolCalls;
        final int maxNewTokens;
        final boolean stream;
        /** {@code stream_options.include_usage}: a last chunk with the usage. */
        final boolean includeUsage;

        Request(String query, String tools, boolean requireCall, boolean parallelToolCalls, int maxNewTokens,
                boolean stream, boolean includeUsage) {
            this.query = query;
            this.tools = tools;
            this.requireCall = requireCall;
            this.parallelToolCalls = parallelToolCalls;
            this.maxNewTokens = maxNewTokens;
            this.stream = stream;
            this.includeUsage = includeUsage;
        }
    }

    /**
     * Checks a request body (parsed JSON) and maps it; {@code maxNewTokensCap} is the most tokens a
     * request may generate (the model's 511). Throws {@link OpenAiError} for the first problem.
     */
    static Request parse(Object body, int maxNewTokensCap) {
        if (!(body instanceof Map)) {
            throw OpenAiError.invalid("invalid_type", null, "the request body must be a JSON object, got " + Json.kindOf(body));
        }
        Map<?, ?> b = (Map<?, ?>) body;
        for (Map.Entry<?, ?> e : b.entrySet()) {
            String key = (String) e.getKey();
            String[] only = DEFAULT_ONLY.get(key);
            if (only != null) {
                Object v = e.getValue();
                if (v != null && (only[0] == null || !only[0].equals(Json.write(v)))) {
                    throw OpenAiError.invalid("unsupported_parameter", key, "unsupported parameter \"" + key + "\": "
                            + only[1] + (only[0] == null ? "" : " (only " + only[0] + " is accepted)"));
                }
            } else if (!USED.contains(key) && !IGNORED.contains(key)) {
                throw OpenAiError.invalid("unknown_parameter", key, "unknown parameter \"" + key + "\"");
            }
        }
        model(b);
        String query = query(b.get("messages"));
        List<?> tools = tools(b.get("tools"));
        Object choice = b.get("tool_choice");
        String engineTools;
        boolean requireCall;
        if (choice == null || "auto".equals(choice)) {
            engineTools = Json.write(tools);
            requireCall = false;
        } else if ("none".equals(choice)) {
            engineTools = "[]";
            requireCall = false;
        } else if ("required".equals(choice)) {
            if (tools.isEmpty()) {
                throw OpenAiError.invalid("invalid_value", "tool_choice",
                        "tool_choice \"required\" needs at least one tool in \"tools\"");
            }
            engineTools = Json.write(tools);
            requireCall = true;
        } else {
            String name = namedFunction(choice);
            Object chosen = null;
            for (Object t : tools) {
                if (name.equals(((Map<?, ?>) ((Map<?, ?>) t).get("function")).get("name"))) {
                    chosen = t;
                    break;
                }
            }
            if (chosen == null) {
                throw OpenAiError.invalid("invalid_value", "tool_choice",
                        "tool_choice names the function " + Json.quote(name) + ", which is not among \"tools\"");
            }
            engineTools = Json.write(List.of(chosen));
            requireCall = true;
        }
        boolean parallel = optionalBoolean(b, "parallel_tool_calls", true);
        int max = maxNewTokensCap;
        Integer completion = positiveInteger(b, "max_completion_tokens");
        Integer legacy = positiveInteger(b, "max_tokens");
        if (completion != null) {
            max = Math.min(completion, maxNewTokensCap);
        } else if (legacy != null) {
            max = Math.min(legacy, maxNewTokensCap);
        }
        boolean stream = optionalBoolean(b, "stream", false);
        boolean includeUsage = false;
        Object options = b.get("stream_options");
        if (options != null) {
            if (!(options instanceof Map)) {
                throw OpenAiError.invalid("invalid_type", "stream_options",
                        "\"stream_options\" must be an object, got " + Json.kindOf(options));
            }
            if (!stream) {
                throw OpenAiError.invalid("invalid_value", "stream_options",
                        "\"stream_options\" is only allowed with \"stream\": true");
            }
            Object usage = ((Map<?, ?>) options).get("include_usage");
            if (usage != null && !(usage instanceof Boolean)) {
                throw OpenAiError.invalid("invalid_type", "stream_options.include_usage",
                        "\"stream_options.include_usage\" must be true or false, got " + Json.kindOf(usage));
            }
            includeUsage = Boolean.TRUE.equals(usage);
        }
        return new Request(query, engineTools, requireCall, parallel, max, stream, includeUsage);
    }

    private static void model(Map<?, ?> b) {
        Object model = b.get("model");
        if (model == null) {
            throw OpenAiError.invalid("missing_required_parameter", "model",
                    "missing required parameter \"model\" (this server's model is \"" + MODEL_ID + "\")");
        }
        if (!(model instanceof String)) {
            throw OpenAiError.invalid("invalid_type", "model", "\"model\" must be a string, got " + Json.kindOf(model));
        }
        if (!model.equals(MODEL_ID)) {
            throw modelNotFound((String) model);
        }
    }

    static OpenAiError modelNotFound(String model) {
        return new OpenAiError(404, "model_not_found", "model",
                "the model " + Json.quote(model) + " does not exist: this server serves \"" + MODEL_ID + "\"");
    }

    /** The text of the last user message (its text parts joined by line breaks). */
    private static String query(Object messages) {
        if (messages == null) {
            throw OpenAiError.invalid("missing_required_parameter", "messages", "missing required parameter \"messages\"");
        }
        if (!(messages instanceof List)) {
            throw OpenAiError.invalid("invalid_type", "messages",
                    "\"messages\" must be an array of messages, got " + Json.kindOf(messages));
        }
        List<?> list = (List<?>) messages;
        if (list.isEmpty()) {
            throw OpenAiError.invalid("invalid_value", "messages", "\"messages\" must not be empty");
        }
        String query = null;
        for (int i = 0; i < list.size(); i++) {
            String at = "messages[" + i + "]";
            if (!(list.get(i) instanceof Map)) {
                throw OpenAiError.invalid("invalid_type", at,
                        at + " must be a message object {\"role\", \"content\"}, got " + Json.kindOf(list.get(i)));
            }
            Map<?, ?> m = (Map<?, ?>) list.get(i);
            Object role = m.get("role");
            if (!(role instanceof String)) {
                throw OpenAiError.invalid("invalid_type", at + ".role", at + ".role must be a string, got " + Json.kindOf(role));
            }
            if (!ROLES.contains(role)) {
                throw OpenAiError.invalid("invalid_value", at + ".role", "unknown role " + Json.quote((String) role)
                        + " (roles: " + String.join(", ", ROLES) + ")");
            }
            if (role.equals("user")) {
                query = userText(m.get("content"), at + ".content");
            }
        }
        if (query == null) {
            throw OpenAiError.invalid("invalid_value", "messages",
                    "\"messages\" has no user message: Needle routes the last user message");
        }
        return query;
    }

    private static String userText(Object content, String at) {
        if (content == null) {
            throw OpenAiError.invalid("missing_required_parameter", at, "missing required parameter " + at);
        }
        if (content instanceof String) {
            return (String) content;
        }
        if (!(content instanceof List)) {
            throw OpenAiError.invalid("invalid_type", at, at + " must be a string or an array of text parts, got "
                    + Json.kindOf(content));
        }
        StringBuilder text = new StringBuilder();
        List<?> parts = (List<?>) content;
        for (int j = 0; j < parts.size(); j++) {
            String pat = at + "[" + j + "]";
            Object part = parts.get(j);
            if (!(part instanceof Map)) {
                throw OpenAiError.invalid("invalid_type", pat, pat + " must be a content part object, got " + Json.kindOf(part));
            }
            Object type = ((Map<?, ?>) part).get("type");
            if (!"text".equals(type)) {
                throw OpenAiError.invalid("unsupported_content", pat + ".type", "only text content is supported"
                        + " (Needle reads text), got a part of type " + (type instanceof String ? Json.quote((String) type)
                        : Json.kindOf(type)));
            }
            Object t = ((Map<?, ?>) part).get("text");
            if (!(t instanceof String)) {
                throw OpenAiError.invalid("invalid_type", pat + ".text", pat + ".text must be a string, got " + Json.kindOf(t));
            }
            if (j > 0) {
                text.append('\n');
            }
            text.append((String) t);
        }
        return text.toString();
    }

    /** The request's tools: function tools, each with a function name (the engine checks the rest). */
    private static List<?> tools(Object tools) {
        if (tools == null) {
            return List.of();
        }
        if (!(tools instanceof List)) {
            throw OpenAiError.invalid("invalid_type", "tools", "\"tools\" must be an array of tools, got " + Json.kindOf(tools));
        }
        List<?> list = (List<?>) tools;
        for (int i = 0; i < list.size(); i++) {
            String at = "tools[" + i + "]";
            Object t = list.get(i);
            if (!(t instanceof Map)) {
                throw OpenAiError.invalid("invalid_type", at,
                        at + " must be a tool object {\"type\": \"function\", \"function\": {…}}, got " + Json.kindOf(t));
            }
            if (!"function".equals(((Map<?, ?>) t).get("type"))) {
                throw OpenAiError.invalid("invalid_value", at + ".type",
                        at + ": only function tools are supported ({\"type\": \"function\", \"function\": {…}})");
            }
            Object f = ((Map<?, ?>) t).get("function");
            if (!(f instanceof Map)) {
                throw OpenAiError.invalid("invalid_type", at + ".function", at + ".function must be an object"
                        + " {\"name\", \"description\", \"parameters\"}, got " + Json.kindOf(f));
            }
            Object name = ((Map<?, ?>) f).get("name");
            if (!(name instanceof String) || ((String) name).isEmpty()) {
                throw OpenAiError.invalid("invalid_value", at + ".function.name",
                        at + ".function.name must be a non-empty string");
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> report = ToolReport.of(Json.write(list));
        List<?> problems = (List<?>) report.get("problems");
        if (!problems.isEmpty()) {
            throw OpenAiError.invalid("invalid_value", "tools", "\"tools\": " + ((Map<?, ?>) problems.get(0)).get("message"));
        }
        return list;
    }

    private static String namedFunction(Object choice) {
        if (choice instanceof Map && "function".equals(((Map<?, ?>) choice).get("type"))) {
            Object f = ((Map<?, ?>) choice).get("function");
            if (f instanceof Map && ((Map<?, ?>) f).get("name") instanceof String) {
                return (String) ((Map<?, ?>) f).get("name");
            }
        }
        throw OpenAiError.invalid("invalid_value", "tool_choice", "tool_choice must be \"auto\", \"none\", \"required\""
                + " or {\"type\": \"function\", \"function\": {\"name\": …}}, got " + describe(choice));
    }

    private static boolean optionalBoolean(Map<?, ?> b, String key, boolean dflt) {
        Object v = b.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Boolean)) {
            throw OpenAiError.invalid("invalid_type", key, "\"" + key + "\" must be true or false, got " + Json.kindOf(v));
        }
        return (Boolean) v;
    }

    /** An optional integer of at least 1 (beyond an int: Integer.MAX_VALUE); null when absent. */
    private static Integer positiveInteger(Map<?, ?> b, String key) {
        Object v = b.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof JsonNumber) {
            double d = ((JsonNumber) v).doubleValue();
            if (d >= 1 && d == Math.rint(d) && !Double.isInfinite(d)) {
                return d >= Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) d;
            }
        }
        throw OpenAiError.invalid("invalid_value", key, "\"" + key + "\" must be an integer of at least 1, got " + describe(v));
    }

    /** A value in a message: its compact JSON, shortened. */
    private static String describe(Object v) {
        String s = Json.write(v);
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    // ------------------------------------------------------------------ output → tool calls

    /** One tool call of the output. */
    static final class Call {
        final String id;
        final String name;
        /** The arguments object as the model wrote it (so far, when cut short). */
        final StringBuilder arguments = new StringBuilder();
        /** True once the call's object is closed. */
        boolean closed;

        Call(String id, String name) {
            this.id = id;
            this.name = name;
        }
    }

    /** What a piece of output adds: a call that starts (its name known) or more of a call's arguments. */
    interface Events {
        void callStarted(int index, Call call);

        void arguments(int index, String fragment);
    }

    /**
     * Reads the engine's output text as it streams, {@code [{"name":"…","arguments":{…}},…]} (the
     * layout the grammar guarantees), into {@link Call}s: a call starts when its name is complete;
     * its arguments are the exact text of its arguments object. Anything outside that layout ends the
     * reading (it cannot happen with constrained decoding).
     */
    static final class Output {
        private static final int START = 0;
        private static final int ITEM_OR_END = 1;
        private static final int LITERAL = 2;
        private static final int NAME = 3;
        private static final int ARGUMENTS = 4;
        private static final int CALL_CLOSE = 5;
        private static final int AFTER_CALL = 6;
        private static final int ITEM = 7;
        private static final int END = 8;
        private static final String NAME_PREFIX = "\"name\":\"";
        private static final String ARGUMENTS_PREFIX = ",\"arguments\":";

        final List<Call> calls = new ArrayList<>();
        private final StringBuilder text = new StringBuilder();
        private final StringBuilder name = new StringBuilder();
        private int state = START;
        private String literal;
        private int literalPos;
        private int depth;
        private boolean inString;
        private boolean escaped;

        /** The text read so far. */
        String text() {
            return text.toString();
        }

        /** Reads a piece of the output, telling {@code events} (may be null) what it adds. */
        void push(String piece, Events events) {
            text.append(piece);
            int argsFrom = -1; // where this piece's arguments text of the current call starts
            for (int i = 0; i < piece.length(); i++) {
                char c = piece.charAt(i);
                switch (state) {
                    case START:
                        if (c == '[') {
                            state = ITEM_OR_END;
                        } else if (c != ' ') {
                            state = END;
                        }
                        break;
                    case ITEM_OR_END:
                    case ITEM:
                        if (c == '{') {
                            startLiteral(NAME_PREFIX);
                        } else {
                            state = END; // ']' (or anything else)
                        }
                        break;
                    case LITERAL:
                        if (c != literal.charAt(literalPos)) {
                            state = END;
                        } else if (++literalPos == literal.length()) {
                            if (literal.equals(NAME_PREFIX)) {
                                state = NAME;
                                name.setLength(0);
                                escaped = false;
                            } else {
                                state = ARGUMENTS;
                                depth = 0;
                                inString = false;
                                escaped = false;
                            }
                        }
                        break;
                    case NAME:
                        if (escaped) {
                            escaped = false;
                            name.append(c);
                        } else if (c == '\\') {
                            escaped = true;
                            name.append(c);
                        } else if (c == '"') {
                            Call call = new Call(newId("call_"), (String) Json.parse("\"" + name + "\""));
                            calls.add(call);
                            if (events != null) {
                                events.callStarted(calls.size() - 1, call);
                            }
                            startLiteral(ARGUMENTS_PREFIX);
                        } else {
                            name.append(c);
                        }
                        break;
                    case ARGUMENTS:
                        if (argsFrom < 0) {
                            argsFrom = i;
                        }
                        if (argumentsChar(c)) {
                            flushArguments(piece, argsFrom, i + 1, events);
                            argsFrom = -1;
                            state = CALL_CLOSE;
                        }
                        break;
                    case CALL_CLOSE:
                        if (c == '}') {
                            calls.get(calls.size() - 1).closed = true;
                            state = AFTER_CALL;
                        } else {
                            state = END;
                        }
                        break;
                    case AFTER_CALL:
                        state = c == ',' ? ITEM : END;
                        break;
                    default: // END
                        break;
                }
            }
            if (argsFrom >= 0) {
                flushArguments(piece, argsFrom, piece.length(), events);
            }
        }

        private void startLiteral(String s) {
            literal = s;
            literalPos = 0;
            state = LITERAL;
        }

        /** One character of an arguments value; true when it closes the value. */
        private boolean argumentsChar(char c) {
            if (inString) {
                if (escaped) {
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '"') {
                    inString = false;
                }
                return false;
            }
            if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
            }
            return depth == 0;
        }

        private void flushArguments(String piece, int from, int to, Events events) {
            if (to > from) {
                String fragment = piece.substring(from, to);
                calls.get(calls.size() - 1).arguments.append(fragment);
                if (events != null) {
                    events.arguments(calls.size() - 1, fragment);
                }
            }
        }
    }

    // ------------------------------------------------------------------ answers

    /** The finished run as the answer sees it: the calls it returns, its content, why it stopped. */
    static final class Answer {
        final List<Call> calls;
        /** The model's text when no call is returned (e.g. {@code []}), else null. */
        final String content;
        /** {@code tool_calls}, {@code stop} or {@code length}. */
        final String finishReason;

        Answer(Output output, boolean complete, boolean parallelToolCalls) {
            List<Call> c = output.calls;
            if (!parallelToolCalls && c.size() > 1) {
                c = c.subList(0, 1);
            }
            calls = c;
            content = c.isEmpty() ? output.text() : null;
            if (c.isEmpty()) {
                finishReason = complete ? "stop" : "length";
            } else {
                finishReason = complete || (!parallelToolCalls && c.get(0).closed) ? "tool_calls" : "length";
            }
        }
    }

    /** {@code usage}: the encoder input's tokens and the generated ones. */
    static Map<String, Object> usage(int promptTokens, int completionTokens) {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("prompt_tokens", promptTokens);
        u.put("completion_tokens", completionTokens);
        u.put("total_tokens", promptTokens + completionTokens);
        return u;
    }

    /** The {@code chat.completion} object of a finished run. */
    static Map<String, Object> completion(String id, long created, Answer answer, Map<String, Object> usage) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("role", "assistant");
        message.put("content", answer.content);
        message.put("refusal", null);
        if (!answer.calls.isEmpty()) {
            List<Object> calls = new ArrayList<>();
            for (Call c : answer.calls) {
                calls.add(toolCall(null, c.id, c.name, c.arguments.toString()));
            }
            message.put("tool_calls", calls);
        }
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        choice.put("message", message);
        choice.put("logprobs", null);
        choice.put("finish_reason", answer.finishReason);
        Map<String, Object> m = head(id, "chat.completion", created);
        m.put("choices", List.of(choice));
        m.put("usage", usage);
        return m;
    }

    private static Map<String, Object> head(String id, String object, long created) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", object);
        m.put("created", created);
        m.put("model", MODEL_ID);
        return m;
    }

    /** A tool call (index null: in a message) or its first delta (index set: in a chunk). */
    private static Map<String, Object> toolCall(Integer index, String id, String name, String arguments) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", name);
        function.put("arguments", arguments);
        Map<String, Object> call = new LinkedHashMap<>();
        if (index != null) {
            call.put("index", index);
        }
        call.put("id", id);
        call.put("type", "function");
        call.put("function", function);
        return call;
    }

    /**
     * The {@code chat.completion.chunk} events of a streamed answer, each given to {@code sink} as
     * it is known: the role, then per call its start (id, name) and its arguments as they come (a
     * request without parallel tool calls streams the first call only), then the content when no
     * call came, the finish reason and (with {@code include_usage}) the usage.
     */
    static final class Chunks implements Events {
        interface Sink {
            void event(Map<String, Object> chunk);
        }

        private final String id;
        private final long created;
        private final Request request;
        private final Sink sink;
        final Output output = new Output();

        Chunks(String id, long created, Request request, Sink sink) {
            this.id = id;
            this.created = created;
            this.request = request;
            this.sink = sink;
        }

        /** The first event: the assistant's role. */
        void begin() {
            Map<String, Object> delta = new LinkedHashMap<>();
            delta.put("role", "assistant");
            emit(delta, null);
        }

        /** A piece of the output text. */
        void piece(String text) {
            output.push(text, this);
        }

        @Override
        public void callStarted(int index, Call call) {
            if (index == 0 || request.parallelToolCalls) {
                emit(Map.of("tool_calls", List.of(toolCall(index, call.id, call.name, ""))), null);
            }
        }

        @Override
        public void arguments(int index, String fragment) {
            if (index == 0 || request.parallelToolCalls) {
                Map<String, Object> call = new LinkedHashMap<>();
                call.put("index", index);
                call.put("function", Map.of("arguments", fragment));
                emit(Map.of("tool_calls", List.of(call)), null);
            }
        }

        /** The last events, once the run is over; returns the answer. */
        Answer end(boolean complete, int promptTokens, int completionTokens) {
            Answer answer = new Answer(output, complete, request.parallelToolCalls);
            if (answer.content != null && !answer.content.isEmpty()) {
                emit(Map.of("content", answer.content), null);
            }
            emit(Map.of(), answer.finishReason);
            if (request.includeUsage) {
                Map<String, Object> m = head(id, "chat.completion.chunk", created);
                m.put("choices", List.of());
                m.put("usage", usage(promptTokens, completionTokens));
                sink.event(m);
            }
            return answer;
        }

        private void emit(Map<String, Object> delta, String finishReason) {
            Map<String, Object> choice = new LinkedHashMap<>();
            choice.put("index", 0);
            choice.put("delta", delta);
            choice.put("logprobs", null);
            choice.put("finish_reason", finishReason);
            Map<String, Object> m = head(id, "chat.completion.chunk", created);
            m.put("choices", List.of(choice));
            if (request.includeUsage) {
                m.put("usage", null);
            }
            sink.event(m);
        }
    }

    /** {@code GET /v1/models/needle}. */
    static Map<String, Object> model() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", MODEL_ID);
        m.put("object", "model");
        m.put("created", 0);
        m.put("owned_by", OWNED_BY);
        return m;
    }

    /** {@code GET /v1/models}. */
    static Map<String, Object> models() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("object", "list");
        m.put("data", List.of(model()));
        return m;
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    /** {@code prefix} and 24 random hex digits ({@code chatcmpl-…}, {@code call_…}). */
    static String newId(String prefix) {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        StringBuilder sb = new StringBuilder(prefix);
        for (byte x : b) {
            sb.append(Character.forDigit((x >> 4) & 15, 16)).append(Character.forDigit(x & 15, 16));
        }
        return sb.toString();
    }
}
