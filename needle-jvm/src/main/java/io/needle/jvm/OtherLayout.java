package io.needle.jvm;

import io.needle.engine.NeedleException;
import io.needle.json.Json;
import io.needle.safetensors.SafeTensors;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Tells a weight file in another tensor layout apart from a broken one, for the errors of files
 * that do not even parse as a container of the needle-rs layout (MODEL.md section 4). The engine
 * says "this file is in another tensor layout" itself when a required tensor is missing; a file of
 * the retired invented layout, whose I4 shapes {@code [in, out]} count weights rather than bytes,
 * fails the container check first, with a message about byte counts. {@link #explain} adds the
 * same sentence there.
 *
 * <pre>
 * try {
 *     engine = NeedleEngine.load(bytes, vocab);
 * } catch (NeedleException e) {
 *     throw OtherLayout.explain(e, bytes);
 * }
 * </pre>
 */
public final class OtherLayout {
    /** The layout the engine reads, as the engine's missing-tensor error names it, plus the I4 shape rule. */
    public static final String LAYOUT = "the needle-rs layout of MODEL.md section 4 (names like 'embedding', "
            + "'encoder.0.self_attn.wq' + 'encoder.0.self_attn.wq.scale', 'decoder.0.cross_attn_norm'; I4 shapes"
            + " [in_pad/2, out] count bytes)";
    /** The sentence the engine and {@link #explain} use. */
    static final String SAYS = "this file is in another tensor layout";

    private OtherLayout() {
    }

    /**
     * {@code e} with {@code "; this file is in another tensor layout: needle-java-wasm reads …"}
     * appended when it is a WEIGHTS error that does not say so yet and {@code file}'s tensor names
     * are another layout's ({@link #namesInAnotherLayout}); otherwise {@code e} itself.
     */
    public static NeedleException explain(NeedleException e, byte[] file) {
        if (e.kind() != NeedleException.Kind.WEIGHTS || e.getMessage() == null || e.getMessage().contains(SAYS)
                || !namesInAnotherLayout(file)) {
            return e;
        }
        NeedleException x = new NeedleException(e.kind(), e.getMessage() + "; " + SAYS + ": needle-java-wasm reads "
                + LAYOUT);
        x.initCause(e);
        return x;
    }

    /**
     * Whether {@code file}'s SafeTensors header is a JSON object listing tensors of which none is
     * named as in the needle-rs layout ({@code encoder.0.norm}, {@code encoder.0.self_attn…},
     * {@code decoder.0.cross_attn…}, the rule of the engine's own message). False for anything
     * that is not such a header.
     */
    public static boolean namesInAnotherLayout(byte[] file) {
        if (file == null || file.length < 8) {
            return false;
        }
        long n = 0;
        for (int i = 7; i >= 0; i--) {
            n = (n << 8) | (file[i] & 0xff);
        }
        if (n <= 0 || n > file.length - 8L || n > SafeTensors.MAX_HEADER_LENGTH) {
            return false;
        }
        Object root;
        try {
            root = Json.parse(new String(file, 8, (int) n, StandardCharsets.UTF_8), (int) n);
        } catch (RuntimeException e) {
            return false;
        }
        if (!(root instanceof Map)) {
            return false;
        }
        int tensors = 0;
        for (Object key : ((Map<?, ?>) root).keySet()) {
            String name = String.valueOf(key);
            if (name.equals("__metadata__")) {
                continue;
            }
            tensors++;
            if (name.startsWith("encoder.0.") || name.startsWith("decoder.0.")) {
                String rest = name.substring("encoder.0.".length());
                if (rest.equals("norm") || rest.startsWith("self_attn") || rest.startsWith("cross_attn")) {
                    return false;
                }
            }
        }
        return tensors > 0;
    }
}
