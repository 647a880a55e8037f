package io.needle.wasm;

import io.needle.json.JsonPosition;
import io.needle.base.NeedleException;

/**
 * A {@link NeedleException} on its way to JavaScript. TeaVM gives JavaScript only an exception's
 * message, so the machine-readable kind travels in front of it: {@code "NeedleException[VOCAB] the
 * vocabulary has ..."}; a JSON error's position follows the kind ({@code "NeedleException[JSON@2:1]
 * the tools are not valid JSON: ... at line 2 column 1"}, see {@link JsonPosition}). The npm
 * package's wrapper turns that back into an {@code Error} whose {@code kind} is {@code "VOCAB"}
 * (with {@code line} and {@code column} for a positioned JSON error) and whose message is the
 * engine's.
 */
final class WasmError extends RuntimeException {
    /** The prefix before the kind; the JavaScript wrapper matches {@code /^NeedleException\[([A-Z]+)(@L:C)?\] /}. */
    static final String PREFIX = "NeedleException[";

    private WasmError(String message) {
        super(message);
    }

    static WasmError of(NeedleException e) {
        int[] position = e.kind() == NeedleException.Kind.JSON ? JsonPosition.of(e.getMessage()) : null;
        String where = position == null ? "" : "@" + position[0] + ":" + position[1];
        return new WasmError(PREFIX + e.kind().name() + where + "] " + e.getMessage());
    }

    /** A body whose {@link NeedleException}s become {@link WasmError}s; see {@link #guard}. */
    interface Body<T> {
        T get();
    }

    /** Runs {@code body}; a NeedleException leaves it as a WasmError carrying the kind. */
    static <T> T guard(Body<T> body) {
        try {
            return body.get();
        } catch (NeedleException e) {
            throw of(e);
        }
    }
}
