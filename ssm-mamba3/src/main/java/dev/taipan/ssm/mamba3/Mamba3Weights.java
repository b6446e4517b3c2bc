package dev.taipan.ssm.mamba3;

import dev.taipan.tensor.Tensor;

/**
 * Weights of one Mamba-3 mixer, with the parameter names of mamba_ssm's {@code Mamba3} module and
 * FLA's {@code Mamba3ForCausalLM} ({@code backbone.layers.N.mixer.*}). Shapes are row-major,
 * outermost first. The small vectors are copied to the heap at load; the two matrices stay views
 * of the file (any {@link Tensor} type, quantized included).
 *
 * @param inProj  (dInProj, dModel) in_proj.weight; rows {@code [z, x, B(r g n), C(r g n), dd_dt, dd_A, trap, angles]}
 * @param dtBias  (H) dt_bias
 * @param bNorm   (N) B_norm.weight
 * @param cNorm   (N) C_norm.weight
 * @param bBias   (H, R, N) B_bias
 * @param cBias   (H, R, N) C_bias
 * @param d       (H) D
 * @param mimoX   (H, R, P) mimo_x, MIMO only (null for SISO)
 * @param mimoZ   (H, R, P) mimo_z, MIMO only (null for SISO)
 * @param mimoO   (H, R, P) mimo_o, MIMO only (null for SISO)
 * @param outNorm (H * P) norm.weight, only with the grouped output norm (else null)
 * @param outProj (dModel, dInner) out_proj.weight
 */
public record Mamba3Weights(Tensor inProj, float[] dtBias, float[] bNorm, float[] cNorm, float[] bBias,
                            float[] cBias, float[] d, float[] mimoX, float[] mimoZ, float[] mimoO,
                            float[] outNorm, Tensor outProj) {

    /**
     * Checks every shape against {@code c}.
     *
     * @throws IllegalArgumentException naming the parameter and the expected and found sizes
     */
    public void check(Mamba3Config c) {
        matrix(inProj, c.dInProj(), c.dModel());
        matrix(outProj, c.dModel(), c.dInner());
        int h = c.nHeads();
        int hrn = h * c.mimoRank() * c.dState();
        int hrp = h * c.mimoRank() * c.headDim();
        vector("dt_bias", dtBias, h);
        vector("B_norm.weight", bNorm, c.dState());
        vector("C_norm.weight", cNorm, c.dState());
        vector("B_bias", bBias, hrn);
        vector("C_bias", cBias, hrn);
        vector("D", d, h);
        boolean mimo = c.variant() == Mamba3Config.Variant.MIMO;
        optional("mimo_x", mimoX, hrp, mimo);
        optional("mimo_z", mimoZ, hrp, mimo);
        optional("mimo_o", mimoO, hrp, mimo);
        optional("norm.weight", outNorm, c.dInner(), c.outputNorm() == Mamba3Config.OutputNorm.GROUPED_RMS);
    }

    private static void matrix(Tensor t, long rows, long cols) {
        if (t == null) {
            throw new IllegalArgumentException("mamba3: missing projection matrix");
        }
        if (t.shape().rank() != 2 || t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException("mamba3: tensor '" + t.name() + "' has shape " + t.shape()
                    + ", expected [" + rows + ", " + cols + "]");
        }
    }

    private static void vector(String name, float[] v, int n) {
        if (v == null || v.length != n) {
            throw new IllegalArgumentException("mamba3: " + name + " needs " + n + " values, got "
                    + (v == null ? "none" : v.length));
        }
    }

    private static void optional(String name, float[] v, int n, boolean required) {
        if (required) {
            vector(name, v, n);
        } else if (v != null) {
            throw new IllegalArgumentException("mamba3: " + name + " given but this configuration does not use it");
        }
    }
}
