package dev.taipan.moe;

import dev.taipan.tensor.Kernels;

/**
 * The activation of a feed-forward network, as llama.cpp's {@code build_ffn} /
 * {@code build_moe_ffn} (src/llama-graph.cpp, 34af94cd) apply it to {@code g = gate x} and
 * {@code u = up x}:
 * <ul>
 * <li>{@link #SWIGLU}: {@code silu(g) * u} (LLM_FFN_SILU with a parallel gate, ggml_swiglu_split)</li>
 * <li>{@link #GEGLU}: {@code gelu(g) * u} (LLM_FFN_GELU with a parallel gate, ggml_geglu_split)</li>
 * <li>{@link #RELU2}: {@code relu(u)^2}, no gate (LLM_FFN_RELU_SQR, as nemotron_h)</li>
 * </ul>
 */
public enum FfnActivation {
    SWIGLU,
    GEGLU,
    RELU2;

    /** Whether this activation needs a gate projection. */
    public boolean gated() {
        return this != RELU2;
    }

    /**
     * Applies the activation to {@code n} values at {@code off}, in place; returns the array that
     * holds the result ({@code gate} when gated, else {@code up}).
     */
    float[] apply(Kernels kernels, float[] gate, float[] up, int off, int n) {
        switch (this) {
            case SWIGLU -> kernels.siluMul(gate, off, up, off, n);
            case GEGLU -> {
                kernels.gelu(gate, off, n);
                kernels.mul(gate, off, up, off, n);
            }
            case RELU2 -> kernels.relu2(up, off, n);
        }
        return gated() ? gate : up;
    }
}
