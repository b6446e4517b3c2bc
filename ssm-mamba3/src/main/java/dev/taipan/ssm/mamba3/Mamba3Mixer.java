package dev.taipan.ssm.mamba3;

import dev.taipan.tensor.Block;
import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;

/**
 * The Mamba-3 token mixer (Lahoti et al., "Mamba-3", arXiv 2603.15569), SISO and MIMO, following
 * state-spaces/mamba commit e9594ce1: {@code Mamba3.forward} / {@code Mamba3.step} in
 * mamba_ssm/modules/mamba3.py and the reference functions {@code mamba3_siso_step_ref},
 * {@code mamba3_siso_fwd_ref} (tests/ops/triton/test_mamba3_siso.py), {@code mamba3_MIMO_step_ref}
 * and {@code mamba3_MIMO_chunk_ref} (tests/ops/tilelang/test_mamba3_mimo.py).
 *
 * <h2>Glossary (paper symbol — code name — reference)</h2>
 * <table>
 * <caption>symbols</caption>
 * <tr><td>x_t ∈ R^{H×P}</td><td>{@code x} slice of in_proj</td><td>V in the reference functions</td></tr>
 * <tr><td>z_t</td><td>{@code z} slice, the gate</td><td>Z</td></tr>
 * <tr><td>B_t, C_t ∈ R^{R×G×N}</td><td>{@code B}, {@code C} slices, RMS-normed, plus per-head biases</td><td>K, Q (+ K_bias, Q_bias)</td></tr>
 * <tr><td>Δ_t = DT</td><td>{@code dt}: softplus(dd_dt + dt_bias)</td><td>DT</td></tr>
 * <tr><td>A_t</td><td>{@code -max(f(dd_A), aFloor)}, f = {@link Mamba3Config.AActivation}</td><td>_A in _preprocess</td></tr>
 * <tr><td>α_t = exp(Δ_t A_t)</td><td>{@code exp(adt)}</td><td>alpha = exp(ADT)</td></tr>
 * <tr><td>λ_t</td><td>{@code lambda}: sigmoid(trap)</td><td>trap</td></tr>
 * <tr><td>β_t = (1-λ_t) Δ_t α_t, γ_t = λ_t Δ_t</td><td>previous- and current-token weights</td><td>beta, gamma</td></tr>
 * <tr><td>θ_t</td><td>{@code angle}: θ_t = θ_{t-1} + π tanh(angles_t) Δ_t (mod 2π), per head</td><td>Angle_State</td></tr>
 * <tr><td>k_t = R(θ_t)(B_t + b_B), q_t = R(θ_t)(C_t + b_C)</td><td>{@code k}, {@code q}; R = {@link Rotation}</td><td>k_rot, q_rot</td></tr>
 * <tr><td>h_t ∈ R^{H×P×N}</td><td>{@code ssm}</td><td>SSM_State</td></tr>
 * <tr><td>D</td><td>{@code d} skip</td><td>D</td></tr>
 * <tr><td>R, mimo_x/z/o</td><td>{@code mimoRank}, {@code mimoX/Z/O}: per-rank scalings of x, z and the output</td><td>MIMO_V, MIMO_Z, MIMO_O</td></tr>
 * </table>
 *
 * <h2>Recurrence (exponential-trapezoidal), per head</h2>
 * <pre>
 * v_{t,r} = x_t ⊙ mimo_x[r]                          (SISO: v = x, R = 1)
 * h_t     = α_t h_{t-1} + β_t Σ_r v_{t-1,r} k_{t-1,r}ᵀ + γ_t Σ_r v_{t,r} k_{t,r}ᵀ
 * y_{t,r} = h_t q_{t,r} + D v_{t,r}
 * o_t     = Σ_r mimo_o[r] ⊙ norm(y_{t,r}) ⊙ silu(z_t ⊙ mimo_z[r])   (norm: identity or per-head RMSNorm)
 * out     = out_proj o_t
 * </pre>
 * A single token goes through {@link #forward} as that recurrence ({@code step}); a batch goes
 * through the chunked form of {@code mamba3_siso_fwd_ref} / {@code mamba3_MIMO_chunk_ref}: within a
 * chunk the outputs are a causal, decay-weighted sum over the chunk's tokens plus the decayed
 * state from before the chunk, and the state is advanced once per chunk. Both give the same
 * results; the per-session {@link Mamba3State} holds only θ, h, k_{t-1} and x_{t-1}.
 *
 * <p>Differences from the reference: all arithmetic is float32 (state in float32 as in the
 * kernels; k and x states also float32 rather than the model dtype); the diagonal of the chunked
 * form uses γ_t directly instead of subtracting the shifted term afterwards (the same sum).
 * Heads run in parallel ({@link Parallel}); the state dimension goes through {@link Kernels}
 * (dot, axpy, scale).
 */
public final class Mamba3Mixer implements Block {
    private static final double TWO_PI = 2 * Math.PI;

    private final Mamba3Config config;
    private final Mamba3Weights weights;
    private final Kernels kernels;
    private final Parallel parallel;
    private final Rotation rotation;
    // offsets inside one row of in_proj output
    private final int offX;
    private final int offB;
    private final int offC;
    private final int offDt;
    private final int offA;
    private final int offTrap;
    private final int offAngle;

    public Mamba3Mixer(Mamba3Config config, Mamba3Weights weights, Kernels kernels, Parallel parallel) {
        weights.check(config);
        this.config = config;
        this.weights = weights;
        this.kernels = kernels;
        this.parallel = parallel;
        this.rotation = config.rotation();
        int dInner = config.dInner();
        offX = dInner;
        offB = 2 * dInner;
        offC = offB + config.bcSize();
        offDt = offC + config.bcSize();
        offA = offDt + config.nHeads();
        offTrap = offA + config.nHeads();
        offAngle = offTrap + config.nHeads();
    }

    public Mamba3Config config() {
        return config;
    }

    public Mamba3Weights weights() {
        return weights;
    }

    @Override
    public Mamba3State newState(SessionLimits limits) {
        Mamba3State st = new Mamba3State(config, limits);
        st.owner = this;
        st.scan = (h0, h1) -> {
            for (int h = h0; h < h1; h++) {
                scanHead(st, h, st.batch);
            }
        };
        return st;
    }

    @Override
    public void forward(float[] out, float[] x, int nTokens, BlockState state) {
        if (!(state instanceof Mamba3State st) || st.owner != this) {
            throw new IllegalArgumentException("mamba3: state was not created by this mixer");
        }
        int maxBatch = st.dt.length / config.nHeads();
        if (nTokens < 1 || nTokens > maxBatch) {
            throw new IllegalArgumentException("mamba3: batch of " + nTokens + " tokens outside [1, " + maxBatch + "]");
        }
        // 1. in_proj: [z, x, B, C, dd_dt, dd_A, trap, angles] per token
        if (nTokens == 1) {
            weights.inProj().matvec(st.proj, x, parallel);
        } else {
            weights.inProj().matmul(st.proj, x, nTokens, parallel);
        }
        // 2. DT, A·DT, λ, angle rates, RMS norms of B and C
        for (int t = 0; t < nTokens; t++) {
            prepare(st, t);
        }
        // 3. scan and gate, heads in parallel
        st.batch = nTokens;
        parallel.forRange(config.nHeads(), st.scan);
        // 4. out_proj
        if (nTokens == 1) {
            weights.outProj().matvec(out, st.gated, parallel);
        } else {
            weights.outProj().matmul(out, st.gated, nTokens, parallel);
        }
    }

    private void prepare(Mamba3State st, int t) {
        int base = t * config.dInProj();
        int nh = config.nHeads();
        float[] p = st.proj;
        for (int h = 0; h < nh; h++) {
            double dt = Mamba3Config.softplus(p[base + offDt + h] + weights.dtBias()[h]);
            double a = -Math.max(config.aActivation().apply(p[base + offA + h]), config.aFloor());
            st.dt[t * nh + h] = (float) dt;
            st.adt[t * nh + h] = (float) (a * dt);
            st.lambda[t * nh + h] = (float) (1 / (1 + Math.exp(-p[base + offTrap + h])));
        }
        for (int i = 0; i < config.nAngles(); i++) {
            p[base + offAngle + i] = (float) (Math.tanh(p[base + offAngle + i]) * Math.PI);
        }
        int blocks = config.mimoRank() * config.nGroups();
        for (int b = 0; b < blocks; b++) {
            kernels.rmsnorm(p, base + offB + b * config.dState(), weights.bNorm(), config.eps());
            kernels.rmsnorm(p, base + offC + b * config.dState(), weights.cNorm(), config.eps());
        }
    }

    private void scanHead(Mamba3State st, int h, int nTokens) {
        Mamba3State.HeadScratch s = st.heads[h];
        if (nTokens == 1) {
            step(st, s, h);
            gate(st, s, h, 0, 0);
            return;
        }
        for (int t0 = 0; t0 < nTokens; t0 += st.chunk) {
            int len = Math.min(st.chunk, nTokens - t0);
            chunk(st, s, h, t0, len);
            for (int j = 0; j < len; j++) {
                gate(st, s, h, j, t0 + j);
            }
        }
    }

    /** Advances head h's angle by token t and fills q, k, v of scratch slot {@code slot}. */
    private void load(Mamba3State st, Mamba3State.HeadScratch s, int h, int t, int slot) {
        int nAngles = config.nAngles();
        int n = config.dState();
        int pDim = config.headDim();
        int r = config.mimoRank();
        int base = t * config.dInProj();
        float dt = st.dt[t * config.nHeads() + h];
        // θ_t = (θ_{t-1} + π tanh(angle) Δ_t) mod 2π
        for (int i = 0; i < nAngles; i++) {
            double a = st.angle[h * nAngles + i] + (double) st.proj[base + offAngle + i] * dt;
            a -= TWO_PI * Math.floor(a / TWO_PI);
            float af = (float) a;
            st.angle[h * nAngles + i] = af;
            s.cos[i] = (float) Math.cos(af);
            s.sin[i] = (float) Math.sin(af);
        }
        // k = R(θ)(B + b_B), q = R(θ)(C + b_C), group h / (H / G)
        int g = h / config.headsPerGroup();
        for (int rank = 0; rank < r; rank++) {
            int src = (rank * config.nGroups() + g) * n;
            int bias = (h * r + rank) * n;
            int dst = (slot * r + rank) * n;
            System.arraycopy(st.proj, base + offB + src, s.k, dst, n);
            kernels.add(s.k, dst, weights.bBias(), bias, n);
            rotation.apply(s.k, dst, n, s.cos, s.sin);
            System.arraycopy(st.proj, base + offC + src, s.q, dst, n);
            kernels.add(s.q, dst, weights.cBias(), bias, n);
            rotation.apply(s.q, dst, n, s.cos, s.sin);
        }
        projectX(st.proj, base + offX + h * pDim, s.v, slot * r * pDim, h);
    }

    // v_r = x ⊙ mimo_x[h, r] (SISO: v = x)
    private void projectX(float[] src, int srcOff, float[] dst, int dstOff, int h) {
        int pDim = config.headDim();
        int r = config.mimoRank();
        for (int rank = 0; rank < r; rank++) {
            System.arraycopy(src, srcOff, dst, dstOff + rank * pDim, pDim);
            if (weights.mimoX() != null) {
                kernels.mul(dst, dstOff + rank * pDim, weights.mimoX(), (h * r + rank) * pDim, pDim);
            }
        }
    }

    /** One token of head h: the recurrence of mamba3_siso_step_ref / mamba3_MIMO_step_ref. */
    private void step(Mamba3State st, Mamba3State.HeadScratch s, int h) {
        load(st, s, h, 0, 0);
        int n = config.dState();
        int pDim = config.headDim();
        int r = config.mimoRank();
        double dt = st.dt[h];
        double alpha = Math.exp(st.adt[h]);
        double lambda = st.lambda[h];
        float beta = (float) ((1 - lambda) * dt * alpha);
        float gamma = (float) (lambda * dt);
        projectX(st.xPrev, h * pDim, s.vPrev, 0, h);
        int hOff = h * pDim * n;
        int kPrevOff = h * r * n;
        // per row p of h (kept in L1 while it is updated and read):
        // h_t = α h_{t-1} + β Σ_r v_{t-1,r} k_{t-1,r}ᵀ + γ Σ_r v_{t,r} k_{t,r}ᵀ, then y_r = h_t q_r + D v_r
        float d = weights.d()[h];
        for (int p = 0; p < pDim; p++) {
            int row = hOff + p * n;
            kernels.scale(st.ssm, row, n, (float) alpha);
            for (int rank = 0; rank < r; rank++) {
                kernels.axpy(st.ssm, row, beta * s.vPrev[rank * pDim + p], st.kPrev, kPrevOff + rank * n, n);
                kernels.axpy(st.ssm, row, gamma * s.v[rank * pDim + p], s.k, rank * n, n);
            }
            for (int rank = 0; rank < r; rank++) {
                s.y[rank * pDim + p] = kernels.dot(st.ssm, row, s.q, rank * n, n) + d * s.v[rank * pDim + p];
            }
        }
        System.arraycopy(s.k, 0, st.kPrev, kPrevOff, r * n);
        System.arraycopy(st.proj, offX + h * pDim, st.xPrev, h * pDim, pDim);
    }

    /**
     * Tokens {@code [t0, t0 + len)} of head h in chunked form (mamba3_siso_fwd_ref with initial
     * states): with cs_j = Σ_{i≤j} A_i Δ_i inside the chunk and
     * {@code w_s = γ_s + Δ_{s+1}(1-λ_{s+1})} (the next token's previous-token weight, 0 for the
     * chunk's last token, whose term reaches the next chunk through k_state and x_state):
     * <pre>
     * acc = h_{t0-1} + Δ_0 (1-λ_0) Σ_r v_{prev,r} k_{prev,r}ᵀ
     * y_j = e^{cs_j} acc q_j + Σ_{s&lt;j} e^{cs_j - cs_s} w_s (q_j·k_s) v_s + γ_j (q_j·k_j) v_j + D v_j
     * h   = e^{cs_last} acc + Σ_s e^{cs_last - cs_s} w_s v_s k_sᵀ
     * </pre>
     */
    private void chunk(Mamba3State st, Mamba3State.HeadScratch s, int h, int t0, int len) {
        int n = config.dState();
        int pDim = config.headDim();
        int r = config.mimoRank();
        int nh = config.nHeads();
        int hOff = h * pDim * n;
        int kPrevOff = h * r * n;
        for (int j = 0; j < len; j++) {
            load(st, s, h, t0 + j, j);
        }
        // decay prefix sums and the DT weights of each token's own k v term
        double cs = 0;
        for (int j = 0; j < len; j++) {
            int t = t0 + j;
            cs += st.adt[t * nh + h];
            s.cs[j] = (float) cs;
            double w = (double) st.lambda[t * nh + h] * st.dt[t * nh + h];
            if (j + 1 < len) {
                w += (double) st.dt[(t + 1) * nh + h] * (1 - st.lambda[(t + 1) * nh + h]);
            }
            s.weight[j] = (float) w;
        }
        // intra-chunk: D v_j + decayed, DT-weighted (q_j · k_s) v_s for s ≤ j
        float d = weights.d()[h];
        for (int j = 0; j < len; j++) {
            float gammaJ = st.lambda[(t0 + j) * nh + h] * st.dt[(t0 + j) * nh + h];
            for (int out = 0; out < r; out++) {
                int qOff = (j * r + out) * n;
                int yOff = (j * r + out) * pDim;
                System.arraycopy(s.v, yOff, s.y, yOff, pDim);
                kernels.scale(s.y, yOff, pDim, d);
                for (int src = 0; src <= j; src++) {
                    float w = (float) Math.exp((double) s.cs[j] - s.cs[src]) * (src < j ? s.weight[src] : gammaJ);
                    for (int in = 0; in < r; in++) {
                        float c = w * kernels.dot(s.q, qOff, s.k, (src * r + in) * n, n);
                        kernels.axpy(s.y, yOff, c, s.v, (src * r + in) * pDim, pDim);
                    }
                }
            }
        }
        int last = len - 1;
        for (int j = 0; j < len; j++) {
            s.decay[j] = (float) Math.exp(s.cs[j]);
            s.weight[j] = (float) Math.exp((double) s.cs[last] - s.cs[j]) * s.weight[j];
        }
        // the state, one row p at a time (kept in L1):
        // acc = h_{t0-1} + Δ_0 (1-λ_0) Σ_r v_prev k_prevᵀ; y_j += e^{cs_j} acc q_j;
        // h = e^{cs_last} acc + Σ_s e^{cs_last - cs_s} w_s v_s k_sᵀ
        float first = (float) ((double) st.dt[t0 * nh + h] * (1 - st.lambda[t0 * nh + h]));
        projectX(st.xPrev, h * pDim, s.vPrev, 0, h);
        for (int p = 0; p < pDim; p++) {
            int row = hOff + p * n;
            for (int rank = 0; rank < r; rank++) {
                kernels.axpy(st.ssm, row, first * s.vPrev[rank * pDim + p], st.kPrev, kPrevOff + rank * n, n);
            }
            for (int j = 0; j < len; j++) {
                for (int out = 0; out < r; out++) {
                    s.y[(j * r + out) * pDim + p] += s.decay[j] * kernels.dot(st.ssm, row, s.q, (j * r + out) * n, n);
                }
            }
            kernels.scale(st.ssm, row, n, s.decay[last]);
            for (int src = 0; src < len; src++) {
                for (int in = 0; in < r; in++) {
                    int idx = src * r + in;
                    kernels.axpy(st.ssm, row, s.weight[src] * s.v[idx * pDim + p], s.k, idx * n, n);
                }
            }
        }
        System.arraycopy(s.k, last * r * n, st.kPrev, kPrevOff, r * n);
        System.arraycopy(st.proj, (t0 + last) * config.dInProj() + offX + h * pDim, st.xPrev, h * pDim, pDim);
    }

    /**
     * Writes head h's gated output of token t (scratch slot {@code slot}) into the out_proj input:
     * {@code Σ_r mimo_o[r] ⊙ norm(y_r) ⊙ silu(z ⊙ mimo_z[r])}.
     */
    private void gate(Mamba3State st, Mamba3State.HeadScratch s, int h, int slot, int t) {
        int pDim = config.headDim();
        int r = config.mimoRank();
        int zOff = t * config.dInProj() + h * pDim;
        int outOff = t * config.dInner() + h * pDim;
        boolean mimo = weights.mimoO() != null;
        for (int rank = 0; rank < r; rank++) {
            int mimoOff = (h * r + rank) * pDim;
            System.arraycopy(s.y, (slot * r + rank) * pDim, s.tmp, 0, pDim);
            if (weights.outNorm() != null) {
                kernels.rmsnormPlain(s.tmp, 0, pDim, config.eps());
                kernels.mul(s.tmp, 0, weights.outNorm(), h * pDim, pDim);
            }
            System.arraycopy(st.proj, zOff, s.gate, 0, pDim);
            if (mimo) {
                kernels.mul(s.gate, 0, weights.mimoZ(), mimoOff, pDim);
            }
            kernels.silu(s.gate, 0, pDim);
            kernels.mul(s.tmp, 0, s.gate, 0, pDim);
            if (!mimo) {
                System.arraycopy(s.tmp, 0, st.gated, outOff, pDim);
            } else if (rank == 0) {
                System.arraycopy(s.tmp, 0, st.gated, outOff, pDim);
                kernels.mul(st.gated, outOff, weights.mimoO(), mimoOff, pDim);
            } else {
                kernels.mul(s.tmp, 0, weights.mimoO(), mimoOff, pDim);
                kernels.add(st.gated, outOff, s.tmp, 0, pDim);
            }
        }
    }
}
