package dev.taipan.runtime.arch.ssm;

import dev.taipan.tensor.Block;
import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.SessionLimits;

/**
 * Two mixers run side by side on the same normed input, their outputs summed: Falcon-H1's
 * {@code ggml_add(attn_out, ssm_out)} (src/models/falcon-h1.cpp, llama.cpp 34af94cd), where both
 * read the same {@code attn_norm} output. Each mixer keeps its own state (KV cache, SSM state).
 */
public final class ParallelMixers implements Block {
    private final Block first;
    private final Block second;
    private final int dim;
    private final Kernels kernels;

    /** {@code out = first(x) + second(x)} over rows of {@code dim} values. */
    public ParallelMixers(Block first, Block second, int dim, Kernels kernels) {
        if (dim < 1) {
            throw new IllegalArgumentException("parallel mixers: dim must be positive, got " + dim);
        }
        this.first = first;
        this.second = second;
        this.dim = dim;
        this.kernels = kernels;
    }

    public Block first() {
        return first;
    }

    public Block second() {
        return second;
    }

    @Override
    public State newState(SessionLimits limits) {
        return new State(this, first.newState(limits), second.newState(limits), limits.maxBatch(), dim);
    }

    @Override
    public void forward(float[] out, float[] x, int nTokens, BlockState state) {
        if (!(state instanceof State st) || st.owner != this) {
            throw new IllegalArgumentException("parallel mixers: state was not created by this block's newState");
        }
        if (nTokens < 0 || nTokens > st.maxBatch) {
            throw new IllegalArgumentException("parallel mixers: " + nTokens
                    + " tokens in one call, the session's batch limit is " + st.maxBatch);
        }
        first.forward(out, x, nTokens, st.first);
        second.forward(st.secondOut, x, nTokens, st.second);
        kernels.add(out, 0, st.secondOut, 0, nTokens * dim);
    }

    /** Both mixers' states and the second mixer's output rows. */
    public static final class State implements BlockState {
        private final ParallelMixers owner;
        private final BlockState first;
        private final BlockState second;
        private final int maxBatch;
        private final float[] secondOut; // (maxBatch, dim)

        State(ParallelMixers owner, BlockState first, BlockState second, int maxBatch, int dim) {
            this.owner = owner;
            this.first = first;
            this.second = second;
            this.maxBatch = maxBatch;
            this.secondOut = new float[maxBatch * dim];
        }

        public BlockState first() {
            return first;
        }

        public BlockState second() {
            return second;
        }

        @Override
        public long cacheBytes() {
            return first.cacheBytes() + second.cacheBytes();
        }

        @Override
        public void reset() {
            first.reset();
            second.reset();
        }
    }
}
