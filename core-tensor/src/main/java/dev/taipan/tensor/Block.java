package dev.taipan.tensor;

/**
 * One block of a layer stack: a token mixer (attention, Mamba-3, Mamba-2, …) or a feed-forward
 * network (dense, MoE). A block is immutable and shared by threads; everything per session (KV
 * cache, SSM state, scratch activations, routing statistics) lives in the {@link BlockState} it
 * creates.
 */
public interface Block {

    /** Per-session state and scratch for this block, sized by {@code limits}. */
    BlockState newState(SessionLimits limits);

    /**
     * Processes {@code nTokens} consecutive tokens: {@code x} holds nTokens rows of the model
     * dimension (flattened, token-major); the result rows are written to {@code out} (never the
     * same array as {@code x}). Tokens continue after those already in {@code state}; the state
     * advances by {@code nTokens}.
     *
     * @throws IllegalStateException when the session's context length would be exceeded
     */
    void forward(float[] out, float[] x, int nTokens, BlockState state);
}
