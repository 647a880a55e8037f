package io.needle.grammar;

import io.needle.engine.*;
import java.nio.file.*;
import org.junit.jupiter.api.Test;

class ScratchConstrainedTest {
    @Test
    void scratch() throws Exception {
        Path sh = Paths.get(System.getProperty("needle.shared"), "fixtures");
        NeedleEngine e = NeedleEngine.load(Files.readAllBytes(sh.resolve("parity/p4.safetensors")),
                Files.readString(sh.resolve("tokenizer/vocab.txt")));
        String tools = "[{\"name\":\"getWeather\",\"description\":\"Get weather\",\"parameters\":{\"location\":{\"type\":\"string\",\"description\":\"City\",\"required\":true},\"days\":{\"type\":\"integer\",\"required\":false},\"unit\":{\"type\":\"string\",\"enum\":[\"c\",\"f\"]}}}]";
        for (String q : new String[] {"What's the weather in Paris?", "hello", "book a flight to Tokyo tomorrow"}) {
            RunResult r = e.run(q, tools, new RunOptions().maxNewTokens(120));
            System.out.println(r.complete + " " + r.tokens.length + " " + r.text + " enc " + r.timings.encodeMs + " dec " + r.timings.decodeMs);
            RunResult u = e.run(q, tools, new RunOptions().maxNewTokens(40).constrain(false));
            System.out.println("  unconstrained: " + u.text);
        }
    }
}
