package io.needle.tools;

import java.util.Collections;
import java.util.List;

/**
 * One tool of a {@link ToolCatalog}: the name the model sees (snake_case), the name the caller
 * gave, and its declared parameters in order.
 */
public final class ToolSpec {
    private final String name;
    private final String originalName;
    private final String description;
    private final List<ParamSpec> params;

    ToolSpec(String name, String originalName, String description, List<ParamSpec> params) {
        this.name = name;
        this.originalName = originalName;
        this.description = description;
        this.params = Collections.unmodifiableList(params);
    }

    /** The snake_cased name: what the model sees and writes. May be empty (see {@link SnakeCase}). */
    public String name() {
        return name;
    }

    /** The name as given in the tools text. */
    public String originalName() {
        return originalName;
    }

    /** The description when it is a string, else null. */
    public String description() {
        return description;
    }

    /** The declared parameters, in their order (empty when the tool has none). */
    public List<ParamSpec> params() {
        return params;
    }

    /** The parameter named {@code key}, or null. */
    public ParamSpec param(String key) {
        for (ParamSpec p : params) {
            if (p.name().equals(key)) {
                return p;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return name + params;
    }
}
