package io.needle.cli;

import io.needle.engine.NeedleException;
import io.needle.model.Config;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * {@code needle inspect W}: the model config, one {@code key: value} line per field (the metadata
 * names, defaults filled in), then one line per tensor in file order,
 * {@code name dtype shape bytes}, with the shape written without spaces ({@code [512,64]},
 * {@code []} for a scalar) so that every tensor line has four space-separated fields.
 * When the file parses but its config is bad, the tensors are still listed and the config
 * problem is the error.
 */
final class InspectCommand {
    private InspectCommand() {
    }

    static int run(String[] argv, int from, PrintStream out, PrintStream err) {
        Args a = Args.parse("inspect", argv, from, List.of(), List.of());
        a.expectPositionals(1, "a weights file W");
        String path = a.positionals().get(0);
        SafeTensors st = SafeTensors.parse(Inputs.readFile("weights", path));
        NeedleException configError = null;
        try {
            Config config = Config.fromMetadata(st.metadata());
            for (Map.Entry<String, Object> e : config.toMap().entrySet()) {
                out.print(e.getKey() + ": " + e.getValue() + "\n");
            }
        } catch (NeedleException e) {
            configError = e;
        }
        for (TensorInfo t : st.tensors()) {
            out.print(t.name() + " " + t.dtype() + " " + shape(t.shape()) + " " + t.byteLength() + "\n");
        }
        if (configError != null) {
            throw configError;
        }
        return Main.EXIT_OK;
    }

    /** {@code [512,64]}; {@code []} for a scalar. */
    static String shape(int[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(shape[i]);
        }
        return sb.append(']').toString();
    }
}
