package dev.taipan.runtime;

/**
 * What one {@link Session#generate} call did.
 *
 * @param promptTokens    tokens prefilled
 * @param promptNanos     time spent prefilling them (includes the first token's logits)
 * @param generatedTokens tokens given to the caller (an end-of-generation token is not counted)
 * @param decodeNanos     time spent from the first sampled token to the last
 * @param stop            why generation stopped
 */
public record GenerationStats(int promptTokens, long promptNanos, int generatedTokens, long decodeNanos,
                              StopReason stop) {

    /** Why a generation ended. */
    public enum StopReason { END_OF_TEXT, MAX_TOKENS, CANCELLED, CONTEXT_FULL }

    /** Prefill throughput in tokens per second (0 when nothing was prefilled). */
    public double promptTokensPerSecond() {
        return promptNanos == 0 ? 0 : promptTokens * 1e9 / promptNanos;
    }

    /** Decode throughput in tokens per second, over the tokens after the first. */
    public double decodeTokensPerSecond() {
        return decodeNanos == 0 || generatedTokens < 2 ? 0 : (generatedTokens - 1) * 1e9 / decodeNanos;
    }

    /** Time to first token: the prefill time, in milliseconds. */
    public double timeToFirstTokenMillis() {
        return promptNanos / 1e6;
    }
}
