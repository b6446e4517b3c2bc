package dev.taipan.ssm.mamba3;

/**
 * Hyper-parameters of one Mamba-3 mixer, as {@code Mamba3.__init__} in state-spaces/mamba
 * mamba_ssm/modules/mamba3.py (commit e9594ce1) derives them. Build with {@link #builder}.
 *
 * @param dModel       model dimension (d_model)
 * @param dState       state size N per head (d_state)
 * @param headDim      P, values per head (headdim)
 * @param nHeads       H; {@code dInner = nHeads * headDim}
 * @param nGroups      G, B/C groups (ngroups / num_bc_heads); head h uses group {@code h / (H / G)}
 * @param variant      SISO or MIMO (is_mimo); decides the rotation layout and the MIMO projections
 * @param mimoRank     R (mimo_rank); 1 for SISO
 * @param ropeFraction share of the state that is rotated (0.5 or 1.0)
 * @param aActivation  f in {@code A = -max(f(dd_A), aFloor)}
 * @param aFloor       A_floor
 * @param outputNorm   whether y is RMS-normalised per head before the gate (is_outproj_norm)
 * @param eps          epsilon of the B, C and output RMS norms
 * @param chunkSize    tokens per chunk of the chunked prefill
 */
public record Mamba3Config(int dModel, int dState, int headDim, int nHeads, int nGroups, Variant variant,
                           int mimoRank, float ropeFraction, AActivation aActivation, float aFloor,
                           OutputNorm outputNorm, float eps, int chunkSize) {

    /** Single-input single-output (pairwise rotation) or multi-input multi-output (half-split rotation). */
    public enum Variant { SISO, MIMO }

    /** The positive function f whose negation, floored, is A (mamba3.py _preprocess / FLA _compute_a). */
    public enum AActivation {
        /** {@code log(1 + e^x)}: FLA and mamba_ssm before commit c69aaab. */
        SOFTPLUS,
        /** {@code 1 + x} for x ≥ 0, {@code 1 / (1 - x)} for x < 0: mamba_ssm heavy_tail_activation. */
        HEAVY_TAIL;

        /** f(x). */
        public double apply(double x) {
            return switch (this) {
                case SOFTPLUS -> Mamba3Config.softplus(x);
                case HEAVY_TAIL -> x >= 0 ? 1 + x : 1 / (1 - x);
            };
        }
    }

    /** Output normalisation before the silu(z) gate. */
    public enum OutputNorm {
        NONE,
        /** RMSNormGated(d_inner, group_size = headdim, norm_before_gate = True): per head. */
        GROUPED_RMS
    }

    public Mamba3Config {
        if (dModel < 1 || dState < 2 || headDim < 1 || nHeads < 1 || nGroups < 1 || mimoRank < 1 || chunkSize < 1) {
            throw new IllegalArgumentException("mamba3: sizes must be positive: " + describe(dModel, dState, headDim, nHeads)
                    + " nGroups=" + nGroups + " mimoRank=" + mimoRank + " chunkSize=" + chunkSize);
        }
        if (nHeads % nGroups != 0) {
            throw new IllegalArgumentException("mamba3: nHeads " + nHeads + " is not a multiple of nGroups " + nGroups);
        }
        if (variant == Variant.SISO && mimoRank != 1) {
            throw new IllegalArgumentException("mamba3: a SISO mixer has rank 1, got mimoRank " + mimoRank);
        }
        if (ropeFraction != 0.5f && ropeFraction != 1.0f) {
            throw new IllegalArgumentException("mamba3: rope fraction must be 0.5 or 1.0, got " + ropeFraction);
        }
        if (variant == Variant.MIMO && dState % 2 != 0) {
            throw new IllegalArgumentException("mamba3: MIMO rotation needs an even state size, got " + dState);
        }
        if (!(aFloor >= 0) || !(eps > 0)) {
            throw new IllegalArgumentException("mamba3: aFloor must be >= 0 and eps > 0, got " + aFloor + ", " + eps);
        }
    }

    private static String describe(int dModel, int dState, int headDim, int nHeads) {
        return "dModel=" + dModel + " dState=" + dState + " headDim=" + headDim + " nHeads=" + nHeads;
    }

    static double softplus(double x) {
        return x > 20 ? x : Math.log1p(Math.exp(x));
    }

    /** d_inner = H * P. */
    public int dInner() {
        return nHeads * headDim;
    }

    /** S, rotation angles per head: {@code floor(N * ropeFraction)} rounded down to even, halved. */
    public int nAngles() {
        int split = (int) (dState * ropeFraction);
        if (split % 2 != 0) {
            split--;
        }
        return split / 2;
    }

    /** Rows of in_proj: {@code 2 d_inner + 2 N G R + 3 H + S}. */
    public int dInProj() {
        return 2 * dInner() + 2 * bcSize() + 3 * nHeads + nAngles();
    }

    /** Values of B (or C) per token: {@code R * G * N}. */
    public int bcSize() {
        return mimoRank * nGroups * dState;
    }

    /** Heads sharing one B/C group. */
    public int headsPerGroup() {
        return nHeads / nGroups;
    }

    /** Which pairs of state dimensions the cumulative angles rotate. */
    public Rotation rotation() {
        return variant == Variant.SISO ? Rotation.PAIRWISE : Rotation.HALVES;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Fluent construction with the defaults of mamba3.py (SISO, rope 0.5, heavy tail, floor 1e-4, eps 1e-5, chunk 64). */
    public static final class Builder {
        private int dModel;
        private int dState = 128;
        private int headDim = 64;
        private int nHeads;
        private int nGroups = 1;
        private Variant variant = Variant.SISO;
        private int mimoRank = 1;
        private float ropeFraction = 0.5f;
        private AActivation aActivation = AActivation.HEAVY_TAIL;
        private float aFloor = 1e-4f;
        private OutputNorm outputNorm = OutputNorm.NONE;
        private float eps = 1e-5f;
        private int chunkSize = 64;

        private Builder() {
        }

        public Builder dModel(int v) {
            dModel = v;
            return this;
        }

        public Builder dState(int v) {
            dState = v;
            return this;
        }

        public Builder headDim(int v) {
            headDim = v;
            return this;
        }

        public Builder nHeads(int v) {
            nHeads = v;
            return this;
        }

        public Builder nGroups(int v) {
            nGroups = v;
            return this;
        }

        /** SISO (rank 1). */
        public Builder siso() {
            variant = Variant.SISO;
            mimoRank = 1;
            return this;
        }

        /** MIMO of rank {@code rank}. */
        public Builder mimo(int rank) {
            variant = Variant.MIMO;
            mimoRank = rank;
            return this;
        }

        public Builder ropeFraction(float v) {
            ropeFraction = v;
            return this;
        }

        public Builder aActivation(AActivation v) {
            aActivation = v;
            return this;
        }

        public Builder aFloor(float v) {
            aFloor = v;
            return this;
        }

        public Builder outputNorm(OutputNorm v) {
            outputNorm = v;
            return this;
        }

        public Builder eps(float v) {
            eps = v;
            return this;
        }

        public Builder chunkSize(int v) {
            chunkSize = v;
            return this;
        }

        public Mamba3Config build() {
            return new Mamba3Config(dModel, dState, headDim, nHeads, nGroups, variant, mimoRank, ropeFraction,
                    aActivation, aFloor, outputNorm, eps, chunkSize);
        }
    }
}
