package dev.taipan.ssm.mamba2;

/**
 * Hyper-parameters of one Mamba-2 mixer (llama.cpp {@code llama_hparams} fields in brackets).
 *
 * @param dim     model width [n_embd]
 * @param dInner  inner width, {@code nHeads * headDim} [ssm_d_inner]
 * @param dState  state size N per head [ssm_d_state]
 * @param nHeads  SSM heads [ssm_dt_rank]
 * @param nGroups groups sharing B and C; divides nHeads [ssm_n_group]
 * @param dConv   convolution kernel [ssm_d_conv]
 * @param normEps epsilon of the grouped RMS norm [f_norm_rms_eps]
 */
public record Mamba2Config(int dim, int dInner, int dState, int nHeads, int nGroups, int dConv, float normEps) {

    public Mamba2Config {
        if (dim < 1 || dInner < 1 || dState < 1 || nHeads < 1 || nGroups < 1 || dConv < 2) {
            throw new IllegalArgumentException("mamba2: sizes must be positive (dConv >= 2): dim=" + dim
                    + " dInner=" + dInner + " dState=" + dState + " nHeads=" + nHeads + " nGroups=" + nGroups
                    + " dConv=" + dConv);
        }
        if (dInner % nHeads != 0) {
            throw new IllegalArgumentException("mamba2: dInner " + dInner + " is not a multiple of nHeads " + nHeads);
        }
        if (nHeads % nGroups != 0 || dInner % nGroups != 0) {
            throw new IllegalArgumentException("mamba2: nGroups " + nGroups + " must divide nHeads " + nHeads
                    + " and dInner " + dInner);
        }
        if (!(normEps >= 0f)) {
            throw new IllegalArgumentException("mamba2: norm epsilon must be >= 0, got " + normEps);
        }
    }

    /** Values per head, P = dInner / nHeads. */
    public int headDim() {
        return dInner / nHeads;
    }

    /** Channels of the convolution: x, B and C, {@code dInner + 2 * nGroups * dState}. */
    public int convDim() {
        return dInner + 2 * nGroups * dState;
    }

    /** Rows of the in-projection: {@code [z | xBC | dt]}, {@code 2 * dInner + 2 * nGroups * dState + nHeads}. */
    public int inProjDim() {
        return 2 * dInner + 2 * nGroups * dState + nHeads;
    }

    /** Heads per group (llama.cpp's repeat_interleave factor). */
    public int headsPerGroup() {
        return nHeads / nGroups;
    }
}
