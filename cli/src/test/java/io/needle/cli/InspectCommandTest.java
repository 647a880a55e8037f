package io.needle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.jvm.RetiredLayout;
import io.needle.json.Json;
import io.needle.model.Config;
import io.needle.model.WeightLoader;
import io.needle.safetensors.DType;
import io.needle.synthetic.TensorType;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.SafeTensorsWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code inspect W}: config lines ({@code source:} first), then one line per tensor in file order,
 * {@code name dtype shape bytes} plus, for an I4 linear, its logical [in,out]; tensors the model
 * does not use are marked, never an error.
 */
class InspectCommandTest {
    /** {@code source:} and the 15 other fields of {@link Config#toMap()}. */
    private static final int CONFIG_LINES = 16;
    private static final Pattern LOGICAL = Pattern.compile(" \\(logical \\[(\\d+),(\\d+)\\](, in padded to (\\d+))?\\)$");

    @TempDir
    Path tmp;

    /** The output split into config (key → value) and tensor lines. */
    private static final class Output {
        final Map<String, String> config = new HashMap<>();
        final String[] tensorLines;

        Output(String[] lines) {
            for (int i = 0; i < CONFIG_LINES; i++) {
                String[] kv = lines[i].split(": ", 2);
                assertEquals(2, kv.length, lines[i]);
                config.put(kv[0], kv[1]);
            }
            assertTrue(lines[0].startsWith("source: "), lines[0]);
            tensorLines = Arrays.copyOfRange(lines, CONFIG_LINES, lines.length);
        }

        int i(String key) {
            assertNotNull(config.get(key), key);
            return Integer.parseInt(config.get(key));
        }
    }

    @Test
    void parityFixtures() throws IOException {
        boolean sawPadding = false;
        for (String p : new String[] {"p1", "p2", "p3", "p4"}) {
            Path file = Cli.fixture("parity/" + p + ".safetensors");
            Map<?, ?> model = (Map<?, ?>) ((Map<?, ?>) Json.parse(
                    Files.readString(Cli.fixture("parity/" + p + ".json"), StandardCharsets.UTF_8))).get("model");
            Map<?, ?> metadata = (Map<?, ?>) model.get("config");
            String[] lines = Cli.run("inspect", file.toString()).ok().lines();
            SafeTensors st = SafeTensors.parse(Files.readAllBytes(file));
            assertEquals(CONFIG_LINES + st.tensors().size(), lines.length, p);
            Output o = new Output(lines);

            // where the config came from: all of export.py's keys (or the older spellings), or nothing
            String source = o.config.get("source");
            if (metadata.isEmpty()) {
                assertTrue(source.startsWith(Config.Source.TENSORS.description() + "; inferred: d_model, "), source);
                assertTrue(source.endsWith("; defaults: max_enc_len, max_dec_len, activation, rope_theta"), source);
                assertEquals("drelu", o.config.get("activation"), p);
                assertEquals(10000.0, Double.parseDouble(o.config.get("rope_theta")), 0.0, p);
            } else {
                assertEquals(12, metadata.size(), p);
                List<String> older = new java.util.ArrayList<>();
                for (String k : new String[] {"max_seq_len", "d_ff"}) {
                    if (metadata.containsKey(k)) {
                        older.add(k);
                    }
                }
                assertEquals(Config.Source.METADATA.description()
                        + (older.isEmpty() ? "" : "; older spellings: " + String.join(", ", older)), source, p);
            }
            // every metadata value as printed (older spellings under today's names)
            for (Map.Entry<?, ?> e : metadata.entrySet()) {
                String key = (String) e.getKey();
                String name = key.equals("max_seq_len") ? "max_enc_len" : key.equals("d_ff") ? "ffn_dim" : key;
                assertConfigValue(p + " " + key, (String) e.getValue(), o.config.get(name));
            }
            // what the tensors say
            TensorInfo emb = st.get("embedding");
            assertEquals(emb.dim(0), o.i("vocab_size"), p);
            assertEquals(emb.dim(1), o.i("d_model"), p);
            int hd = st.get("encoder.0.self_attn.q_norm").dim(0);
            assertEquals(hd, o.i("head_dim"), p);
            assertEquals(st.get("encoder.0.self_attn.wq").dim(1), o.i("num_heads") * hd, p);
            assertEquals(st.get("encoder.0.self_attn.wk").dim(1), o.i("num_kv_heads") * hd, p);
            assertEquals(model.get("has_contrastive"), o.i("contrastive_dim") > 0, p);

            long total = 0;
            for (int i = 0; i < o.tensorLines.length; i++) {
                String line = o.tensorLines[i];
                TensorInfo t = st.tensors().get(i);
                String[] f = line.split(" ");
                assertTrue(f.length >= 4, line);
                assertEquals(t.name(), f[0], line);
                assertEquals(t.dtype().name(), f[1], line);
                assertEquals(InspectCommand.shape(t.shape()), f[2], line);
                assertTrue(f[2].matches("\\[(\\d+(,\\d+)*)?\\]"), line);
                assertEquals(t.byteLength(), Long.parseLong(f[3]), line);
                total += Long.parseLong(f[3]);
                assertFalse(line.contains("not used by the model"), line);
                if (t.dtype() == DType.I4) {
                    sawPadding |= checkLogical(o, t, line);
                } else if (t.name().endsWith(".scale")) {
                    int in = logicalIn(o, t.name().substring(0, t.name().length() - 6));
                    assertTrue(line.endsWith(" (group scales of " + t.name().substring(0, t.name().length() - 6)
                            + ": one per " + Math.min(32, in) + " input rows)"), line);
                } else {
                    assertEquals(4, f.length, line);
                }
            }
            assertEquals(Files.size(file) - st.dataStart(), total, p + ": tensor bytes cover the data region");
        }
        assertTrue(sawPadding, "p3's down_proj (ffn_dim 75) is stored with its input rows padded");
    }

    /**
     * Checks an I4 line's {@code (logical [in,out][, in padded to N])} against in from the printed
     * config and the stored shape [in_pad/2, out]; returns whether in was padded.
     */
    private static boolean checkLogical(Output o, TensorInfo t, String line) {
        Matcher m = LOGICAL.matcher(line);
        assertTrue(m.find(), line);
        int in = Integer.parseInt(m.group(1));
        int out = Integer.parseInt(m.group(2));
        assertEquals(logicalIn(o, t.name()), in, line);
        assertEquals(t.dim(1), out, line);
        int inPad = (in + Math.min(32, in) - 1) / Math.min(32, in) * Math.min(32, in);
        assertEquals((inPad + 1) / 2, t.dim(0), line + ": the stored rows are in_pad/2 bytes");
        if (inPad == in) {
            assertEquals(null, m.group(4), line);
            return false;
        }
        assertEquals(inPad, Integer.parseInt(m.group(4)), line);
        return true;
    }

    /** The logical input width of a linear, from its name and the printed config. */
    private static int logicalIn(Output o, String name) {
        if (name.equals("contrastive_hidden_kernel")) {
            return o.i("d_model");
        }
        if (name.equals("contrastive_proj_kernel")) {
            return o.i("contrastive_hidden");
        }
        if (name.endsWith(".wo")) {
            return o.i("num_heads") * o.i("head_dim");
        }
        if (name.endsWith(".ffn.down_proj")) {
            return o.i("ffn_dim");
        }
        return o.i("d_model");
    }

    private static void assertConfigValue(String what, String want, String got) {
        assertNotNull(got, what);
        if (want.equals(got)) {
            return;
        }
        try {
            assertEquals(Double.parseDouble(want), Double.parseDouble(got), 0.0, what);
        } catch (NumberFormatException e) {
            assertEquals(want.toLowerCase(), got.toLowerCase(), what);
        }
    }

    @Test
    void noMetadataScalarGatesAndAnOddGroup() {
        // ffn_dim 15: down_proj's group is all 15 rows (min(32, in)), stored as 8 byte rows
        ModelWriter w = ModelWriter.tiny().metadata(ModelWriter.Metadata.NONE).scalarGates(true).ffn(15, "drelu")
                .seed(5);
        Path f = Cli.write(tmp, "m.safetensors", w.build());
        Output o = new Output(Cli.run("inspect", f.toString()).ok().lines());
        assertTrue(o.config.get("source").startsWith(Config.Source.TENSORS.description()), o.config.get("source"));
        assertEquals(w.vocabSize(), o.i("vocab_size"));
        assertEquals(15, o.i("ffn_dim"));
        assertEquals("false", o.config.get("no_feedforward"));
        assertTrue(Arrays.stream(o.tensorLines).anyMatch(l -> l.matches("\\S+_gate F32 \\[\\] 4")), "a scalar gate");
        assertTrue(Arrays.asList(o.tensorLines).contains("encoder.0.ffn.down_proj I4 [8," + w.dModel() + "] "
                + 8 * w.dModel() + " (logical [15," + w.dModel() + "])"), String.join("\n", o.tensorLines));
        assertTrue(Arrays.asList(o.tensorLines).contains("encoder.0.ffn.down_proj.scale F32 [1," + w.dModel() + "] "
                + 4 * w.dModel() + " (group scales of encoder.0.ffn.down_proj: one per 15 input rows)"));
    }

    @Test
    void partialMetadataNamesWhatWasInferred() {
        byte[] file = ModelWriter.tiny().seed(5).writer().removeMetadata("num_heads").removeMetadata("vocab_size")
                .removeMetadata("rope_theta").metadata("format", "pt").toBytes();
        Output o = new Output(Cli.run("inspect", Cli.write(tmp, "p.safetensors", file).toString()).ok().lines());
        assertEquals(Config.Source.METADATA_AND_TENSORS.description() + "; inferred: num_heads, vocab_size;"
                + " defaults: rope_theta; ignored metadata: format", o.config.get("source"));
        assertEquals(4, o.i("num_heads"));
        assertEquals(10000.0, Double.parseDouble(o.config.get("rope_theta")), 0.0);
    }

    @Test
    void unknownExtraTensorsAreListedAsNotUsedAndAreNoError() {
        ModelWriter w = ModelWriter.tiny().seed(5);
        SafeTensorsWriter sw = w.writer();
        List<String> known = sw.names();
        sw.addFloats("lm_head.bias", TensorType.F32, new int[] {3}, new float[] {1, 2, 3});
        sw.addFloats("encoder.0.self_attn.wq_lora", TensorType.F32, new int[] {2, 2}, new float[] {1, 2, 3, 4});
        sw.add("lora.wq", TensorType.I4, new int[] {1, 2}, new byte[] {1, 2});
        sw.addFloats("name with space", TensorType.F32, new int[] {1}, new float[] {0});
        Path f = Cli.write(tmp, "extra.safetensors", sw.toBytes());
        Output o = new Output(Cli.run("inspect", f.toString()).ok().lines());
        assertEquals(known.size() + 4, o.tensorLines.length);
        int unused = 0;
        for (String line : o.tensorLines) {
            String name = line.startsWith("\"") ? line.substring(0, line.indexOf('"', 1) + 1) : line.split(" ")[0];
            boolean isKnown = known.contains(name);
            assertEquals(!isKnown, line.endsWith(" (not used by the model)"), line);
            unused += isKnown ? 0 : 1;
        }
        assertEquals(4, unused);
        assertTrue(Arrays.asList(o.tensorLines).contains("\"name with space\" F32 [1] 4 (not used by the model)"));
        // the model runs as it does without them
        Path plain = Cli.write(tmp, "plain.safetensors", w.build());
        String[] gen = {"generate", "--input-ids", "5,17,42", "--max-new-tokens", "6", "--no-constrain", "--weights"};
        assertEquals(Cli.run(concat(gen, plain.toString())).ok().out, Cli.run(concat(gen, f.toString())).ok().out);
    }

    private static String[] concat(String[] a, String b) {
        String[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = b;
        return r;
    }

    @Test
    void errors() {
        Path bad = Cli.write(tmp, "bad.safetensors", new byte[] {1, 2, 3});
        Cli.run("inspect", bad.toString()).fails(Main.EXIT_ERROR, "");
        Cli.run("inspect", "a", "b").fails(Main.EXIT_USAGE, "unexpected argument 'b'");
    }

    @Test
    void badConfigStillListsTensors() {
        ModelWriter w = ModelWriter.tiny().seed(5);
        byte[] file = w.writer().metadata("num_heads", "3").toBytes();
        Path f = Cli.write(tmp, "badcfg.safetensors", file);
        Cli r = Cli.run("inspect", f.toString());
        assertEquals(Main.EXIT_ERROR, r.status);
        assertTrue(r.err.startsWith("needle: error: bad model config"), r.err);
        assertTrue(r.out.startsWith("embedding "), r.out);
    }

    @Test
    void aMissingTensorIsTheErrorAfterTheListing() {
        byte[] file = ModelWriter.tiny().seed(5).writer().remove("decoder.1.cross_attn.k_norm").toBytes();
        Cli r = Cli.run("inspect", Cli.write(tmp, "missing.safetensors", file).toString());
        assertEquals(Main.EXIT_ERROR, r.status);
        assertTrue(r.err.startsWith("needle: error: weight file is missing tensor 'decoder.1.cross_attn.k_norm'"),
                r.err);
        assertEquals(1, r.err.split("\n").length, r.err);
        assertTrue(r.out.startsWith("source: " + Config.Source.METADATA.description() + "\n"), r.out);
        assertTrue(r.out.contains("\ndecoder.1.cross_attn.wk I4 "), r.out);
    }

    @Test
    void aFileInTheRetiredLayoutIsToldWhichLayoutIsRead() {
        String says = "this file is in another tensor layout: needle-java-wasm reads the needle-rs layout of MODEL.md"
                + " section 4";
        // the retired names with byte-count I4 shapes: the container parses, the listing comes first
        ModelWriter w = ModelWriter.tiny().seed(5);
        Cli r = Cli.run("inspect", Cli.write(tmp, "renamed.safetensors", RetiredLayout.renamed(w)).toString());
        assertEquals(Main.EXIT_ERROR, r.status);
        assertTrue(r.err.startsWith("needle: error: weight file is missing tensor 'encoder_final_norm'"), r.err);
        assertTrue(r.err.contains(says), r.err);
        assertEquals(1, r.err.split("\n").length, r.err);
        assertTrue(r.out.contains("\nencoder.layers.0.self_attn.q_proj.qweight I4 [16,32] 512\n"), r.out);

        // as the retired writer wrote it (I4 shapes counting weights): the container check fails first
        r = Cli.run("inspect", Cli.write(tmp, "old.safetensors", RetiredLayout.asWritten(w)).toString());
        r.fails(Main.EXIT_ERROR, "dtype I4 and shape [32, 32] need 1024 bytes but data_offsets");
        assertTrue(r.err.contains("; the shape counts weights, not bytes: " + says), r.err);
    }

    @Test
    void logicalShapesFollowTheConfig() {
        Config c = new Config(100, 64, 8, 2, 1, 1, 1024, 512, 10000f, false, 75, "geglu", 16, 32,
                Config.Source.METADATA);
        assertArrayEquals(new int[] {64, 64}, InspectCommand.logical(c, "encoder.0.self_attn.wq"));
        assertArrayEquals(new int[] {64, 16}, InspectCommand.logical(c, "decoder.0.cross_attn.wk"));
        assertArrayEquals(new int[] {64, 64}, InspectCommand.logical(c, "decoder.0.self_attn.wo"));
        assertArrayEquals(new int[] {75, 64}, InspectCommand.logical(c, "decoder.0.ffn.down_proj"));
        assertArrayEquals(new int[] {64, 75}, InspectCommand.logical(c, "encoder.0.ffn.up_proj"));
        assertArrayEquals(new int[] {16, 32}, InspectCommand.logical(c, "contrastive_proj_kernel"));
        assertEquals(96, WeightLoader.paddedIn(75));
        for (String n : new String[] {"encoder.1.self_attn.wq", "encoder.00.self_attn.wq", "encoder.0.cross_attn.wq",
            "encoder.0.self_attn.q_norm", "encoder.x.self_attn.wq", "embedding", "encoder.0.ffn.other"}) {
            assertEquals(null, InspectCommand.logical(c, n), n);
        }
    }

    private static void assertArrayEquals(int[] want, int[] got) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(want, got);
    }
}
