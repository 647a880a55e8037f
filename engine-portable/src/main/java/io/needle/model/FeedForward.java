package io.needle.model;

/**
 * The optional gated feed-forward block: {@code down(act(gate(x), up(x)))} with
 * drelu = relu(g)*relu(u), swiglu = silu(g)*u, geglu = gelu_tanh(g)*u.
 */
public final class FeedForward {
    final Linear gate;
    final Linear up;
    final Linear down;
    final Activation activation;

    public FeedForward(Linear gate, Linear up, Linear down, Activation activation) {
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
            g[i] = activation.apply(g[i], u[i]);
        }
        down.forward(g, out, rows, scratch);
    }
}
