package io.needle.grammar;

import static io.needle.grammar.GrammarTesting.TOOLS;
import static io.needle.grammar.GrammarTesting.after;
import static io.needle.grammar.GrammarTesting.grammar;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.needle.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The trie built from token texts the caller already made (as the engine builds it, sharing its
 * table with the constrained decoder) is the trie built from the tokenizer; a table of the wrong
 * size is refused. (Its allowed sets against brute force: {@code ConstrainedDecoderTest}.)
 */
class TokenTrieTest {

    @Test
    void fromGivenTokenBytesEqualsFromTheTokenizer() throws IOException {
        Tokenizer tok = GrammarTesting.tokenizer();
        TokenTrie own = new TokenTrie(tok);
        TokenTrie given = new TokenTrie(tok, TokenTexts.of(GrammarTesting.tokenBytes()));
        assertEquals(own.nodeCount(), given.nodeCount());
        assertEquals(own.spaceBytePiece(), given.spaceBytePiece());
        assertTrue(own.spaceBytePiece() >= 0, "the fixture vocabulary has the byte piece <0x20>");
        ToolGrammar g = grammar(TOOLS);
        for (String prefix : new String[] {"", "[", "[{\"name\":\"", "[{\"name\":\"get_weather\",\"arguments\":{\""}) {
            int[] a = own.allowed(after(g, prefix));
            int[] b = given.allowed(after(g, prefix));
            assertTrue(a.length > 0, "nothing allowed after '" + prefix + "'");
            Arrays.sort(a);
            Arrays.sort(b);
            assertArrayEquals(a, b, "allowed after '" + prefix + "'");
        }
    }

    @Test
    void tokenBytesOfAnotherSizeAreRefused() throws IOException {
        Tokenizer tok = GrammarTesting.tokenizer();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TokenTrie(tok, TokenTexts.of(new byte[tok.size() - 1][0])));
        assertTrue(e.getMessage().contains("the token texts have " + (tok.size() - 1) + " entries"), e.getMessage());
    }
}
