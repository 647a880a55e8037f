package io.needle.model;

/**
 * The FFN activation (docs/spec/MODEL.md section 2), resolved once at load from the config's
 * {@code activation}: {@code act(g, u)} combines the gate and up projections of one value.
 */
public enum Activation {
    /** relu(g) · relu(u). */
    DRELU {
        @Override
        float apply(float g, float u) {
            return Math.max(g, 0f) * Math.max(u, 0f);
        }
    },
    /** silu(g) · u. */
    SWIGLU {
        @Override
        float apply(float g, float u) {
            return (float) (g / (1.0 + Exp.exp(-g))) * u;
        }
    },
    /**
     * gelu(g) · u, gelu in its tanh approximation. {@code StrictMath.tanh} (fdlibm), not
     * {@code Math.tanh}: since Java 24 the JVM's intrinsic gives other last bits for 11% of
     * arguments (Java 25.0.3 against 17.0.15, 2 M samples), while fdlibm's matches JavaScript's
     * {@code Math.tanh}, which the Wasm build calls, in all but tiny arguments (1 of 2 M, where
     * {@code 1 + tanh} rounds the same): the same floats on every JVM and in Wasm.
     */
    GEGLU {
        @Override
        float apply(float g, float u) {
            double gd = g;
            double inner = Math.sqrt(2.0 / Math.PI) * (gd + 0.044715 * gd * gd * gd);
            return (float) (0.5 * gd * (1.0 + StrictMath.tanh(inner))) * u;
        }
    };

    abstract float apply(float g, float u);

    /** The activation a config names ({@code drelu}, {@code swiglu}, {@code geglu}; Config has checked it). */
    public static Activation of(String name) {
        switch (name) {
            case "swiglu":
                return SWIGLU;
            case "geglu":
                return GEGLU;
            default:
                return DRELU;
        }
    }
}
