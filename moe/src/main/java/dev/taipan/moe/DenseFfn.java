package dev.taipan.moe;

import dev.taipan.tensor.Block;
import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Tensor;

/**
 * A dense feed-forward network: {@code out = down(act(gate x, up x))}, llama.cpp's
 * {@code build_ffn} (src/llama-graph.cpp, 34af94cd) with a parallel gate (LLM_FFN_PAR) and no
 * biases. The activation is one of {@link FfnActivation}. Also the shared expert of
 * {@link SparseMoe}.
 */
public final class DenseFfn implements Block {
    private final FfnWeights weights;
    private final FfnActivation activation;
    private final Kernels kernels;
    private final Parallel parallel;
    private final int dim;
    private final int ff;

    public DenseFfn(FfnWeights weights, FfnActivation activation, Kernels kernels, Parallel parallel) {
        this.weights = weights;
        this.activation = activation;
        this.kernels = kernels;
        this.parallel = parallel;
        Tensor up = weights.up();
        if (up.shape().rank() != 2) {
            throw new IllegalArgumentException("tensor '" + up.name() + "': expected a matrix, found " + up.shape());
        }
        this.ff = Math.toIntExact(up.rows());
        this.dim = up.cols();
        if (activation.gated() != (weights.gate() != null)) {
            throw new IllegalArgumentException("ffn (" + up.name() + "): activation " + activation
                    + (activation.gated() ? " needs a gate weight" : " takes no gate weight"));
        }
        if (weights.gate() != null) {
            checkMatrix(weights.gate(), ff, dim);
        }
        checkMatrix(weights.down(), dim, ff);
    }

    static void checkMatrix(Tensor t, long rows, long cols) {
        if (t.shape().rank() != 2 || t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': expected shape [" + rows + ", "
                    + cols + "], found " + t.shape());
        }
    }

    /** Model width. */
    public int dim() {
        return dim;
    }

    /** Hidden width. */
    public int ff() {
        return ff;
    }

    public FfnActivation activation() {
        return activation;
    }

    @Override
    public Scratch newState(SessionLimits limits) {
        return new Scratch(this, limits.maxBatch() * (long) ff);
    }

    @Override
    public void forward(float[] out, float[] x, int nTokens, BlockState state) {
        if (!(state instanceof Scratch s) || s.owner != this) {
            throw new IllegalArgumentException("ffn (" + weights.up().name()
                    + "): state was not created by this block's newState");
        }
        if (nTokens < 0 || (long) nTokens * ff > s.up.length) {
            throw new IllegalArgumentException("ffn (" + weights.up().name() + "): " + nTokens
                    + " tokens exceed the session's batch limit " + s.up.length / ff);
        }
        if (nTokens == 0) {
            return;
        }
        if (out == x) {
            throw new IllegalArgumentException("ffn: out and x must be different arrays");
        }
        float[] h = activation.gated() ? s.gate : s.up;
        if (nTokens == 1) {
            // one token: gate and up rows and the activation in one parallel pass
            s.x = x;
            parallel.forRange(ff, s.upTask);
            s.x = null;
            weights.down().matvec(out, h, parallel);
            return;
        }
        if (weights.gate() != null) {
            weights.gate().matmul(s.gate, x, nTokens, parallel);
        }
        weights.up().matmul(s.up, x, nTokens, parallel);
        activation.apply(kernels, s.gate, s.up, 0, nTokens * ff);
        weights.down().matmul(out, h, nTokens, parallel);
    }

    /** One token: gate and up rows [start, end), then the activation. */
    void upRows(Scratch s, int start, int end) {
        if (weights.gate() != null) {
            weights.gate().dotRows(start, end - start, s.x, 0, s.gate, start);
        }
        weights.up().dotRows(start, end - start, s.x, 0, s.up, start);
        activation.apply(kernels, s.gate, s.up, start, end - start);
    }

    /** Scratch activations of one session: no cache, nothing carried between calls. */
    public static final class Scratch implements BlockState {
        final DenseFfn owner;
        final float[] gate; // (maxBatch, ff)
        final float[] up;   // (maxBatch, ff)
        float[] x;          // the input of a one-token call
        final Parallel.RangeTask upTask;

        Scratch(DenseFfn owner, long size) {
            if (size > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("ffn: scratch of " + size + " values is too large; lower the batch size");
            }
            this.owner = owner;
            this.gate = owner.activation.gated() ? new float[(int) size] : new float[0];
            this.up = new float[(int) size];
            this.upTask = (start, end) -> owner.upRows(this, start, end);
        }

        @Override
        public long cacheBytes() {
            return 0;
        }

        @Override
        public void reset() {
            // nothing is carried between calls
        }
    }
}
