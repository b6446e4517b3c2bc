package dev.taipan.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.ModelFormatException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Tokenizer behaviour on small hand-built vocabularies, with the expected ids worked out by hand
 * from llama.cpp's algorithms (llama-vocab.cpp).
 */
class HandBuiltVocabularyTest {

    // SentencePiece vocabulary: <unk> <s> </s>, 256 byte tokens (ids 3..258), then pieces
    private static final List<String> SPM_PIECES = List.of("▁", "a", "b", "▁a", "ab", "▁ab", "aa", "▁b", "<tag>");
    private static final List<Float> SPM_PIECE_SCORES = List.of(-1f, -2f, -2f, -3f, -1.5f, -0.5f, -4f, -5f, 0f);
    private static final int BYTE0 = 3;
    private static final int SPACE = 259;
    private static final int A = 260;
    private static final int B = 261;
    private static final int SPACE_A = 262;
    private static final int AB = 263;
    private static final int SPACE_AB = 264;
    private static final int AA = 265;
    private static final int SPACE_B = 266;
    private static final int TAG = 267;

    static TestMetadata spmMetadata() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f));
        List<Long> types = new ArrayList<>(List.of(2L, 3L, 3L));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            scores.add(0f);
            types.add(6L);
        }
        tokens.addAll(SPM_PIECES);
        scores.addAll(SPM_PIECE_SCORES);
        for (String piece : SPM_PIECES) {
            types.add(piece.equals("<tag>") ? 4L : 1L);
        }
        return TestMetadata.spm(tokens, scores, types);
    }

    private static Tokenizer spm() {
        return Tokenizers.fromMetadata(spmMetadata());
    }

    @Test
    void spmMergesTheBestScoredPairFirst() {
        // "▁ab": pairs "▁a" (-3) and "ab" (-1.5); "ab" wins, then "▁ab" (-0.5)
        assertArrayEquals(new int[] {1, SPACE_AB}, spm().encode("ab"));
    }

    @Test
    void spmBreaksScoreTiesLeftmostFirst() {
        // "▁aaa": "▁a" (-3) merges before the "aa" pairs (-4), leaving "aa"
        assertArrayEquals(new int[] {SPACE_A, AA}, spm().encode("aaa", EncodeOptions.NO_BOS));
        // "▁baaa": both "aa" pairs score -4 and the left one merges first: ▁b aa a (not ▁b a aa)
        assertArrayEquals(new int[] {SPACE_B, AA, A}, spm().encode("baaa", EncodeOptions.NO_BOS));
    }

    @Test
    void spmFallsBackToUtf8Bytes() {
        // "é" is not a token: ▁ then the bytes C3 A9
        assertArrayEquals(new int[] {1, SPACE, BYTE0 + 0xC3, BYTE0 + 0xA9}, spm().encode("é"));
        assertArrayEquals(new int[] {SPACE, BYTE0 + '\n'}, spm().encode("\n", EncodeOptions.NO_BOS));
    }

    @Test
    void spmAddsBosByDefaultAndHonoursTheKey() {
        assertTrue(spm().addsBos());
        assertArrayEquals(new int[] {1}, spm().encode(""));
        assertArrayEquals(new int[0], spm().encode("", EncodeOptions.NO_BOS));
        Tokenizer noBos = Tokenizers.fromMetadata(spmMetadata().put("tokenizer.ggml.add_bos_token", false));
        assertArrayEquals(new int[] {SPACE_AB}, noBos.encode("ab"));
        Tokenizer withEos = Tokenizers.fromMetadata(spmMetadata().put("tokenizer.ggml.add_eos_token", true));
        assertArrayEquals(new int[] {1, SPACE_AB, 2}, withEos.encode("ab"));
        assertArrayEquals(new int[] {SPACE_AB}, withEos.encode("ab", EncodeOptions.NO_BOS));
    }

    @Test
    void spmWithoutSpacePrefix() {
        Tokenizer t = Tokenizers.fromMetadata(spmMetadata().put("tokenizer.ggml.add_space_prefix", false));
        assertArrayEquals(new int[] {1, AB}, t.encode("ab"));
        assertArrayEquals(new int[] {1, A, 2, B}, t.encode("a</s>b"));
        assertEquals("ab", t.decode(t.encode("ab")));
        assertEquals(" ab", t.decode(t.encode(" ab")));
    }

    @Test
    void spmSpecialTokensAreParsedOnlyWhenAsked() {
        // the text after a special token gets its own space prefix
        assertArrayEquals(new int[] {1, SPACE_A, 2, SPACE_B}, spm().encode("a</s>b"));
        int lt = BYTE0 + '<';
        int slash = BYTE0 + '/';
        int s = BYTE0 + 's';
        int gt = BYTE0 + '>';
        assertArrayEquals(new int[] {SPACE_A, lt, slash, s, gt, B}, spm().encode("a</s>b", EncodeOptions.PLAIN_TEXT));
        // user-defined tokens are cut out even without special parsing
        assertArrayEquals(new int[] {SPACE_A, TAG, SPACE_B}, spm().encode("a<tag>b", EncodeOptions.PLAIN_TEXT));
    }

    @Test
    void spmDecodeDropsTheEncoderSpaceAfterBosOnly() {
        Tokenizer t = spm();
        assertEquals("ab", t.decode(t.encode("ab")));
        assertEquals(" ab", t.decode(new int[] {SPACE_AB}));
        assertEquals(" ab", t.piece(SPACE_AB));
        assertEquals("<s>", t.piece(1));
        assertEquals("", t.decode(new int[] {1, 2}));
        assertEquals("a\n", t.decode(new int[] {1, SPACE_A, BYTE0 + '\n'}));
        assertEquals("<tag>", t.decode(new int[] {TAG}));
        for (String text : List.of("ab", "a b  a", " leading", "é\n\tx", "aaa bab")) {
            assertEquals(text, t.decode(t.encode(text)), text);
        }
    }

    @Test
    void specialIdsEogAndTypes() {
        Tokenizer t = spm();
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
        assertEquals(0, t.unk());
        assertEquals(-1, t.pad());
        assertEquals(268, t.vocabSize());
        assertTrue(t.isEog(2));
        assertFalse(t.isEog(1));
        assertEquals(TokenType.BYTE, t.tokenType(BYTE0));
        assertEquals(TokenType.USER_DEFINED, t.tokenType(TAG));
        assertEquals("▁ab", t.tokenText(SPACE_AB));
        assertEquals(-0.5f, t.score(SPACE_AB));
        assertEquals(SPACE_AB, t.tokenId("▁ab").orElseThrow());
        assertEquals(Tokenizer.Kind.SENTENCE_PIECE, t.kind());
        assertTrue(t.chatTemplate().isEmpty());
        Tokenizer chat = Tokenizers.fromMetadata(spmMetadata().put("tokenizer.chat_template", "{{ x }}")
                .put("tokenizer.ggml.eos_token_id", 1L));
        assertEquals("{{ x }}", chat.chatTemplate().orElseThrow());
        assertEquals(1, chat.eos());
        assertTrue(chat.isEog(1));
        assertTrue(chat.isEog(2), "</s> is an end-of-generation text in llama.cpp");
    }

    @Test
    void outOfRangeIdsNameTheIdAndVocabularySize() {
        Tokenizer t = spm();
        for (int bad : new int[] {-1, 268, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {3, bad}));
            assertTrue(e.getMessage().contains(String.valueOf(bad)) && e.getMessage().contains("268"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.piece(bad));
            assertThrows(IllegalArgumentException.class, () -> t.isEog(bad));
            assertThrows(IllegalArgumentException.class, () -> t.streamingDecoder().push(bad));
        }
    }

    @Test
    void badMetadataNamesTheKey() {
        assertMessage(() -> Tokenizers.fromMetadata(spmMetadata().put("tokenizer.ggml.model", "bert")),
                "tokenizer.ggml.model", "bert");
        assertMessage(() -> Tokenizers.fromMetadata(spmMetadata().remove("tokenizer.ggml.model")),
                "tokenizer.ggml.model");
        assertMessage(() -> Tokenizers.fromMetadata(spmMetadata().remove("tokenizer.ggml.tokens")),
                "tokenizer.ggml.tokens");
        assertMessage(() -> Tokenizers.fromMetadata(spmMetadata().put("tokenizer.ggml.scores", List.of(1f))),
                "tokenizer.ggml.scores");
        assertMessage(() -> Tokenizers.fromMetadata(spmMetadata().put("tokenizer.ggml.tokens", List.of("a", "b", "a"))),
                "duplicate", "'a'");
        assertMessage(() -> Tokenizers.fromMetadata(spmMetadata().put("tokenizer.ggml.token_type", "x")),
                "tokenizer.ggml.token_type");
        assertMessage(() -> Tokenizers.fromMetadata(spmMetadata().put("tokenizer.ggml.bos_token_id", 999L)
                        .put("tokenizer.ggml.tokens", List.of("x")).put("tokenizer.ggml.scores", List.of(0f))
                        .put("tokenizer.ggml.token_type", List.of(1L))),
                "add_bos_token", "bos_token_id");
    }

    static void assertMessage(Runnable action, String... parts) {
        ModelFormatException e = assertThrows(ModelFormatException.class, action::run);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "'" + part + "' not in: " + e.getMessage());
        }
        assertTrue(e.getMessage().contains("test-metadata"), e.getMessage());
    }
}
