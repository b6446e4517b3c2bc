package dev.taipan.runtime.sampling;

import java.util.Objects;

/**
 * The tokens seen so far (prompt and generated), the input of the repetition penalties: a view of
 * {@code tokens[0, length)} that is not copied, so a session can pass its own growing buffer.
 *
 * @param tokens token ids, oldest first
 * @param length how many of them count
 */
public record TokenHistory(int[] tokens, int length) {

    public static final TokenHistory EMPTY = new TokenHistory(new int[0], 0);

    public TokenHistory {
        Objects.requireNonNull(tokens, "tokens");
        if (length < 0 || length > tokens.length) {
            throw new IllegalArgumentException("history length " + length + " outside [0, " + tokens.length + "]");
        }
    }

    /** All of {@code tokens}. */
    public static TokenHistory of(int... tokens) {
        return new TokenHistory(tokens, tokens.length);
    }
}
