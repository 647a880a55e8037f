package io.needle.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The parsed arguments of one command: options with a value ({@code --weights W} or
 * {@code --weights=W}), flags ({@code --json}) and positional arguments, in a small and strict
 * grammar:
 *
 * <ul>
 *   <li>an argument starting with {@code --} is an option; an unknown one is an error;
 *   <li>{@code -h} is {@code --help}; a lone {@code -} is a positional (standard input);
 *   <li>{@code --} ends the options: everything after it is positional (so a TEXT may start with
 *       {@code --});
 *   <li>giving the same option twice is an error, as is a value option without a value.
 * </ul>
 *
 * Every command also accepts the flags {@code --debug} and {@code --help}.
 */
final class Args {
    private final String command;
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();
    private final List<String> positionals = new ArrayList<>();

    private Args(String command) {
        this.command = command;
    }

    /**
     * Parses {@code argv[from..]} for {@code command}.
     *
     * @param valueOptions option names (without {@code --}) that take a value
     * @param flagOptions option names that take none ({@code debug} and {@code help} are implied)
     */
    static Args parse(String command, String[] argv, int from, List<String> valueOptions, List<String> flagOptions) {
        Args a = new Args(command);
        boolean optionsEnded = false;
        for (int i = from; i < argv.length; i++) {
            String arg = argv[i];
            if (optionsEnded || arg.equals("-") || !arg.startsWith("-")) {
                a.positionals.add(arg);
                continue;
            }
            if (arg.equals("--")) {
                optionsEnded = true;
                continue;
            }
            if (arg.equals("-h")) {
                arg = "--help";
            }
            if (!arg.startsWith("--")) {
                throw CliException.usage("unknown option '" + arg + "' for '" + command + "' (see needle --help)");
            }
            String name = arg.substring(2);
            String inlineValue = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inlineValue = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (valueOptions.contains(name)) {
                String value = inlineValue;
                if (value == null) {
                    if (i + 1 >= argv.length) {
                        throw CliException.usage("option --" + name + " needs a value");
                    }
                    value = argv[++i];
                    if (value.startsWith("--") && isOption(value, valueOptions, flagOptions)) {
                        throw CliException.usage("option --" + name + " needs a value (got option " + value + ")");
                    }
                }
                if (a.values.containsKey(name)) {
                    throw CliException.usage("option --" + name + " is given more than once");
                }
                a.values.put(name, value);
            } else if (flagOptions.contains(name) || name.equals("debug") || name.equals("help")) {
                if (inlineValue != null) {
                    throw CliException.usage("option --" + name + " takes no value");
                }
                a.flags.add(name);
            } else {
                throw CliException.usage("unknown option '--" + name + "' for '" + command + "' (see needle --help)");
            }
        }
        return a;
    }

    private static boolean isOption(String arg, List<String> valueOptions, List<String> flagOptions) {
        String name = arg.substring(2);
        int eq = name.indexOf('=');
        if (eq >= 0) {
            name = name.substring(0, eq);
        }
        return valueOptions.contains(name) || flagOptions.contains(name) || name.equals("debug")
                || name.equals("help");
    }

    /** True when {@code --debug} was given (anywhere on the command line). */
    static boolean hasDebug(String[] argv) {
        for (String a : argv) {
            if (a.equals("--")) {
                return false;
            }
            if (a.equals("--debug")) {
                return true;
            }
        }
        return false;
    }

    String command() {
        return command;
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    /** The value of {@code --name}, or null when it was not given. */
    String value(String name) {
        return values.get(name);
    }

    /** The value of {@code --name}; a usage error naming the option when it is missing. */
    String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw CliException.usage("'" + command + "' needs --" + name + " (see needle --help)");
        }
        return v;
    }

    /** {@code --name} as a non-negative integer, or {@code dflt} when not given. */
    int nonNegativeInt(String name, int dflt) {
        String v = values.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw CliException.usage("option --" + name + " must be a non-negative integer, got '" + v + "'");
    }

    List<String> positionals() {
        return positionals;
    }

    /** Fails unless there are exactly {@code n} positional arguments, naming them in the message. */
    void expectPositionals(int n, String what) {
        if (positionals.size() < n) {
            throw CliException.usage("'" + command + "' needs " + what + " (see needle --help)");
        }
        if (positionals.size() > n) {
            throw CliException.usage("'" + command + "': unexpected argument '" + positionals.get(n)
                    + "' (see needle --help)");
        }
    }
}
