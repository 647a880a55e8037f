package io.needle.model;

import io.needle.engine.NeedleException;
import io.needle.json.Json;
import io.needle.json.JsonNumber;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The model's hyper-parameters, read from the weight file's {@code __metadata__} (MODEL.md section 4):
 * either one key per field (string values) or a single {@code config} key holding a JSON object.
 */
public final class Config {
    public final int vocabSize;
    public final int dModel;
    public final int numHeads;
    public final int numKvHeads;
    public final int numEncoderLayers;
    public final int numDecoderLayers;
    public final int maxSeqLen;
    public final float ropeTheta;
    public final int padTokenId;
    public final boolean noFeedforward;
    public final int dFf;
    /** {@code drelu}, {@code swiglu} or {@code geglu}. */
    public final String activation;
    public final int contrastiveDim;
    public final int groupSize;

    public Config(int vocabSize, int dModel, int numHeads, int numKvHeads, int numEncoderLayers,
            int numDecoderLayers, int maxSeqLen, float ropeTheta, int padTokenId, boolean noFeedforward,
            int dFf, String activation, int contrastiveDim, int groupSize) {
        this.vocabSize = vocabSize;
        this.dModel = dModel;
        this.numHeads = numHeads;
        this.numKvHeads = numKvHeads;
        this.numEncoderLayers = numEncoderLayers;
        this.numDecoderLayers = numDecoderLayers;
        this.maxSeqLen = maxSeqLen;
        this.ropeTheta = ropeTheta;
        this.padTokenId = padTokenId;
        this.noFeedforward = noFeedforward;
        this.dFf = dFf;
        this.activation = activation;
        this.contrastiveDim = contrastiveDim;
        this.groupSize = groupSize;
        validate();
    }

    /** d_model / num_heads. */
    public int headDim() {
        return dModel / numHeads;
    }

    private void validate() {
        positive("vocab_size", vocabSize);
        positive("d_model", dModel);
        positive("num_heads", numHeads);
        positive("num_kv_heads", numKvHeads);
        positive("num_encoder_layers", numEncoderLayers);
        positive("num_decoder_layers", numDecoderLayers);
        positive("group_size", groupSize);
        if (dModel % numHeads != 0) {
            throw bad("num_heads (" + numHeads + ") must divide d_model (" + dModel + ")");
        }
        if (numHeads % numKvHeads != 0) {
            throw bad("num_kv_heads (" + numKvHeads + ") must divide num_heads (" + numHeads + ")");
        }
        if (headDim() % 2 != 0) {
            throw bad("head_dim (" + headDim() + ") must be even for RoPE");
        }
        if (!noFeedforward) {
            positive("d_ff", dFf);
        }
        if (!activation.equals("drelu") && !activation.equals("swiglu") && !activation.equals("geglu")) {
            throw bad("activation must be drelu, swiglu or geglu, got " + show(activation));
        }
        atMost("vocab_size", vocabSize, 1 << 20);
        atMost("d_model", dModel, 1 << 16);
        atMost("num_encoder_layers", numEncoderLayers, 1024);
        atMost("num_decoder_layers", numDecoderLayers, 1024);
        atMost("d_ff", dFf, 1 << 18);
        if (!(ropeTheta > 0) || Float.isInfinite(ropeTheta)) {
            throw bad("rope_theta must be a positive number");
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw bad(name + " must be a positive integer, got " + v);
        }
    }

    private static void atMost(String name, int v, int max) {
        if (v > max) {
            throw bad(name + " " + v + " is implausibly large (at most " + max + ")");
        }
    }

    /** A value from the file for a one-line message: in single quotes, control characters escaped, long ones cut. */
    private static String show(String v) {
        String t = v.length() > 60 ? v.substring(0, 60) + "..." : v;
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                String hex = "0123456789abcdef";
                sb.append("\\u00").append(hex.charAt(c >> 4)).append(hex.charAt(c & 15));
            } else {
                sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }

    private static NeedleException bad(String msg) {
        return new NeedleException(NeedleException.Kind.CONFIG, "bad model config: " + msg);
    }

    /** Reads the config from SafeTensors metadata (either form). */
    public static Config fromMetadata(Map<String, String> metadata) {
        Map<String, String> m = new LinkedHashMap<>();
        if (metadata != null) {
            m.putAll(metadata);
        }
        String json = m.get("config");
        if (json != null && !m.containsKey("d_model")) {
            Object parsed;
            try {
                parsed = Json.parse(json);
            } catch (NeedleException e) {
                throw bad("metadata key 'config' is not valid JSON: " + e.getMessage());
            }
            if (!(parsed instanceof Map)) {
                throw bad("metadata key 'config' must be a JSON object");
            }
            for (Map.Entry<?, ?> e : ((Map<?, ?>) parsed).entrySet()) {
                Object v = e.getValue();
                String s = v == null ? null
                        : v instanceof String ? (String) v
                        : v instanceof JsonNumber ? ((JsonNumber) v).text()
                        : v instanceof Boolean ? v.toString()
                        : null;
                if (s == null && v != null) {
                    throw bad("config field " + show(String.valueOf(e.getKey())) + " must be a number, boolean or string");
                }
                if (s != null) {
                    m.put(String.valueOf(e.getKey()), s);
                }
            }
        }
        return new Config(
                requiredInt(m, "vocab_size"),
                requiredInt(m, "d_model"),
                requiredInt(m, "num_heads"),
                requiredInt(m, "num_kv_heads"),
                requiredInt(m, "num_encoder_layers"),
                requiredInt(m, "num_decoder_layers"),
                optionalInt(m, "max_seq_len", 1024),
                optionalFloat(m, "rope_theta", 10000f),
                optionalInt(m, "pad_token_id", 0),
                optionalBool(m, "no_feedforward", true),
                optionalInt(m, "d_ff", 0),
                m.containsKey("activation") ? m.get("activation").trim().toLowerCase() : "drelu",
                optionalInt(m, "contrastive_dim", 128),
                optionalInt(m, "group_size", 32));
    }

    private static int requiredInt(Map<String, String> m, String key) {
        if (!m.containsKey(key)) {
            StringBuilder keys = new StringBuilder();
            for (String k : m.keySet()) {
                keys.append(keys.length() == 0 ? "" : ", ").append(show(k));
            }
            throw bad("missing required metadata '" + key + "' (the file's __metadata__ has: [" + keys + "])");
        }
        return parseInt(key, m.get(key));
    }

    private static int optionalInt(Map<String, String> m, String key, int dflt) {
        return m.containsKey(key) ? parseInt(key, m.get(key)) : dflt;
    }

    private static int parseInt(String key, String s) {
        String t = s.trim();
        try {
            return Integer.parseInt(t);
        } catch (NumberFormatException e) {
            // "512.0" is accepted when it is integral
            try {
                double d = Double.parseDouble(t);
                if (d == Math.rint(d) && Math.abs(d) < Integer.MAX_VALUE) {
                    return (int) d;
                }
            } catch (NumberFormatException ignored) {
                // fall through
            }
            throw bad("metadata '" + key + "' must be an integer, got " + show(s));
        }
    }

    private static float optionalFloat(Map<String, String> m, String key, float dflt) {
        if (!m.containsKey(key)) {
            return dflt;
        }
        try {
            return (float) Double.parseDouble(m.get(key).trim());
        } catch (NumberFormatException e) {
            throw bad("metadata '" + key + "' must be a number, got " + show(m.get(key)));
        }
    }

    private static boolean optionalBool(Map<String, String> m, String key, boolean dflt) {
        if (!m.containsKey(key)) {
            return dflt;
        }
        String s = m.get(key).trim().toLowerCase();
        if (s.equals("true") || s.equals("1")) {
            return true;
        }
        if (s.equals("false") || s.equals("0")) {
            return false;
        }
        throw bad("metadata '" + key + "' must be true or false, got " + show(m.get(key)));
    }

    /** The config as ordered key/value pairs with the metadata names (for {@code needle inspect} and JSON). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vocab_size", vocabSize);
        m.put("d_model", dModel);
        m.put("num_heads", numHeads);
        m.put("num_kv_heads", numKvHeads);
        m.put("num_encoder_layers", numEncoderLayers);
        m.put("num_decoder_layers", numDecoderLayers);
        m.put("max_seq_len", maxSeqLen);
        m.put("rope_theta", new JsonNumber(Float.toString(ropeTheta)));
        m.put("pad_token_id", padTokenId);
        m.put("no_feedforward", noFeedforward);
        m.put("d_ff", dFf);
        m.put("activation", activation);
        m.put("contrastive_dim", contrastiveDim);
        m.put("group_size", groupSize);
        return m;
    }
}
