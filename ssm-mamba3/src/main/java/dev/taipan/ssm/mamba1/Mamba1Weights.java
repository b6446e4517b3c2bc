package dev.taipan.ssm.mamba1;

import dev.taipan.tensor.Tensor;

/**
 * Weights of one Mamba-1 mixer, already bound by name (llama.cpp tensor names in brackets); the
 * small vectors are copied to the heap. Shapes are row-major and checked by {@link Mamba1Mixer}.
 *
 * @param inProj   (2 * dInner, dim) [ssm_in.weight]: rows [x | z]
 * @param conv     (dInner, dConv) [ssm_conv1d.weight]
 * @param convBias (dInner) [ssm_conv1d.bias]
 * @param xProj    (dtRank + 2 * dState, dInner) [ssm_x.weight]: rows [dt | B | C]
 * @param dtProj   (dInner, dtRank) [ssm_dt.weight]
 * @param dtBias   (dInner) [ssm_dt.bias]
 * @param a        (dInner, dState) [ssm_a], already {@code -exp(A_log)}
 * @param d        (dInner) [ssm_d]
 * @param norms    RMS norms of dt, B and C (Jamba, FalconMamba), or null when the model has none
 * @param outProj  (dim, dInner) [ssm_out.weight]
 */
public record Mamba1Weights(Tensor inProj, float[] conv, float[] convBias, Tensor xProj, Tensor dtProj,
                            float[] dtBias, float[] a, float[] d, Norms norms, Tensor outProj) {

    public Mamba1Weights {
        if (inProj == null || conv == null || convBias == null || xProj == null || dtProj == null
                || dtBias == null || a == null || d == null || outProj == null) {
            throw new IllegalArgumentException("mamba: only norms may be null");
        }
    }

    /**
     * Weights of the RMS norms of dt (dtRank), B and C (dState each) [ssm_dt_norm, ssm_b_norm,
     * ssm_c_norm]. All null in {@link #UNWEIGHTED}: plain RMS norms (FalconMamba's
     * {@code ssm.dt_b_c_rms} without norm tensors).
     */
    public record Norms(float[] dt, float[] b, float[] c) {
        public static final Norms UNWEIGHTED = new Norms(null, null, null);

        public Norms {
            if ((dt == null) != (b == null) || (b == null) != (c == null)) {
                throw new IllegalArgumentException("mamba: dt, B and C norms come together");
            }
        }
    }
}
