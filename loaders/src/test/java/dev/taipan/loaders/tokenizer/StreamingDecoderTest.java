package dev.taipan.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The streaming decoder never emits part of a UTF-8 character and agrees with {@link Tokenizer#decode}. */
class StreamingDecoderTest {
    private static final Tokenizer STORIES = FixtureTokenizerTest.load("stories260K.gguf");
    private static final Tokenizer GPT2 = FixtureTokenizerTest.load("tiny-llama-moe-f32.gguf");

    private static List<String> pushAll(StreamingDecoder decoder, int[] ids) {
        List<String> out = new ArrayList<>();
        for (int id : ids) {
            out.add(decoder.push(id));
        }
        return out;
    }

    @Test
    void cjkAndEmojiSplitAcrossByteTokensComeOutWhole() {
        String text = "日本語テキスト 🙂";
        int[] ids = STORIES.encode(text, EncodeOptions.NO_BOS);
        // fixture ids: every character here is 3 or 4 byte-fallback tokens
        assertEquals(27, ids.length);
        StreamingDecoder decoder = STORIES.streamingDecoder();
        List<String> parts = pushAll(decoder, ids);
        for (String part : parts) {
            assertFalse(part.contains("\uFFFD"), part);
            assertTrue(part.isEmpty() || part.codePoints().allMatch(cp -> cp < 0x80 || Character.isDefined(cp)), part);
        }
        // "▁" then 日 (3 bytes): emitted on the third byte token only
        assertEquals(List.of(" ", "", "", "日", "", "", "本"), parts.subList(0, 7));
        assertEquals("🙂", parts.get(parts.size() - 1));
        assertEquals("", parts.get(parts.size() - 2));
        assertEquals("", decoder.flush());
        assertEquals(" " + text, String.join("", parts));
        assertEquals(" " + text, STORIES.decode(ids));
    }

    @Test
    void byteLevelBpeCharactersSplitAcrossTokensComeOutWhole() {
        String text = "naïve café — déjà vu 日本 🙂!";
        int[] ids = GPT2.encode(text);
        List<String> parts = pushAll(GPT2.streamingDecoder(), ids);
        assertTrue(parts.stream().noneMatch(p -> p.contains("\uFFFD")), parts::toString);
        assertEquals(text, String.join("", parts));
        // the four bytes of the emoji are four tokens; only the last one completes it
        int emojiStart = ids.length - 5;
        assertEquals(List.of("", "", "", "🙂", "!"), parts.subList(emojiStart, ids.length));
    }

    @Test
    void leadingBosDropsTheEncoderSpaceLikeDecode() {
        int[] ids = STORIES.encode("Hello, world! 🙂");
        StreamingDecoder decoder = STORIES.streamingDecoder();
        String streamed = String.join("", pushAll(decoder, ids)) + decoder.flush();
        assertEquals("Hello, world! 🙂", streamed);
        assertEquals(STORIES.decode(ids), streamed);
        decoder.reset();
        assertEquals("", decoder.push(STORIES.eos()), "control tokens are not rendered");
    }

    @Test
    void incompleteAndInvalidBytesBecomeReplacementCharacters() {
        int e6 = STORIES.tokenId("<0xE6>").orElseThrow();
        int x97 = STORIES.tokenId("<0x97>").orElseThrow();
        int a = STORIES.tokenId("a").orElseThrow();
        StreamingDecoder decoder = STORIES.streamingDecoder();
        assertEquals("", decoder.push(e6));
        assertEquals("", decoder.push(x97));
        assertEquals("\uFFFD", decoder.flush(), "a cut-off character is flushed as U+FFFD");
        assertEquals("", decoder.flush());
        // a lead byte followed by ASCII can never complete: both are released at once
        assertEquals("", decoder.push(e6));
        assertEquals("\uFFFDa", decoder.push(a));
        // a stray continuation byte is released immediately
        assertEquals("\uFFFD", decoder.push(x97));
        assertEquals(STORIES.decode(new int[] {e6, x97}), "\uFFFD");
    }

    @Test
    void completeLengthHoldsBackOnlyUnfinishedSequences() {
        assertEquals(0, StreamingDecoder.completeLength(new byte[0], 0));
        byte[] ascii = "ab".getBytes(StandardCharsets.UTF_8);
        assertEquals(2, StreamingDecoder.completeLength(ascii, 2));
        byte[] emoji = "a🙂".getBytes(StandardCharsets.UTF_8);
        for (int n = 2; n < emoji.length; n++) {
            assertEquals(1, StreamingDecoder.completeLength(emoji, n), "prefix of " + n + " bytes");
        }
        assertEquals(5, StreamingDecoder.completeLength(emoji, 5));
        byte[] cjk = "日".getBytes(StandardCharsets.UTF_8);
        assertEquals(0, StreamingDecoder.completeLength(cjk, 2));
        assertEquals(3, StreamingDecoder.completeLength(cjk, 3));
        byte[] twoByte = "é".getBytes(StandardCharsets.UTF_8);
        assertEquals(0, StreamingDecoder.completeLength(twoByte, 1));
        assertEquals(2, StreamingDecoder.completeLength(twoByte, 2));
        assertEquals(1, StreamingDecoder.completeLength(new byte[] {(byte) 0xFF}, 1), "invalid lead byte");
        assertEquals(4, StreamingDecoder.completeLength(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80}, 4));
    }
}
