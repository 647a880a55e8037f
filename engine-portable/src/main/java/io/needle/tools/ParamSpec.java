package io.needle.tools;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * One declared parameter of a tool, as the constrained decoder needs it (docs/spec/DECODING.md): its key,
 * its type, its enum values and whether it is required. Read from the normalized (flat) form of
 * the tool, so it is the same for all three input forms of docs/spec/MODEL.md section 3.
 */
public final class ParamSpec {
    private final String name;
    private final String type;
    private final List<Object> enumValues;
    private final boolean required;
    private final Map<String, Object> schema;

    ParamSpec(String name, String type, List<Object> enumValues, boolean required,
            Map<String, Object> schema) {
        this.name = name;
        this.type = type;
        this.enumValues = enumValues == null ? null : Collections.unmodifiableList(enumValues);
        this.required = required;
        this.schema = Collections.unmodifiableMap(schema);
    }

    /** The parameter key (the argument name the model writes). */
    public String name() {
        return name;
    }

    /**
     * The parameter's {@code "type"} when it is a JSON string, ASCII lower-cased ({@code "STRING"}
     * → {@code "string"}), otherwise null (no type: any JSON value).
     */
    public String type() {
        return type;
    }

    /** The {@code "enum"} list when the parameter has one (values as parsed by Json), else null. */
    public List<Object> enumValues() {
        return enumValues;
    }

    /**
     * True when the parameter is required: in the flat form its {@code "required"} member is
     * {@code true}; for a JSON-Schema tool its key is in the schema's {@code required} list.
     */
    public boolean required() {
        return required;
    }

    /**
     * The parameter's object in the normalized tools (read-only; for a JSON-Schema tool it
     * includes the appended {@code "required"} member). Empty when the declared value is not an
     * object.
     */
    public Map<String, Object> schema() {
        return schema;
    }

    @Override
    public String toString() {
        return name + (type == null ? "" : ":" + type) + (required ? "!" : "");
    }
}
