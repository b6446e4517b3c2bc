package dev.taipan.ssm.mamba1;

import dev.taipan.ssm.mamba2.CausalConv1d;
import dev.taipan.ssm.mamba2.Mamba2Mixer;
import dev.taipan.tensor.Block;
import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Tensor;

/**
 * The Mamba-1 mixer as llama.cpp lays it out for plain {@code mamba} files and Jamba:
 * {@code build_mamba_layer} (src/models/graph-context-mamba.cpp) with ggml's CPU
 * {@code ggml_ssm_conv} and {@code ggml_ssm_scan} (ggml-cpu/ops.cpp), llama.cpp 34af94cd.
 * Paper: Gu and Dao, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces" (2023).
 *
 * <p>Glossary (paper symbol, code name, llama.cpp name):
 * <ul>
 * <li>x: {@code xc}, dInner channels after the conv; z: gate, rows dInner.. of the in-projection</li>
 * <li>Δ (dt): low rank {@code dtLow} (dtRank values), then {@code dt = softplus(W_dt dtLow + b)}
 *     per channel [ssm_dt.weight, ssm_dt.bias]</li>
 * <li>B, C: {@code dState} values per token shared by all channels [rows of ssm_x]</li>
 * <li>A: {@code a}, (dInner, dState), stored as -exp(A_log) [ssm_a]; D: {@code d} [ssm_d]</li>
 * <li>h: {@code ssm}, (dInner, dState) state</li>
 * </ul>
 * For each token: {@code [x | z] = W_in u}; {@code x = silu(conv1d(x) + bias)};
 * {@code [dt | B | C] = W_x x}, each optionally RMS-normed (Jamba, FalconMamba);
 * per channel c: {@code h[c] = h[c] * exp(dt[c] A[c]) + B (x[c] dt[c])},
 * {@code y[c] = C · h[c] + D[c] x[c]}; {@code out = W_out (y * silu(z))}.
 *
 * <p>Projections run as batched matmuls in prefill; the scan is sequential over tokens, parallel
 * over channels and vectorised over the state through {@link Kernels}.
 */
public final class Mamba1Mixer implements Block {
    private final Mamba1Config config;
    private final Mamba1Weights weights;
    private final Kernels kernels;
    private final Parallel parallel;
    private final CausalConv1d conv;

    public Mamba1Mixer(Mamba1Config config, Mamba1Weights weights, Kernels kernels, Parallel parallel) {
        this.config = config;
        this.weights = weights;
        this.kernels = kernels;
        this.parallel = parallel;
        int dInner = config.dInner();
        checkMatrix(weights.inProj(), 2L * dInner, config.dim());
        checkMatrix(weights.xProj(), config.xProjDim(), dInner);
        checkMatrix(weights.dtProj(), dInner, config.dtRank());
        checkMatrix(weights.outProj(), config.dim(), dInner);
        String name = weights.inProj().name();
        checkVector(weights.dtBias(), dInner, "dt bias", name);
        checkVector(weights.a(), dInner * config.dState(), "A", name);
        checkVector(weights.d(), dInner, "D", name);
        Mamba1Weights.Norms norms = weights.norms();
        if (norms != null && norms.dt() != null) {
            checkVector(norms.dt(), config.dtRank(), "dt norm", name);
            checkVector(norms.b(), config.dState(), "B norm", name);
            checkVector(norms.c(), config.dState(), "C norm", name);
        }
        this.conv = new CausalConv1d(dInner, config.dConv(), weights.conv(), weights.convBias());
    }

    public Mamba1Config config() {
        return config;
    }

    public Mamba1Weights weights() {
        return weights;
    }

    @Override
    public Mamba1State newState(SessionLimits limits) {
        return new Mamba1State(this, config, limits.maxBatch());
    }

    @Override
    public void forward(float[] out, float[] x, int nTokens, BlockState state) {
        Mamba1State st = stateOf(state);
        checkCall(out, x, nTokens, st);
        if (nTokens == 0) {
            return;
        }
        int dInner = config.dInner();
        int dState = config.dState();
        int dtRank = config.dtRank();
        int xProjDim = config.xProjDim();
        // 1. in-projection [x | z]
        project(weights.inProj(), st.proj, x, nTokens);
        // 2. causal conv over x with the session's history, bias, silu
        conv.apply(st.xc, st.proj, 0, 2 * dInner, nTokens, st.conv);
        kernels.silu(st.xc, 0, nTokens * dInner);
        // 3. [dt | B | C] = W_x x, optional RMS norms of each part
        project(weights.xProj(), st.xdb, st.xc, nTokens);
        Mamba1Weights.Norms norms = weights.norms();
        for (int t = 0; t < nTokens; t++) {
            int row = t * xProjDim;
            if (norms != null) {
                norm(st.xdb, row, dtRank, norms.dt());
                norm(st.xdb, row + dtRank, dState, norms.b());
                norm(st.xdb, row + dtRank + dState, dState, norms.c());
            }
            System.arraycopy(st.xdb, row, st.dtLow, t * dtRank, dtRank);
        }
        // 4. dt = softplus(W_dt dtLow + dt_bias)
        project(weights.dtProj(), st.dt, st.dtLow, nTokens);
        for (int t = 0; t < nTokens; t++) {
            kernels.add(st.dt, t * dInner, weights.dtBias(), 0, dInner);
            for (int c = 0; c < dInner; c++) {
                st.dt[t * dInner + c] = Mamba2Mixer.softplus(st.dt[t * dInner + c]);
            }
        }
        // 5. selective scan with D skip, channels across workers
        st.callTokens = nTokens;
        parallel.forRange(dInner, st.scanTask);
        // 6. gate y * silu(z)
        for (int t = 0; t < nTokens; t++) {
            kernels.siluMul(st.proj, t * 2 * dInner + dInner, st.y, t * dInner, dInner);
            System.arraycopy(st.proj, t * 2 * dInner + dInner, st.y, t * dInner, dInner);
        }
        // 7. out-projection
        project(weights.outProj(), out, st.y, nTokens);
    }

    /** Scans channels [cStart, cEnd) through every token of the current call. */
    void scanChannels(Mamba1State st, int cStart, int cEnd) {
        int nTokens = st.callTokens;
        int dInner = config.dInner();
        int dState = config.dState();
        int xProjDim = config.xProjDim();
        int bOff = config.dtRank();
        int cOff = bOff + dState;
        float[] a = weights.a();
        for (int c = cStart; c < cEnd; c++) {
            int s = c * dState;
            float dSkip = weights.d()[c];
            for (int t = 0; t < nTokens; t++) {
                float dt = st.dt[t * dInner + c];
                float xv = st.xc[t * dInner + c];
                int row = t * xProjDim;
                // h = h * exp(dt A) + B (x dt)
                for (int n = 0; n < dState; n++) {
                    st.decay[s + n] = (float) Math.exp(dt * a[s + n]);
                }
                kernels.mul(st.ssm, s, st.decay, s, dState);
                kernels.axpy(st.ssm, s, xv * dt, st.xdb, row + bOff, dState);
                // y = C · h + D x
                st.y[t * dInner + c] = kernels.dot(st.ssm, s, st.xdb, row + cOff, dState) + xv * dSkip;
            }
        }
    }

    private void norm(float[] v, int off, int n, float[] weight) {
        if (weight == null) {
            kernels.rmsnormPlain(v, off, n, config.normEps());
        } else {
            kernels.rmsnorm(v, off, weight, config.normEps());
        }
    }

    private void project(Tensor w, float[] dst, float[] src, int nTokens) {
        if (nTokens == 1) {
            w.matvec(dst, src, parallel);
        } else {
            w.matmul(dst, src, nTokens, parallel);
        }
    }

    private Mamba1State stateOf(BlockState state) {
        if (!(state instanceof Mamba1State st) || st.owner != this) {
            throw new IllegalArgumentException("mamba (" + weights.inProj().name()
                    + "): state was not created by this layer's newState");
        }
        return st;
    }

    private void checkCall(float[] out, float[] x, int nTokens, Mamba1State st) {
        if (nTokens < 0 || nTokens > st.maxBatch) {
            throw new IllegalArgumentException("mamba (" + weights.inProj().name() + "): " + nTokens
                    + " tokens in one call, the session's batch limit is " + st.maxBatch);
        }
        long need = (long) nTokens * config.dim();
        if (x.length < need || out.length < need) {
            throw new IllegalArgumentException("mamba (" + weights.inProj().name() + "): " + nTokens
                    + " tokens of width " + config.dim() + " need " + need + " values, x has " + x.length
                    + " and out " + out.length);
        }
        if (out == x) {
            throw new IllegalArgumentException("mamba: out and x must be different arrays");
        }
    }

    private static void checkMatrix(Tensor t, long rows, long cols) {
        if (t.shape().rank() != 2 || t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': expected shape [" + rows + ", "
                    + cols + "], found " + t.shape());
        }
    }

    private static void checkVector(float[] v, int n, String what, String layer) {
        if (v.length != n) {
            throw new IllegalArgumentException("mamba (" + layer + "): " + what + " has " + v.length
                    + " values, expected " + n);
        }
    }
}
