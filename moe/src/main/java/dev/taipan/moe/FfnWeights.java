package dev.taipan.moe;

import dev.taipan.tensor.Tensor;

/**
 * Weights of one feed-forward network (a dense FFN or a shared expert), already bound by name
 * (llama.cpp names in brackets; {@code _shexp} for shared experts). Shapes are checked by
 * {@link DenseFfn}.
 *
 * @param gate (ff, dim) [ffn_gate.weight], null for the ungated {@link FfnActivation#RELU2}
 * @param up   (ff, dim) [ffn_up.weight]
 * @param down (dim, ff) [ffn_down.weight]
 */
public record FfnWeights(Tensor gate, Tensor up, Tensor down) {
    public FfnWeights {
        if (up == null || down == null) {
            throw new IllegalArgumentException("ffn: up and down weights are required");
        }
    }
}
