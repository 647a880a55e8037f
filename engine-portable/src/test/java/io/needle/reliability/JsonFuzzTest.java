package io.needle.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.needle.base.NeedleException;
import io.needle.json.Json;

/**
 * Fuzzes the JSON parser (docs/FUZZING.md). Property: parsing never throws anything but a JSON
 * NeedleException, and a parsed value is stable through writing: parse → write → parse gives an
 * equal value whose text is the same again (both with {@link Json#write} and {@link Json#writeAscii}).
 */
class JsonFuzzTest {

    @FuzzTest(maxDuration = "2m")
    void parseWriteParseIsStable(byte[] input) {
        String text = FuzzText.decode(input);
        Object value;
        try {
            value = Json.parse(text);
        } catch (NeedleException e) {
            assertEquals(NeedleException.Kind.JSON, e.kind(), e.getMessage());
            TinyEngine.checkMessage(e);
            return;
        }
        for (boolean ascii : new boolean[] {false, true}) {
            String written = ascii ? Json.writeAscii(value) : Json.write(value);
            Object again = Json.parse(written);
            assertEquals(value, again, written);
            assertEquals(written, ascii ? Json.writeAscii(again) : Json.write(again));
        }
    }
}
