package io.needle.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error of the OpenAI-compatible endpoint ({@code needle serve}), answered as OpenAI's error
 * object {@code {"error": {"message", "type", "param", "code"}}} with the HTTP status: one line for
 * people ({@code message}), a stable word for programs ({@code code}), the request field at fault
 * ({@code param}, or null). The Worker answers the same (worker/src/openai.js).
 */
final class OpenAiError extends RuntimeException {
    final int status;
    final String param;
    final String code;

    OpenAiError(int status, String code, String param, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.param = param;
    }

    /** 400: the request is wrong. */
    static OpenAiError invalid(String code, String param, String message) {
        return new OpenAiError(400, code, param, message);
    }

    /** OpenAI's {@code type}: {@code invalid_request_error} for the client's faults, {@code server_error} for ours. */
    String type() {
        return status >= 500 ? "server_error" : "invalid_request_error";
    }

    /** {@code {"error": {"message", "type", "param", "code"}}}. */
    Map<String, Object> toJson() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("message", getMessage());
        e.put("type", type());
        e.put("param", param);
        e.put("code", code);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", e);
        return m;
    }
}
