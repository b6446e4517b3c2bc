package dev.taipan.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pre-tokenizer splits worked out by hand from the regexes (leftmost alternative wins, {@code \s+(?!\S)}
 * leaves the last space for the next word), and byte-level BPE details on a hand-built vocabulary.
 */
class PreTokenizerTest {
    private static final String TEXT = "I'm 12345 tokens!!\n\n  ok";

    @Test
    void gpt2KeepsDigitRunsAndSplitsNewlinesFromPunctuation() {
        assertEquals(List.of("I", "'m", " 12345", " tokens", "!!", "\n\n ", " ok"), PreTokenizer.GPT2.split(TEXT));
    }

    @Test
    void llama3GroupsDigitsByThreeAndKeepsNewlinesWithPunctuation() {
        assertEquals(List.of("I", "'m", " ", "123", "45", " tokens", "!!\n\n", " ", " ok"), PreTokenizer.LLAMA3.split(TEXT));
        assertEquals(List.of("WE", "'LL", " see"), PreTokenizer.LLAMA3.split("WE'LL see"), "contractions ignore case");
        assertEquals(List.of("WE", "'", "LL"), PreTokenizer.GPT2.split("WE'LL"), "GPT-2 contractions are lower case");
    }

    @Test
    void qwen2SplitsEveryDigit() {
        assertEquals(List.of("I", "'m", " ", "1", "2", "3", "4", "5", " tokens", "!!\n\n", " ", " ok"),
                PreTokenizer.QWEN2.split(TEXT));
    }

    @Test
    void laterRegexesSplitInsideEarlierPiecesAndKeepTheGaps() {
        // starcoder: "\p{N}" first (the text around the digits stays as pieces), then the GPT-2 regex inside each
        assertEquals(List.of("abc", " ", "1", "2", "3", "x"), PreTokenizer.STARCODER.split("abc 123x"));
        assertEquals(List.of(), PreTokenizer.GPT2.split(""));
    }

    @Test
    void unicodeWhitespaceLettersAndSymbols() {
        // U+3000 ideographic space is whitespace; 日本 are letters; the emoji is "other"
        assertEquals(List.of("日本", "\u3000", "🙂"), PreTokenizer.GPT2.split("日本\u3000🙂"));
        assertEquals(List.of("naïve", " café"), PreTokenizer.GPT2.split("naïve café"));
    }

    @Test
    void everyKnownNameResolvesAndUnknownNamesFail() {
        for (PreTokenizer p : PreTokenizer.values()) {
            for (String name : p.names()) {
                assertEquals(p, PreTokenizer.fromGguf(name, "f"));
            }
            String sample = "Hello, wörld! 42 \t日本\n";
            assertEquals(sample, String.join("", p.split(sample)), p + " must cover the text");
        }
        assertEquals(PreTokenizer.DEFAULT, PreTokenizer.fromGguf(null, "f"));
        HandBuiltVocabularyTest.assertMessage(() -> Tokenizers.fromMetadata(bpeMetadata("no-such-pre")),
                "tokenizer.ggml.pre", "no-such-pre");
    }

    @Test
    void longRunsSplitWithoutDeepRecursion() throws InterruptedException {
        List<String> texts = List.of("a".repeat(10_000), "Ab".repeat(5_000), " ".repeat(10_000) + "x",
                "1".repeat(10_000), "!".repeat(10_000), "日".repeat(10_000), " \n".repeat(5_000));
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        // a small stack, as on a worker thread: java.util.regex recurses per repetition of some groups
        Thread thread = new Thread(null, () -> {
            for (PreTokenizer p : PreTokenizer.values()) {
                for (String text : texts) {
                    try {
                        assertEquals(text, String.join("", p.split(text)), p.toString());
                    } catch (Throwable t) {
                        failures.add(new AssertionError(p + " on a run of '" + text.charAt(0) + "'", t));
                    }
                }
            }
        }, "small-stack", 256 * 1024);
        thread.start();
        thread.join();
        assertEquals(List.of(), failures);
    }

    /** Byte tokens 0..255 in GPT-2 order, then "Ġhello" (256) and "<|eot|>" (257, control); merges "h e" only. */
    static TestMetadata bpeMetadata(String pre) {
        List<String> tokens = new ArrayList<>();
        List<Long> types = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteUnicode.encode(b)));
            types.add(1L);
        }
        tokens.addAll(List.of("Ġhello", "<|eot|>", "he"));
        types.addAll(List.of(1L, 3L, 1L));
        return new TestMetadata()
                .put("tokenizer.ggml.model", "gpt2")
                .put("tokenizer.ggml.pre", pre)
                .put("tokenizer.ggml.tokens", tokens)
                .put("tokenizer.ggml.token_type", types)
                .put("tokenizer.ggml.merges", List.of("h e"))
                .put("tokenizer.ggml.bos_token_id", 257L)
                .put("tokenizer.ggml.eos_token_id", 257L);
    }

    @Test
    void llama3StyleEmitsWholeWordsFoundInTheVocabulary() {
        Tokenizer llama3 = Tokenizers.fromMetadata(bpeMetadata("llama-bpe"));
        assertTrue(llama3.addsBos(), "llama.cpp sets add_bos for llama3 pre-tokenizers");
        assertArrayEquals(new int[] {257, 256}, llama3.encode(" hello"));
        Tokenizer gpt2 = Tokenizers.fromMetadata(bpeMetadata("gpt-2"));
        assertFalse(gpt2.addsBos());
        // no merges lead to "Ġhello": "h e" merges, the rest stays bytes
        assertArrayEquals(new int[] {' ', 258, 'l', 'l', 'o'}, gpt2.encode(" hello"));
        assertEquals(" hello", gpt2.decode(gpt2.encode(" hello")));
        Tokenizer noBos = Tokenizers.fromMetadata(bpeMetadata("llama3").put("tokenizer.ggml.add_bos_token", false));
        assertArrayEquals(new int[] {256}, noBos.encode(" hello"));
        // add_space_prefix only applies to SentencePiece in llama.cpp
        Tokenizer prefixKey = Tokenizers.fromMetadata(bpeMetadata("llama3").put("tokenizer.ggml.add_space_prefix", true));
        assertArrayEquals(new int[] {257, 258, 'l', 'l', 'o'}, prefixKey.encode("hello"));
        assertEquals("hello", prefixKey.decode(prefixKey.encode("hello")));
    }

    @Test
    void chatglmHasNoBosAndControlTokensAreEndOfGenerationOnlyWhenListed() {
        Tokenizer glm = Tokenizers.fromMetadata(bpeMetadata("chatglm-bpe").remove("tokenizer.ggml.bos_token_id"));
        assertEquals(-1, glm.bos());
        assertTrue(glm.isEog(257), "EOS is always end of generation");
        Tokenizer t = Tokenizers.fromMetadata(bpeMetadata("gpt-2"));
        assertArrayEquals(new int[] {258, 257}, t.encode("he<|eot|>"));
        assertEquals("he", t.decode(new int[] {258, 257}));
        assertEquals("<|eot|>", t.piece(257));
    }
}
