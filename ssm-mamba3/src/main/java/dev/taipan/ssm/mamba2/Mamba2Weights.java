package dev.taipan.ssm.mamba2;

import dev.taipan.tensor.Tensor;

/**
 * Weights of one Mamba-2 mixer, already bound by name (llama.cpp tensor names in brackets); the
 * small vectors are copied to the heap. Shapes are row-major and checked by {@link Mamba2Mixer}.
 *
 * @param inProj   (inProjDim, dim) [ssm_in.weight]: rows [z | x B C | dt]
 * @param conv     (convDim, dConv) [ssm_conv1d.weight], as ggml stores it ({dConv, convDim})
 * @param convBias (convDim) or null [ssm_conv1d.bias]
 * @param dtBias   (nHeads) [ssm_dt.bias]
 * @param a        (nHeads) [ssm_a], already {@code -exp(A_log)} as the converter writes it
 * @param d        (nHeads) [ssm_d]
 * @param norm     (dInner) or null [ssm_norm.weight]: nGroups consecutive weights of dInner/nGroups
 * @param outProj  (dim, dInner) [ssm_out.weight]
 */
public record Mamba2Weights(Tensor inProj, float[] conv, float[] convBias, float[] dtBias,
                            float[] a, float[] d, float[] norm, Tensor outProj) {

    public Mamba2Weights {
        if (inProj == null || conv == null || dtBias == null || a == null || d == null || outProj == null) {
            throw new IllegalArgumentException("mamba2: only convBias and norm may be null");
        }
    }
}
