package io.needle.model;

/**
 * The optional gated feed-forward block: {@code down(act(gate(x), up(x)))} with
 * drelu = relu(g)*relu(u), swiglu = silu(g)*u, geglu = gelu_tanh(g)*u.
 */
public final class FeedForward {
    final Linear gate;
    final Linear up;
    final Linear down;
    final String activation;

    public FeedForward(Linear gate, Linear up, Linear down, String activation) {
        this.gate = gate;
        this.up = up;
        this.down = down;
        this.activation = activation;
    }

    /** x [rows, d] → out [rows, d]. */
    public void forward(float[] x, int rows, float[] out, Scratch scratch) {
        int ff = gate.out();
        float[] g = scratch.floats(Scratch.FFN_GATE, rows * ff);
        float[] u = scratch.floats(Scratch.FFN_UP, rows * ff);
        gate.forward(x, g, rows, scratch);
        up.forward(x, u, rows, scratch);
        for (int i = 0; i < rows * ff; i++) {
            g[i] = activate(g[i], u[i]);
        }
        down.forward(g, out, rows, scratch);
    }

    private float activate(float g, float u) {
        switch (activation) {
            case "swiglu":
                return (float) (g / (1.0 + Math.exp(-g))) * u;
            case "geglu": {
                double gd = g;
                double inner = Math.sqrt(2.0 / Math.PI) * (gd + 0.044715 * gd * gd * gd);
                return (float) (0.5 * gd * (1.0 + Math.tanh(inner))) * u;
            }
            default: // drelu
                return Math.max(g, 0f) * Math.max(u, 0f);
        }
    }
}
