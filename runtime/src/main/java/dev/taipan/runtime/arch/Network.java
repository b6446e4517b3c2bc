package dev.taipan.runtime.arch;

import dev.taipan.tensor.Block;
import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Tensor;
import java.util.List;

/**
 * The layer stack every architecture builds (llama.cpp's graph, without the graph):
 * <pre>
 * embed ─▶ × embeddingScale ─▶ for each layer: norm ─▶ mixer ─▶ residual; norm ─▶ ffn ─▶ residual
 *       ─▶ output norm ─▶ lm_head ─▶ ÷ logitScale
 * </pre>
 * Immutable and shared by sessions; per-session buffers and block states live in {@link State}.
 */
public final class Network {

    /**
     * Model-wide parts of the stack.
     *
     * @param tokenEmbd      (vocab, dim) token embeddings, any type
     * @param outputNorm     final norm over dim
     * @param output         (vocab, dim) lm head; may be the same tensor as tokenEmbd (tied)
     * @param scales         embedding and logit scales
     */
    public record Head(Tensor tokenEmbd, Norm outputNorm, Tensor output, Scales scales) {
    }

    /**
     * Scalar multipliers some families use (Granite): embeddings are multiplied by
     * {@code embedding}, logits divided by {@code logitDivisor}. Both 1 elsewhere.
     */
    public record Scales(float embedding, float logitDivisor) {
        public static final Scales NONE = new Scales(1f, 1f);
    }

    /** A norm, a block and its residual: half of a decoder layer. */
    private record Residual(Norm norm, Block block, float scale) {
    }

    private final String archName;
    private final Head head;
    private final List<DecoderLayer> layers;
    private final Residual[] residuals;  // the layers' blocks in execution order
    private final int[] mixerIndex;      // layer -> index into residuals, or -1
    private final int[] ffnIndex;        // layer -> index into residuals, or -1
    private final Kernels kernels;
    private final Parallel parallel;
    private final int dim;
    private final int vocab;

    public Network(String archName, Head head, List<DecoderLayer> layers, BuildContext ctx) {
        this.archName = archName;
        this.head = head;
        this.layers = List.copyOf(layers);
        this.mixerIndex = new int[layers.size()];
        this.ffnIndex = new int[layers.size()];
        List<Residual> flat = new java.util.ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            DecoderLayer layer = layers.get(l);
            mixerIndex[l] = layer.mixer() == null ? -1 : flat.size();
            if (layer.mixer() != null) {
                flat.add(new Residual(layer.mixerNorm(), layer.mixer(), layer.residualScale()));
            }
            ffnIndex[l] = layer.ffn() == null ? -1 : flat.size();
            if (layer.ffn() != null) {
                flat.add(new Residual(layer.ffnNorm(), layer.ffn(), layer.residualScale()));
            }
        }
        this.residuals = flat.toArray(new Residual[0]);
        this.kernels = ctx.kernels();
        this.parallel = ctx.parallel();
        this.dim = head.tokenEmbd().cols();
        this.vocab = Math.toIntExact(head.output().rows());
        if (head.output().cols() != dim) {
            throw new IllegalArgumentException(archName + ": lm head has " + head.output().cols()
                    + " columns, embeddings have " + dim);
        }
    }

    public String archName() {
        return archName;
    }

    public int dim() {
        return dim;
    }

    public int vocabSize() {
        return vocab;
    }

    public List<DecoderLayer> layers() {
        return layers;
    }

    public Head head() {
        return head;
    }

    /** Per-session state: every block's state and the activation buffers of one batch. */
    public State newState(SessionLimits limits) {
        return new State(this, limits);
    }

    /**
     * Runs {@code n} tokens through the stack, continuing after the tokens already in the state.
     * Leaves the final-normed hidden rows in the state for {@link #logits}.
     */
    public void forward(int[] tokens, int off, int n, State st) {
        if (n < 1 || n > st.limits.maxBatch()) {
            throw new IllegalArgumentException("batch of " + n + " tokens outside [1, " + st.limits.maxBatch() + "]");
        }
        if (st.position + n > st.limits.contextLength()) {
            throw new IllegalStateException("context length " + st.limits.contextLength() + " exceeded: "
                    + st.position + " tokens in the session, " + n + " more requested");
        }
        float[] x = st.x;
        for (int t = 0; t < n; t++) {
            int token = tokens[off + t];
            if (token < 0 || token >= head.tokenEmbd().rows()) {
                throw new IllegalArgumentException("token id " + token + " out of range [0, "
                        + head.tokenEmbd().rows() + ")");
            }
            head.tokenEmbd().row(token, x, t * dim);
        }
        if (head.scales().embedding() != 1f) {
            kernels.scale(x, 0, n * dim, head.scales().embedding());
        }
        for (int i = 0; i < residuals.length; i++) {
            residualBlock(residuals[i], st.states[i], n, st);
        }
        System.arraycopy(x, 0, st.hidden, 0, n * dim);
        for (int t = 0; t < n; t++) {
            head.outputNorm().apply(kernels, st.hidden, t * dim);
        }
        st.position += n;
        st.lastBatch = n;
    }

    // x += scale * block(norm(x)) for n rows
    private void residualBlock(Residual r, BlockState bs, int n, State st) {
        System.arraycopy(st.x, 0, st.xb, 0, n * dim);
        for (int t = 0; t < n; t++) {
            r.norm().apply(kernels, st.xb, t * dim);
        }
        r.block().forward(st.blockOut, st.xb, n, bs);
        if (r.scale() == 1f) {
            kernels.add(st.x, 0, st.blockOut, 0, n * dim);
        } else {
            kernels.axpy(st.x, 0, r.scale(), st.blockOut, 0, n * dim);
        }
    }

    /**
     * Logits of tokens {@code [first, first + count)} of the last batch into
     * {@code out[outOff ..)} (count × vocab values).
     */
    public void logits(State st, int first, int count, float[] out, int outOff) {
        if (first < 0 || count < 0 || first + count > st.lastBatch) {
            throw new IllegalArgumentException("logits rows [" + first + ", " + (first + count)
                    + ") outside the last batch of " + st.lastBatch);
        }
        float[] rows = st.logitsIn;
        for (int c = 0; c < count; c += st.logitsRows) {
            int m = Math.min(st.logitsRows, count - c);
            System.arraycopy(st.hidden, (first + c) * dim, rows, 0, m * dim);
            if (m == 1) {
                head.output().matvec(st.logitsOut, rows, parallel);
            } else {
                head.output().matmul(st.logitsOut, rows, m, parallel);
            }
            System.arraycopy(st.logitsOut, 0, out, outOff + c * vocab, m * vocab);
        }
        if (head.scales().logitDivisor() != 1f) {
            kernels.scale(out, outOff, count * vocab, 1f / head.scales().logitDivisor());
        }
    }

    /** Per-session state of a {@link Network}. */
    public static final class State {
        private final Network net;
        private final SessionLimits limits;
        private final BlockState[] states; // one per residual block
        private final float[] x;        // (maxBatch, dim) residual stream
        private final float[] xb;       // (maxBatch, dim) normed block input
        private final float[] blockOut; // (maxBatch, dim) block output
        private final float[] hidden;   // (maxBatch, dim) final-normed hidden rows
        private final int logitsRows;
        private final float[] logitsIn;  // (logitsRows, dim)
        private final float[] logitsOut; // (logitsRows, vocab)
        private int position;
        private int lastBatch;

        private State(Network net, SessionLimits limits) {
            this.net = net;
            this.limits = limits;
            states = new BlockState[net.residuals.length];
            for (int i = 0; i < states.length; i++) {
                states[i] = net.residuals[i].block().newState(limits);
            }
            int rows = limits.maxBatch() * net.dim;
            x = new float[rows];
            xb = new float[rows];
            blockOut = new float[rows];
            hidden = new float[rows];
            logitsRows = Math.max(1, Math.min(limits.maxBatch(), (1 << 22) / Math.max(1, net.vocab)));
            logitsIn = new float[logitsRows * net.dim];
            logitsOut = new float[logitsRows * net.vocab];
        }

        public SessionLimits limits() {
            return limits;
        }

        /** Tokens processed so far. */
        public int position() {
            return position;
        }

        /** State of layer {@code l}'s mixer (null when it has none). */
        public BlockState mixerState(int l) {
            return net.mixerIndex[l] < 0 ? null : states[net.mixerIndex[l]];
        }

        /** State of layer {@code l}'s FFN (null when it has none). */
        public BlockState ffnState(int l) {
            return net.ffnIndex[l] < 0 ? null : states[net.ffnIndex[l]];
        }

        /** Bytes held by every cache of the session (KV caches, SSM states). */
        public long cacheBytes() {
            long sum = 0;
            for (BlockState bs : states) {
                sum += bs.cacheBytes();
            }
            return sum;
        }

        public void reset() {
            for (BlockState bs : states) {
                bs.reset();
            }
            position = 0;
            lastBatch = 0;
        }
    }
}
