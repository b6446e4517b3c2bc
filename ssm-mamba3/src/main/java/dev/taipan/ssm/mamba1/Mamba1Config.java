package dev.taipan.ssm.mamba1;

/**
 * Hyper-parameters of one Mamba-1 mixer (llama.cpp {@code llama_hparams} fields in brackets).
 *
 * @param dim     model width [n_embd]
 * @param dInner  inner width, one SSM channel each [ssm_d_inner]
 * @param dState  state size N per channel [ssm_d_state]
 * @param dtRank  rank of the low-rank dt projection [ssm_dt_rank]
 * @param dConv   convolution kernel [ssm_d_conv]
 * @param normEps epsilon of the optional dt/B/C RMS norms [f_norm_rms_eps]
 */
public record Mamba1Config(int dim, int dInner, int dState, int dtRank, int dConv, float normEps) {

    public Mamba1Config {
        if (dim < 1 || dInner < 1 || dState < 1 || dtRank < 1 || dConv < 2) {
            throw new IllegalArgumentException("mamba: sizes must be positive (dConv >= 2): dim=" + dim
                    + " dInner=" + dInner + " dState=" + dState + " dtRank=" + dtRank + " dConv=" + dConv);
        }
        if (!(normEps >= 0f)) {
            throw new IllegalArgumentException("mamba: norm epsilon must be >= 0, got " + normEps);
        }
    }

    /** Rows of the x-projection: {@code [dt | B | C]}, {@code dtRank + 2 * dState}. */
    public int xProjDim() {
        return dtRank + 2 * dState;
    }
}
