package dev.taipan.ssm.mamba3;

/**
 * The data-dependent rotation of B and C by a head's cumulative angles θ_i (i &lt; S): each pair
 * of state dimensions is turned by its angle, {@code (u0, u1) -> (u0 cos θ - u1 sin θ,
 * u0 sin θ + u1 cos θ)}; dimensions in no pair pass through.
 * <ul>
 * <li>{@link #PAIRWISE}: pairs {@code (2i, 2i+1)}, as {@code apply_rotary_emb} in
 *     mamba3_siso_step_ref (tests/ops/triton/test_mamba3_siso.py) and the SISO kernels.</li>
 * <li>{@link #HALVES}: pairs {@code (i, i + N/2)}, the TileLang MIMO layout of
 *     mamba3_MIMO_chunk_ref (tests/ops/tilelang/test_mamba3_mimo.py, rotate_pairwise=False) that
 *     Mamba3.step selects with {@code rotate_pairwise = not is_mimo}.</li>
 * </ul>
 * There are S pairs ({@link Mamba3Config#nAngles()}) of a state of N values.
 */
public enum Rotation {
    PAIRWISE,
    HALVES;

    /** Rotates {@code u[off .. off+n)} in place by the angles whose cosines and sines are given (S of each). */
    public void apply(float[] u, int off, int n, float[] cos, float[] sin) {
        int pairs = cos.length;
        int second = this == PAIRWISE ? 1 : n / 2;
        int stride = this == PAIRWISE ? 2 : 1;
        for (int i = 0; i < pairs; i++) {
            int a = off + i * stride;
            int b = a + second;
            float u0 = u[a];
            float u1 = u[b];
            u[a] = u0 * cos[i] - u1 * sin[i];
            u[b] = u0 * sin[i] + u1 * cos[i];
        }
    }
}
