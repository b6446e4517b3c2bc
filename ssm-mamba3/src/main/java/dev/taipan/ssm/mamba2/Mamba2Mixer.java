package dev.taipan.ssm.mamba2;

import dev.taipan.tensor.Block;
import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.RunOnce;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Tensor;
import java.util.Arrays;

/**
 * The Mamba-2 mixer as llama.cpp lays it out: {@code build_mamba2_layer} (src/models/
 * graph-context-mamba.cpp) with ggml's CPU {@code ggml_ssm_conv} and {@code ggml_ssm_scan}
 * (ggml-cpu/ops.cpp), llama.cpp 34af94cd. Paper: Dao and Gu, "Transformers are SSMs" (2024).
 *
 * <p>Glossary (paper symbol, code name, llama.cpp name):
 * <ul>
 * <li>x: {@code x}, the first dInner conv channels, heads of P = headDim values</li>
 * <li>B, C: {@code B}, {@code C}, nGroups vectors of N = dState values each, shared by the
 *     heads of a group (head h uses group {@code h / (nHeads / nGroups)})</li>
 * <li>dt (Δ): {@code dt} = softplus(dt_raw + dt_bias), one per head [ssm_dt.bias]</li>
 * <li>A: {@code a}, one negative scalar per head, stored as -exp(A_log) [ssm_a]</li>
 * <li>D: {@code d}, skip weight per head [ssm_d]</li>
 * <li>h: {@code ssm}, (nHeads, P, N) state; z: gate, the first dInner rows of the in-projection</li>
 * </ul>
 * For each token: {@code [z | xBC | dt_raw] = W_in u}; {@code xBC = silu(conv1d(xBC) + bias)};
 * per head {@code dA = exp(dt * A)}; per head element p:
 * {@code h[p] = h[p] * dA + B * (x[p] * dt)}, {@code y[p] = C · h[p] + D x[p]};
 * {@code y = rmsnorm_grouped(y * silu(z)) * norm}; {@code out = W_out y}.
 *
 * <p>Prefill runs the projections as batched matmuls; the scan stays sequential over tokens,
 * parallel over heads (one fork per call, each worker scanning its heads through the whole
 * batch) and vectorised over the state through {@link Kernels}. Prefill evaluates the same
 * recurrence token by token (no SSD chunked form), so it equals decoding up to rounding.
 */
public final class Mamba2Mixer implements Block {
    private final Mamba2Config config;
    private final Mamba2Weights weights;
    private final Kernels kernels;
    private final Parallel parallel;
    private final CausalConv1d conv;
    private final float[][] normGroups; // nGroups weights of dInner / nGroups, or null

    public Mamba2Mixer(Mamba2Config config, Mamba2Weights weights, Kernels kernels, Parallel parallel) {
        this.config = config;
        this.weights = weights;
        this.kernels = kernels;
        this.parallel = parallel;
        checkMatrix(weights.inProj(), config.inProjDim(), config.dim());
        checkMatrix(weights.outProj(), config.dim(), config.dInner());
        String name = weights.inProj().name();
        checkVector(weights.dtBias(), config.nHeads(), "dt bias", name);
        checkVector(weights.a(), config.nHeads(), "A", name);
        checkVector(weights.d(), config.nHeads(), "D", name);
        if (weights.norm() != null) {
            checkVector(weights.norm(), config.dInner(), "norm", name);
        }
        this.conv = new CausalConv1d(config.convDim(), config.dConv(), weights.conv(), weights.convBias());
        this.normGroups = weights.norm() == null ? null : splitGroups(weights.norm(), config.nGroups());
    }

    public Mamba2Config config() {
        return config;
    }

    public Mamba2Weights weights() {
        return weights;
    }

    @Override
    public Mamba2State newState(SessionLimits limits) {
        return new Mamba2State(this, config, limits.maxBatch(), parallel.threads());
    }

    @Override
    public void forward(float[] out, float[] x, int nTokens, BlockState state) {
        Mamba2State st = stateOf(state);
        checkCall(out, x, nTokens, st);
        if (nTokens == 0) {
            return;
        }
        if (nTokens == 1) {
            decode(out, x, st);
            return;
        }
        int inProjDim = config.inProjDim();
        int dInner = config.dInner();
        int nHeads = config.nHeads();
        // 1. in-projection [z | xBC | dt]
        weights.inProj().matmul(st.proj, x, nTokens, parallel);
        // 2. causal conv over xBC with the session's history, bias, silu (a batch's tokens across workers)
        int convDim = config.convDim();
        parallel.forRange(nTokens, (t0, t1) -> {
            conv.convolve(st.xbc, st.proj, dInner, inProjDim, t0, t1, st.conv);
            kernels.silu(st.xbc, t0 * convDim, (t1 - t0) * convDim);
        });
        conv.advance(st.proj, dInner, inProjDim, nTokens, st.conv);
        // 3. dt = softplus(dt_raw + dt_bias), dA = exp(dt * A) per token and head
        for (int t = 0; t < nTokens; t++) {
            dtAndDecay(st, t, 0, nHeads);
        }
        // 4. selective scan with D skip, heads across workers
        st.callTokens = nTokens;
        parallel.forRange(nHeads, st.scanTask);
        // 5. gate y * silu(z), grouped RMS norm (a batch's tokens across workers)
        parallel.forRange(nTokens, (t0, t1) -> gate(st, t0, t1));
        // 6. out-projection
        weights.outProj().matmul(out, st.y, nTokens, parallel);
    }

    /** Step 3 for token {@code t}, heads [h0, h1): dt = softplus(dt_raw + dt_bias), dA = exp(dt * A). */
    private void dtAndDecay(Mamba2State st, int t, int h0, int h1) {
        int nHeads = config.nHeads();
        int dtOff = t * config.inProjDim() + config.dInner() + config.convDim();
        for (int h = h0; h < h1; h++) {
            float dt = softplus(st.proj[dtOff + h] + weights.dtBias()[h]);
            st.dt[t * nHeads + h] = dt;
            st.decay[t * nHeads + h] = (float) Math.exp(dt * weights.a()[h]);
        }
    }

    /**
     * One token in one parallel pass ({@link Parallel#forSliceParts}, five parts per slice) instead of
     * three passes with the conv and the gate and norm between them on the calling thread. Slice q
     * owns heads {@code [nHeads q / T, nHeads (q + 1) / T)} of T threads and, in order: (0) its
     * slice of the in-projection's xBC and dt rows; (1) the z rows of its heads' channels; (2) the
     * conv and silu of its heads' x channels and of its share of the B and C channels, and its heads'
     * dt and decay, once every slice's xBC and dt rows are done; (3) the scan of its heads, once every
     * slice's conv is done, then the gate of its channels; (4) its slice of the out-projection's
     * rows, once the grouped norm has run over every slice's gated output (by the first thread to
     * need it). Each wait first runs the units nobody has started ({@link RunOnce}), so a thread
     * never waits for one that has not arrived; a thread done with its parts takes the other's last
     * ones. Every value is computed as in the three passes (the conv's channels and the gate's are
     * elementwise; the norm runs whole on one thread; each projection row by the same kernel), so the
     * token's output and state are the same floats.
     */
    private void decode(float[] out, float[] x, Mamba2State st) {
        st.decodeX = x;
        st.decodeOut = out;
        st.callTokens = 1;
        st.xbcRows.reset();
        st.zRows.reset();
        st.convs.reset();
        st.scans.reset();
        st.norm.reset();
        try {
            parallel.forSliceParts(DECODE_PARTS, st.decodeTask, null);
        } finally {
            st.decodeX = null;
            st.decodeOut = null;
        }
    }

    private static final int DECODE_PARTS = 5;

    /** Part {@code j} of slice {@code p} of {@link #decode}'s pass. */
    void decodePart(Mamba2State st, int p, int j) {
        switch (j) {
            case 0 -> st.xbcRows.run(p, st.xbcTask);
            case 1 -> st.zRows.run(p, st.zTask);
            case 2 -> st.convs.run(p, st.convTask);
            case 3 -> st.scans.run(p, st.scanGateTask);
            default -> {
                st.scans.awaitAll(st.scanGateTask);
                st.norm.awaitAll(st.normTask);
                int dim = config.dim();
                int threads = parallel.threads();
                int from = Parallel.sliceStart(dim, p, threads);
                int to = Parallel.sliceStart(dim, p + 1, threads);
                if (from < to) {
                    weights.outProj().dotRows(from, to - from, st.y, 0, st.decodeOut, from);
                }
            }
        }
    }

    /** First head of slice {@code q}. */
    private int headStart(int q) {
        int threads = parallel.threads();
        return q >= threads ? config.nHeads() : (int) ((long) config.nHeads() * q / threads);
    }

    /** Slice q's rows of the in-projection's xBC and dt outputs (row slices after the z rows). */
    void decodeXbcRows(Mamba2State st, int q) {
        int dInner = config.dInner();
        int rows = config.convDim() + config.nHeads();
        int threads = parallel.threads();
        int from = dInner + Parallel.sliceStart(rows, q, threads);
        int to = dInner + Parallel.sliceStart(rows, q + 1, threads);
        if (from < to) {
            weights.inProj().dotRows(from, to - from, st.decodeX, 0, st.proj, from);
        }
    }

    /** The in-projection's z rows of slice q's heads' channels. */
    void decodeZRows(Mamba2State st, int q) {
        int headDim = config.headDim();
        int from = headStart(q) * headDim;
        int to = headStart(q + 1) * headDim;
        if (from < to) {
            weights.inProj().dotRows(from, to - from, st.decodeX, 0, st.proj, from);
        }
    }

    /** Conv and silu of slice q's x channels and share of the B and C channels, its heads' dt and decay. */
    void decodeConv(Mamba2State st, int q) {
        st.xbcRows.awaitAll(st.xbcTask);
        int dInner = config.dInner();
        int headDim = config.headDim();
        int threads = parallel.threads();
        int h0 = headStart(q);
        int h1 = headStart(q + 1);
        convChannels(st, h0 * headDim, h1 * headDim);
        int bc = config.convDim() - dInner;
        convChannels(st, dInner + (int) ((long) bc * q / threads),
                dInner + (int) ((long) bc * (q + 1) / threads));
        dtAndDecay(st, 0, h0, h1);
    }

    private void convChannels(Mamba2State st, int c0, int c1) {
        if (c0 < c1) {
            conv.step(st.xbc, st.proj, config.dInner(), st.conv, c0, c1);
            kernels.silu(st.xbc, c0, c1 - c0);
        }
    }

    /** Scan of slice q's heads once every slice's conv is done, then the gate y * silu(z) of their channels. */
    void decodeScanGate(Mamba2State st, int q) {
        st.convs.awaitAll(st.convTask);
        int h0 = headStart(q);
        int h1 = headStart(q + 1);
        scanHeads(st, h0, h1);
        st.zRows.await(q, st.zTask);
        int headDim = config.headDim();
        int c0 = h0 * headDim;
        int n = (h1 - h0) * headDim;
        if (n > 0) {
            kernels.siluMul(st.proj, c0, st.y, c0, n);
            System.arraycopy(st.proj, c0, st.y, c0, n);
        }
    }

    /** The grouped RMS norm of the gated output, once every slice's scan and gate is done. */
    void decodeNorm(Mamba2State st) {
        if (normGroups != null) {
            int groupSize = config.dInner() / config.nGroups();
            for (int g = 0; g < normGroups.length; g++) {
                kernels.rmsnorm(st.y, g * groupSize, normGroups[g], config.normEps());
            }
        }
    }

    /** Step 5 for tokens [t0, t1): y * silu(z) into the z slots, then copied to y and normed per group. */
    private void gate(Mamba2State st, int t0, int t1) {
        int inProjDim = config.inProjDim();
        int dInner = config.dInner();
        int groupSize = dInner / config.nGroups();
        for (int t = t0; t < t1; t++) {
            kernels.siluMul(st.proj, t * inProjDim, st.y, t * dInner, dInner);
            System.arraycopy(st.proj, t * inProjDim, st.y, t * dInner, dInner);
            if (normGroups != null) {
                for (int g = 0; g < normGroups.length; g++) {
                    kernels.rmsnorm(st.y, t * dInner + g * groupSize, normGroups[g], config.normEps());
                }
            }
        }
    }

    /** Scans heads [hStart, hEnd) through every token of the current call. */
    void scanHeads(Mamba2State st, int hStart, int hEnd) {
        int nTokens = st.callTokens;
        int nHeads = config.nHeads();
        int headDim = config.headDim();
        int dState = config.dState();
        int convDim = config.convDim();
        int dInner = config.dInner();
        int bOff = dInner;
        int cOff = dInner + config.nGroups() * dState;
        for (int h = hStart; h < hEnd; h++) {
            int g = h / config.headsPerGroup();
            float dSkip = weights.d()[h];
            for (int t = 0; t < nTokens; t++) {
                float dt = st.dt[t * nHeads + h];
                float dA = st.decay[t * nHeads + h];
                int row = t * convDim;
                int bAt = row + bOff + g * dState;
                int cAt = row + cOff + g * dState;
                for (int p = 0; p < headDim; p++) {
                    int i = h * headDim + p;
                    int s = i * dState;
                    float xi = st.xbc[row + i];
                    // h = h * dA + B * (x * dt), then y = C · h + D x, in one pass over the state row
                    st.y[t * dInner + i] = kernels.decayAxpyDot(st.ssm, s, dA, xi * dt, st.xbc, bAt, st.xbc, cAt, dState)
                            + xi * dSkip;
                }
            }
        }
    }

    /** ggml's {@code ggml_compute_softplus_f32}: {@code x > 20 ? x : logf(1 + expf(x))}. */
    public static float softplus(float x) {
        return x > 20f ? x : (float) Math.log(1f + (float) Math.exp(x));
    }

    private Mamba2State stateOf(BlockState state) {
        if (!(state instanceof Mamba2State st) || st.owner != this) {
            throw new IllegalArgumentException("mamba2 (" + weights.inProj().name()
                    + "): state was not created by this layer's newState");
        }
        return st;
    }

    private void checkCall(float[] out, float[] x, int nTokens, Mamba2State st) {
        if (nTokens < 0 || nTokens > st.maxBatch) {
            throw new IllegalArgumentException("mamba2 (" + weights.inProj().name() + "): " + nTokens
                    + " tokens in one call, the session's batch limit is " + st.maxBatch);
        }
        long need = (long) nTokens * config.dim();
        if (x.length < need || out.length < need) {
            throw new IllegalArgumentException("mamba2 (" + weights.inProj().name() + "): " + nTokens
                    + " tokens of width " + config.dim() + " need " + need + " values, x has " + x.length
                    + " and out " + out.length);
        }
        if (out == x) {
            throw new IllegalArgumentException("mamba2: out and x must be different arrays");
        }
    }

    private static float[][] splitGroups(float[] w, int nGroups) {
        int size = w.length / nGroups;
        float[][] groups = new float[nGroups][];
        for (int g = 0; g < nGroups; g++) {
            groups[g] = Arrays.copyOfRange(w, g * size, (g + 1) * size);
        }
        return groups;
    }

    static void checkMatrix(Tensor t, long rows, long cols) {
        if (t.shape().rank() != 2 || t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': expected shape [" + rows + ", "
                    + cols + "], found " + t.shape());
        }
    }

    static void checkVector(float[] v, int n, String what, String layer) {
        if (v.length != n) {
            throw new IllegalArgumentException("mamba (" + layer + "): " + what + " has " + v.length
                    + " values, expected " + n);
        }
    }
}
