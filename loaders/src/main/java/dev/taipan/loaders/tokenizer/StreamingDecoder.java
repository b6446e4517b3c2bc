package dev.taipan.loaders.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Decodes generated tokens one at a time. {@link #push} returns the text completed by that token:
 * bytes of a UTF-8 character split across byte-fallback tokens (an emoji as four {@code <0xNN>}
 * tokens) are held back until the character is whole. The concatenation of every {@link #push}
 * and the final {@link #flush} equals {@link Tokenizer#decode} of the same ids.
 *
 * <p>Not thread-safe: one per generation stream.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private byte[] pending = new byte[16];
    private int pendingLength;
    private int count;
    private int firstId;

    StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Adds one token and returns the text that is now complete (possibly empty).
     *
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    public String push(int id) {
        byte[] piece = tokenizer.visiblePiece(id);
        int index = count++;
        if (index == 0) {
            firstId = id;
        }
        int skip = tokenizer.prefixSpaceToDrop(index, firstId, piece);
        append(piece, skip, piece.length - skip);
        int complete = completeLength(pending, pendingLength);
        return take(complete);
    }

    /** Returns what is held back (an incomplete character becomes U+FFFD) and empties the buffer. */
    public String flush() {
        return take(pendingLength);
    }

    /** Forgets held-back bytes and starts a new stream (the next push counts as the first token). */
    public void reset() {
        pendingLength = 0;
        count = 0;
    }

    private void append(byte[] bytes, int from, int length) {
        if (pendingLength + length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + length));
        }
        System.arraycopy(bytes, from, pending, pendingLength, length);
        pendingLength += length;
    }

    private String take(int length) {
        if (length == 0) {
            return "";
        }
        String text = new String(pending, 0, length, StandardCharsets.UTF_8);
        System.arraycopy(pending, length, pending, 0, pendingLength - length);
        pendingLength -= length;
        return text;
    }

    /**
     * The length of the longest prefix of {@code bytes[0, n)} that does not end inside a UTF-8
     * character: a trailing lead byte still waiting for its continuation bytes is held back. Bytes
     * that can never form a character (stray continuation bytes, invalid leads) are released, to
     * become U+FFFD.
     */
    static int completeLength(byte[] bytes, int n) {
        for (int k = 1; k <= Math.min(4, n); k++) {
            int b = bytes[n - k] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue;
            }
            int need = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            return k < need ? n - k : n;
        }
        return n;
    }
}
