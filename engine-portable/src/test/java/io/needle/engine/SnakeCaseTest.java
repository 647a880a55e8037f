package io.needle.engine;

import io.needle.tools.SnakeCase;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** docs/spec/MODEL.md section 3 snake_case rule. Expected values worked out by hand from the rule. */
class SnakeCaseTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
        // the spec's examples
        "getWeather|get_weather",
        "Book Flight|book_flight",
        "HTTPServerStatus|http_server_status",
        "user.get-profile|user_get_profile",
        // already snake, case only
        "get_weather|get_weather",
        "GetWeather|get_weather",
        "GET_WEATHER|get_weather",
        "snake_Case|snake_case",
        "A|a",
        "aB|a_b",
        "AB|ab",
        "HTTP|http",
        // acronyms
        "ABc|a_bc",
        "getHTTPResponse|get_http_response",
        "XMLHttpRequest|xml_http_request",
        "IPv4Address|i_pv4_address",
        "iOS|i_os",
        "getURLs|get_ur_ls",
        // digits
        "version2Beta|version2_beta",
        "get2FA|get2_fa",
        "ABC123Def|abc123_def",
        "A1B2|a1_b2",
        "HTTP2Server|http2_server",
        "tool-v2.1|tool_v2_1",
        "123|123",
        // leading / trailing / repeated junk
        "__init__|init",
        "'  --Hello World!!  '|hello_world",
        "a__b|a_b",
        "a_ _b|a_b",
        "getWeather_|get_weather",
        "'get Weather'|get_weather",
        "_Private|private",
        // non-ASCII letters are other characters
        "café|caf",
        "naïveBayes|na_ve_bayes",
        "Ünïcode|n_code",
        "日本語|''",
        "😀tool|tool",
        "tool😀😀name|tool_name",
        "straße|stra_e",
        "ſ|''",
        "İstanbul|stanbul",
        "ＡＢＣ|''",
        "''|''",
        "___|''",
    })
    void snakeCase(String name, String expected) {
        assertEquals(expected, SnakeCase.of(name));
    }

    @Test
    void controlCharactersAreOtherCharacters() {
        assertEquals("a_b_c", SnakeCase.of("a\tb\nc"));
        assertEquals("x_y", SnakeCase.of("\u0000x\u007fy\r\n"));
    }

    @Test
    void idempotent() {
        String[] names = {"getWeather", "HTTPServerStatus", "IPv4Address", "tool😀😀name", "a1B2c3D"};
        for (String n : names) {
            String once = SnakeCase.of(n);
            assertEquals(once, SnakeCase.of(once), n);
        }
    }
}
