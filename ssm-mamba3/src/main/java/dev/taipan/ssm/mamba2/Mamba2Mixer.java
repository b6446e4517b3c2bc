package dev.taipan.ssm.mamba2;

import dev.taipan.tensor.Block;
import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
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
        return new Mamba2State(this, config, limits.maxBatch());
    }

    @Override
    public void forward(float[] out, float[] x, int nTokens, BlockState state) {
        Mamba2State st = stateOf(state);
        checkCall(out, x, nTokens, st);
        if (nTokens == 0) {
            return;
        }
        int inProjDim = config.inProjDim();
        int dInner = config.dInner();
        int nHeads = config.nHeads();
        int dtOff = dInner + config.convDim();
        // 1. in-projection [z | xBC | dt]
        project(weights.inProj(), st.proj, x, nTokens);
        // 2. causal conv over xBC with the session's history, bias, silu (a batch's tokens across workers)
        int convDim = config.convDim();
        // one token (decode): no task object per call, as the scan's preallocated task avoids one
        if (nTokens == 1) {
            conv.apply(st.xbc, st.proj, dInner, inProjDim, 1, st.conv);
            kernels.silu(st.xbc, 0, convDim);
        } else {
            parallel.forRange(nTokens, (t0, t1) -> {
                conv.convolve(st.xbc, st.proj, dInner, inProjDim, t0, t1, st.conv);
                kernels.silu(st.xbc, t0 * convDim, (t1 - t0) * convDim);
            });
            conv.advance(st.proj, dInner, inProjDim, nTokens, st.conv);
        }
        // 3. dt = softplus(dt_raw + dt_bias), dA = exp(dt * A) per token and head
        for (int t = 0; t < nTokens; t++) {
            for (int h = 0; h < nHeads; h++) {
                float dt = softplus(st.proj[t * inProjDim + dtOff + h] + weights.dtBias()[h]);
                st.dt[t * nHeads + h] = dt;
                st.decay[t * nHeads + h] = (float) Math.exp(dt * weights.a()[h]);
            }
        }
        // 4. selective scan with D skip, heads across workers
        st.callTokens = nTokens;
        parallel.forRange(nHeads, st.scanTask);
        // 5. gate y * silu(z), grouped RMS norm (a batch's tokens across workers)
        if (nTokens == 1) {
            gate(st, 0, 1);
        } else {
            parallel.forRange(nTokens, (t0, t1) -> gate(st, t0, t1));
        }
        // 6. out-projection
        project(weights.outProj(), out, st.y, nTokens);
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

    private void project(Tensor w, float[] dst, float[] src, int nTokens) {
        if (nTokens == 1) {
            w.matvec(dst, src, parallel);
        } else {
            w.matmul(dst, src, nTokens, parallel);
        }
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
