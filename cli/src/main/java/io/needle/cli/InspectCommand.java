package io.needle.cli;

import io.needle.base.NeedleException;
import io.needle.json.Json;
import io.needle.model.Config;
import io.needle.model.ConfigReader;
import io.needle.model.WeightLoader;
import io.needle.safetensors.DType;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code needle inspect W} (shared/spec/CLI.md): the model config, then one line per tensor.
 *
 * <p>The config ({@link ConfigReader}, the file in the needle-rs layout of docs/spec/WEIGHTS.md) is
 * one {@code key: value} line per field: first {@code source:}, where it came from
 * ({@link Config.Source#description()}: the {@code __metadata__}, the metadata with the rest
 * inferred from the tensors, or the tensors alone; see {@link #source}); then the fields of
 * {@link Config#toMap()} with export.py's metadata names:
 * <pre>
 * source: __metadata__
 * source: inferred from the tensors (no __metadata__); inferred: d_model, ...; defaults: max_enc_len, ...
 * d_model: 64
 * ...
 * </pre>
 *
 * <p>Then one line per tensor in file order, {@code name dtype shape bytes}, the shape written
 * without spaces ({@code [32,64]}, {@code []} for a scalar) so that these four fields are always
 * the first four space-separated ones; a note in parentheses may follow:
 * <ul>
 *   <li>an I4 linear: its logical {@code [in,out]} (in from the config) and, when the stored rows
 *       are padded, {@code in padded to IN_PAD}: {@code encoder.0.self_attn.wq I4 [32,64] 2048
 *       (logical [64,64])}, {@code decoder.0.ffn.down_proj I4 [48,128] 6144 (logical [75,128], in
 *       padded to 96)};</li>
 *   <li>its {@code .scale}: {@code (group scales of X: one per G input rows)};</li>
 *   <li>a tensor the model does not use ({@link WeightLoader.Result#unused}):
 *       {@code (not used by the model)}; an unknown extra tensor is never an error.</li>
 * </ul>
 * A tensor name that holds spaces or control characters is written as a JSON string (ASCII,
 * {@code \\uXXXX} escapes), so that every tensor stays on one line.
 *
 * <p>When the file parses but its config is bad, or the model does not load (a missing tensor, a
 * wrong shape), everything that could be read is still printed and that problem is the error.
 */
final class InspectCommand {
    private InspectCommand() {
    }

    /** The values that cannot be inferred from the tensors: without metadata they are defaults. */
    private static final Set<String> DEFAULTED = Set.of("max_enc_len", "max_dec_len", "activation", "rope_theta");
    /** The config keys export.py writes, each with its older spelling (or null). */
    private static final String[][] METADATA_KEYS = {
        {"d_model", null}, {"num_heads", null}, {"num_kv_heads", null}, {"num_encoder_layers", null},
        {"num_decoder_layers", null}, {"vocab_size", null}, {"max_enc_len", "max_seq_len"}, {"max_dec_len", null},
        {"ffn_dim", "d_ff"}, {"no_feedforward", null}, {"activation", null}, {"rope_theta", null},
    };

    static int run(String[] argv, int from, PrintStream out, PrintStream err) {
        Args a = Args.parse("inspect", argv, from, List.of(), List.of());
        a.expectPositionals(1, "a weights file W");
        String path = a.positionals().get(0);
        SafeTensors st = SafeTensors.parse(Inputs.readFile("weights", path));
        NeedleException problem = null;
        Config config = null;
        try {
            config = ConfigReader.read(st);
        } catch (NeedleException e) {
            problem = e;
        }
        Set<String> unused = null;
        if (config != null) {
            out.print("source: " + source(config, st.metadata()) + "\n");
            for (Map.Entry<String, Object> e : config.toMap().entrySet()) {
                if (!e.getKey().equals("source")) {
                    out.print(e.getKey() + ": " + e.getValue() + "\n");
                }
            }
            try {
                unused = new HashSet<>();
                for (TensorInfo t : WeightLoader.loadWithReport(st).unused) {
                    unused.add(t.name());
                }
            } catch (NeedleException e) {
                problem = e;
                unused = null;
            }
        }
        for (TensorInfo t : st.tensors()) {
            out.print(name(t.name()) + " " + t.dtype() + " " + shape(t.shape()) + " " + t.byteLength());
            String note = unused != null && unused.contains(t.name()) ? "not used by the model"
                    : config == null ? null : note(config, st, t);
            out.print(note == null ? "\n" : " (" + note + ")\n");
        }
        if (problem != null) {
            throw problem;
        }
        return Main.EXIT_OK;
    }

    /**
     * Where the config came from ({@link Config.Source#description()}), then, when there are any:
     * the values inferred from the tensors, those that are defaults (not in the metadata and not
     * inferable), the older metadata spellings used ({@code max_seq_len}, {@code d_ff}) and the
     * metadata keys that are not part of the config (ignored).
     */
    static String source(Config config, Map<String, String> metadata) {
        StringBuilder sb = new StringBuilder(config.source.description());
        List<String> inferred = new ArrayList<>();
        List<String> defaulted = new ArrayList<>();
        List<String> older = new ArrayList<>();
        for (String[] k : METADATA_KEYS) {
            if (metadata.containsKey(k[0]) || (k[1] != null && metadata.containsKey(k[1]))) {
                if (!metadata.containsKey(k[0])) {
                    older.add(k[1]);
                }
                continue;
            }
            if (DEFAULTED.contains(k[0]) || (k[0].equals("ffn_dim") && config.noFeedforward)) {
                defaulted.add(k[0]);
            } else {
                inferred.add(k[0]);
            }
        }
        if (!inferred.isEmpty()) {
            sb.append("; inferred: ").append(String.join(", ", inferred));
        }
        if (!defaulted.isEmpty()) {
            sb.append("; defaults: ").append(String.join(", ", defaulted));
        }
        if (!older.isEmpty()) {
            sb.append("; older spellings: ").append(String.join(", ", older));
        }
        List<String> ignored = new ArrayList<>();
        for (String k : metadata.keySet()) {
            if (!ConfigReader.isKnownKey(k)) {
                ignored.add(name(k));
            }
        }
        if (!ignored.isEmpty()) {
            ignored.sort(null);
            sb.append("; ignored metadata: ").append(String.join(", ", ignored));
        }
        return sb.toString();
    }

    /** The note after an I4 linear or its scales (null for other tensors). */
    private static String note(Config c, SafeTensors st, TensorInfo t) {
        String n = t.name();
        if (t.dtype() == DType.I4) {
            int[] io = logical(c, n);
            if (io == null) {
                return null;
            }
            int pad = WeightLoader.paddedIn(io[0]);
            return "logical " + shape(io) + (pad != io[0] ? ", in padded to " + pad : "");
        }
        if (n.endsWith(".scale")) {
            String linear = n.substring(0, n.length() - ".scale".length());
            TensorInfo w = st.get(linear);
            int[] io = logical(c, linear);
            if (w != null && w.dtype() == DType.I4 && io != null) {
                return "group scales of " + name(linear) + ": one per " + WeightLoader.groupSize(io[0])
                        + " input rows";
            }
        }
        return null;
    }

    /**
     * The logical [in, out] of the linear named {@code name} in the needle-rs layout, from the config
     * (in: d_model, H*hd, KV*hd's consumers, ffn_dim for down_proj, the contrastive hidden width), or
     * null when the name is no linear of the layout.
     */
    static int[] logical(Config c, String name) {
        int d = c.dModel;
        int qd = c.numHeads * c.headDim();
        int kvd = c.numKvHeads * c.headDim();
        if (name.equals("contrastive_hidden_kernel")) {
            return c.hasContrastiveHead() ? new int[] {d, c.contrastiveHidden} : null;
        }
        if (name.equals("contrastive_proj_kernel")) {
            return c.hasContrastiveHead() ? new int[] {c.contrastiveHidden, c.contrastiveDim} : null;
        }
        String rest = layerRest(name, "encoder.", c.numEncoderLayers);
        boolean decoder = false;
        if (rest == null) {
            rest = layerRest(name, "decoder.", c.numDecoderLayers);
            decoder = true;
        }
        if (rest == null) {
            return null;
        }
        String linear;
        if (rest.startsWith("self_attn.")) {
            linear = rest.substring("self_attn.".length());
        } else if (decoder && rest.startsWith("cross_attn.")) {
            linear = rest.substring("cross_attn.".length());
        } else if (rest.startsWith("ffn.") && !c.noFeedforward) {
            switch (rest) {
                case "ffn.gate_proj":
                case "ffn.up_proj":
                    return new int[] {d, c.ffnDim};
                case "ffn.down_proj":
                    return new int[] {c.ffnDim, d};
                default:
                    return null;
            }
        } else {
            return null;
        }
        switch (linear) {
            case "wq":
                return new int[] {d, qd};
            case "wk":
            case "wv":
                return new int[] {d, kvd};
            case "wo":
                return new int[] {qd, d};
            default:
                return null;
        }
    }

    /** For {@code prefix + i + "." + rest} with i a layer index below {@code layers}: rest; else null. */
    private static String layerRest(String name, String prefix, int layers) {
        if (!name.startsWith(prefix)) {
            return null;
        }
        int dot = name.indexOf('.', prefix.length());
        if (dot < 0) {
            return null;
        }
        String index = name.substring(prefix.length(), dot);
        if (index.isEmpty() || index.length() > 7 || !index.chars().allMatch(ch -> ch >= '0' && ch <= '9')
                || (index.length() > 1 && index.charAt(0) == '0') || Integer.parseInt(index) >= layers) {
            return null;
        }
        return name.substring(dot + 1);
    }

    /** A tensor name as is, or as a JSON string when it holds a space or a control character. */
    static String name(String n) {
        for (int i = 0; i < n.length(); i++) {
            char ch = n.charAt(i);
            if (ch <= ' ' || ch >= 0x7f && Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029') {
                StringBuilder sb = new StringBuilder();
                Json.writeString(sb, n, true); // ASCII only: \\uXXXX escapes
                return sb.toString();
            }
        }
        return n.isEmpty() ? "\"\"" : n;
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
