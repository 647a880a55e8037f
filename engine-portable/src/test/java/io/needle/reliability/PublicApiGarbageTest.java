package io.needle.reliability;

import static org.junit.jupiter.api.Assertions.fail;

import io.needle.engine.BatchItem;
import io.needle.engine.NeedleEngine;
import io.needle.base.NeedleException;
import io.needle.engine.RunOptions;
import io.needle.tools.ToolCatalog;
import io.needle.json.Json;
import io.needle.json.JsonNumber;
import io.needle.model.ConfigReader;
import io.needle.safetensors.DType;
import io.needle.safetensors.SafeTensors;
import io.needle.safetensors.TensorInfo;
import io.needle.synthetic.ModelWriter;
import io.needle.synthetic.TestVocab;
import io.needle.tokenizer.StreamDecoder;
import io.needle.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Feeds seeded garbage through every public entry point of NeedleEngine, Tokenizer (and
 * StreamDecoder), SafeTensors, Json, ToolCatalog, RunOptions and Config: only a NeedleException
 * (with a kind and one line of message) may escape, never another exception type. Garbage means
 * random and mutated bytes and texts (lone surrogates, JSON fragments, special tokens), ids of
 * any int value, nulls for strings, arrays and lists, and any int for counts.
 */
class PublicApiGarbageTest {
    private static final String[] FRAGMENTS = {
        "[", "]", "{", "}", ",", ":", "\"", "\\", "\\u", "\\ud800", "\"name\"", "\"parameters\"", "\"type\"",
        "\"function\"", "\"object\"", "\"properties\"", "\"required\"", "\"enum\"", "\"string\"", "\"integer\"",
        "\"number\"", "\"boolean\"", "\"array\"", "\"description\"", "\"getWeather\"", "true", "false", "null",
        "0", "-1", "1e999", "3.5", " ", "\n", "\t", "\ud800", "\udc00", "\ud83c\udf89", "\u65e5", "\u2581",
        "<tools>", "<tool_call>", "</s>", "<unk>", "<0x41>", "\u0000", "\u007f", "\ufeff", "\r\n",
    };
    private static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"getWeather\","
            + "\"description\":\"Get the weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"location\":"
            + "{\"type\":\"string\"},\"units\":{\"type\":\"string\",\"enum\":[\"c\",\"f\"]},\"days\":{\"type\":"
            + "\"integer\"}},\"required\":[\"location\"]}}},{\"name\":\"set alarm\",\"parameters\":{\"t\":"
            + "{\"type\":\"number\",\"required\":true},\"on\":{\"type\":\"boolean\"}}}]";

    private final Random random = new Random(8);
    private int calls;

    /** Runs one call: a NeedleException is fine (checked for kind and one line), anything else fails. */
    private void only(String what, Executable call) {
        calls++;
        try {
            call.execute();
        } catch (NeedleException e) {
            TinyEngine.checkMessage(e);
        } catch (Throwable t) {
            fail(what + " threw " + t, t);
        }
    }

    private String text() {
        switch (random.nextInt(6)) {
            case 0:
                return null;
            case 1: { // any UTF-16 units
                char[] c = new char[random.nextInt(60)];
                for (int i = 0; i < c.length; i++) {
                    c[i] = (char) random.nextInt(0x10000);
                }
                return new String(c);
            }
            case 2: { // JSON-ish soup
                StringBuilder sb = new StringBuilder();
                int n = random.nextInt(40);
                for (int i = 0; i < n; i++) {
                    sb.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
                }
                return sb.toString();
            }
            default:
                return mutate(TOOLS);
        }
    }

    /** A valid text with a few random edits. */
    private String mutate(String s) {
        StringBuilder sb = new StringBuilder(s);
        int edits = 1 + random.nextInt(4);
        for (int e = 0; e < edits && sb.length() > 0; e++) {
            int at = random.nextInt(sb.length());
            switch (random.nextInt(3)) {
                case 0:
                    sb.deleteCharAt(at);
                    break;
                case 1:
                    sb.insert(at, FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
                    break;
                default:
                    sb.setCharAt(at, (char) random.nextInt(0x10000));
            }
        }
        return sb.toString();
    }

    private int anyInt() {
        switch (random.nextInt(4)) {
            case 0:
                return random.nextInt();
            case 1:
                return random.nextInt(20) - 5;
            default:
                return random.nextInt(9000) - 100;
        }
    }

    private int[] ids() {
        if (random.nextInt(10) == 0) {
            return null;
        }
        int[] a = new int[random.nextInt(10) == 0 ? 1025 + random.nextInt(50) : random.nextInt(30)];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextInt(5) == 0 ? anyInt() : random.nextInt(8192);
        }
        return a;
    }

    private byte[] bytes(byte[] valid) {
        switch (random.nextInt(5)) {
            case 0:
                return null;
            case 1: {
                byte[] b = new byte[random.nextInt(200)];
                random.nextBytes(b);
                return b;
            }
            case 2:
                return Arrays.copyOf(valid, random.nextInt(valid.length));
            default: {
                byte[] b = valid.clone();
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    int at = random.nextInt(Math.min(b.length, random.nextBoolean() ? 600 : b.length));
                    b[at] = (byte) random.nextInt(256);
                }
                return b;
            }
        }
    }

    private RunOptions options() {
        switch (random.nextInt(5)) {
            case 0:
                return null;
            case 1:
                return new RunOptions().constrain(false).maxNewTokens(random.nextInt(24));
            default:
                return new RunOptions().maxNewTokens(random.nextInt(24));
        }
    }

    private List<String> texts() {
        if (random.nextInt(8) == 0) {
            return null;
        }
        List<String> l = new ArrayList<>();
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
            l.add(text());
        }
        return l;
    }

    @Test
    void engineEntryPoints() {
        NeedleEngine engine = TinyEngine.get();
        byte[] model = TinyEngine.writer().build();
        for (int i = 0; i < 40; i++) {
            byte[] file = bytes(model);
            only("NeedleEngine.load(garbage bytes)", () -> NeedleEngine.load(file, null));
            String vocab = random.nextBoolean() ? text() : mutate(TinyEngine.vocab().substring(0, 3000));
            only("NeedleEngine.load(model, garbage vocab)", () -> NeedleEngine.load(model, vocab));
        }
        for (int i = 0; i < 150; i++) {
            String q = text();
            String t = text();
            RunOptions o = options();
            int[] ids = ids();
            int n = anyInt();
            only("run", () -> engine.run(q, t));
            only("run(options)", () -> engine.run(q, t, o));
            only("prompt", () -> engine.prompt(q, t));
            only("generate(ids, n)", () -> engine.generate(ids, n % 40));
            only("generate(ids, n) any n", () -> engine.generate(ids, n));
            only("generate(ids, tools, options)", () -> engine.generate(ids, t, o));
            only("outputText", () -> engine.outputText(ids));
            List<String> d = texts();
            int k = anyInt();
            only("retrieveTools", () -> engine.retrieveTools(q, d, k));
            only("contrastiveEmbedding", () -> engine.contrastiveEmbedding(q));
            List<BatchItem> batch = random.nextInt(6) == 0 ? null
                    : Arrays.asList(new BatchItem(q, t), random.nextBoolean() ? null : new BatchItem(t, q));
            only("runBatch", () -> engine.runBatch(batch, o));
            only("accessors", () -> {
                engine.config();
                engine.tokenizer();
                engine.model();
                engine.loadMs();
            });
        }
        // the full decoding budget a few times, constrained and not
        for (int i = 0; i < 6; i++) {
            String q = text();
            String t = i % 2 == 0 ? mutate(TOOLS) : text();
            only("run(default budget)", () -> engine.run(q, t, new RunOptions().constrain(random.nextBoolean())));
        }
    }

    @Test
    void tokenizerEntryPoints() {
        Tokenizer tok = TinyEngine.get().tokenizer();
        for (int i = 0; i < 200; i++) {
            String vocab = random.nextInt(3) == 0 ? text() : mutate(TestVocab.make(360, i));
            only("Tokenizer.fromVocab", () -> Tokenizer.fromVocab(vocab));
        }
        for (int i = 0; i < 1000; i++) {
            String s = text();
            int[] ids = ids();
            int id = anyInt();
            int k = anyInt();
            only("encode", () -> tok.encode(s));
            only("encodePrefix", () -> tok.encodePrefix(s, k));
            only("decode", () -> tok.decode(ids));
            only("piece/score/types/tokenBytes", () -> {
                tok.size();
                tok.piece(id);
            });
            only("score", () -> tok.score(id));
            only("isByte", () -> tok.isByte(id));
            only("isControl", () -> tok.isControl(id));
            only("isUserDefined", () -> tok.isUserDefined(id));
            only("isUnknown", () -> tok.isUnknown(id));
            only("tokenBytes", () -> tok.tokenBytes(id));
            only("pieceToId", () -> tok.pieceToId(s));
            only("StreamDecoder", () -> {
                StreamDecoder sd = new StreamDecoder(tok);
                if (ids != null) {
                    for (int x : ids) {
                        sd.push(x);
                    }
                }
                sd.finish();
            });
        }
    }

    @Test
    void safeTensorsEntryPoints() {
        byte[] model = ModelWriter.tiny().vocabSize(64).dModel(16).heads(2, 1).layers(1, 1).build();
        SafeTensors good = SafeTensors.parse(model);
        SafeTensors other = SafeTensors.parse(TinyEngine.writer().build());
        for (int i = 0; i < 2000; i++) {
            byte[] file = bytes(model);
            only("SafeTensors.parse", () -> {
                SafeTensors st = SafeTensors.parse(file);
                st.metadata();
                st.headerLength();
                st.dataStart();
                st.bytes();
                for (TensorInfo t : st.tensors()) {
                    if (t.dtype() != DType.I4) {
                        st.readFloats(t);
                    }
                    if (t.dtype() == DType.F16 || t.dtype() == DType.BF16) {
                        st.readShorts(t);
                    }
                }
            });
        }
        for (int i = 0; i < 300; i++) {
            String name = text();
            only("get/has", () -> {
                good.get(name);
                good.has(name);
            });
            // tensors that belong to another file, or made up
            TensorInfo foreign = other.tensors().get(random.nextInt(other.tensors().size()));
            only("readFloats(foreign)", () -> good.readFloats(foreign));
            only("readShorts(foreign)", () -> good.readShorts(foreign));
            TensorInfo madeUp = new TensorInfo(name, DType.values()[random.nextInt(4)],
                    new int[] {random.nextInt(40), anyInt()}, anyInt(), anyInt());
            only("readFloats(made up)", () -> good.readFloats(madeUp));
            only("readShorts(made up)", () -> good.readShorts(madeUp));
            only("readFloats(null)", () -> good.readFloats(null));
        }
    }

    @Test
    void jsonEntryPoints() {
        for (int i = 0; i < 3000; i++) {
            String s = text();
            int max = anyInt();
            only("Json.parse", () -> Json.parse(s));
            only("Json.parse(max)", () -> Json.parse(s, max));
            if (s != null) {
                only("Json.quote", () -> Json.quote(s));
            }
        }
        Object[] values = {null, "x\ud800", 1, 2L, 3.5, Double.NaN, Float.POSITIVE_INFINITY, new JsonNumber("7"),
            new int[] {1, 2}, new Object(), new StringBuilder("sb"), Arrays.asList(1, new Object()), Boolean.TRUE,
            new LinkedHashMap<Object, Object>(Map.of(1, 2)), new char[] {'a'}};
        for (Object v : values) {
            only("Json.write", () -> Json.write(v));
            only("Json.writeAscii", () -> Json.writeAscii(v));
            only("Json.write(sb)", () -> Json.write(new StringBuilder(), v, true));
        }
    }

    @Test
    void toolCatalogRunOptionsAndConfigEntryPoints() {
        for (int i = 0; i < 2000; i++) {
            String s = text();
            String out = text();
            only("ToolCatalog", () -> {
                ToolCatalog c = ToolCatalog.parse(s);
                c.serialized();
                c.isJson();
                c.tools();
                c.tool(out);
                c.renamed();
                c.renamedOriginals();
                c.restoreNames(out);
                c.restoreNames(c.serialized());
            });
            int n = anyInt();
            only("RunOptions.maxNewTokens", () -> new RunOptions().maxNewTokens(n));
            io.needle.synthetic.SafeTensorsWriter w = io.needle.synthetic.ModelWriter.tiny()
                    .metadata(io.needle.synthetic.ModelWriter.Metadata.NONE).writer();
            String[] keys = {"vocab_size", "d_model", "num_heads", "num_kv_heads", "num_encoder_layers",
                "num_decoder_layers", "max_enc_len", "max_seq_len", "max_dec_len", "rope_theta", "activation",
                "no_feedforward", "ffn_dim", "d_ff"};
            for (String key : keys) {
                if (random.nextInt(4) > 0) {
                    w.metadata(key, random.nextBoolean() ? Integer.toString(anyInt()) : String.valueOf(text()));
                }
            }
            io.needle.safetensors.SafeTensors st = io.needle.safetensors.SafeTensors.parse(w.toBytes());
            only("ConfigReader.read", () -> ConfigReader.read(st));
        }
    }
}
