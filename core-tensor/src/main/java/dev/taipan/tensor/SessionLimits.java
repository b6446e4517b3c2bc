package dev.taipan.tensor;

/**
 * Sizes a session preallocates for: the most tokens in one forward call (prefill batch) and the
 * context length (tokens a session can hold in total).
 */
public record SessionLimits(int maxBatch, int contextLength) {
    public SessionLimits {
        if (maxBatch < 1 || contextLength < 1) {
            throw new IllegalArgumentException("limits must be positive: maxBatch=" + maxBatch
                    + " contextLength=" + contextLength);
        }
    }
}
