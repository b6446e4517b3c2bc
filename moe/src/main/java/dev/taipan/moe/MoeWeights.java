package dev.taipan.moe;

import dev.taipan.tensor.Tensor;

/**
 * Weights of one sparse MoE layer, already bound by name (llama.cpp names in brackets). Expert
 * matrices stay in their 3-D tensors; {@link SparseMoe} addresses them with
 * {@link Tensor#slice}. Shapes are checked by {@link SparseMoe}.
 *
 * @param router        (nExpert, dim) [ffn_gate_inp.weight]
 * @param selectionBias (nExpert) or null: added to the probabilities to choose experts only
 *                      [exp_probs_b.bias]
 * @param gateExps      (nExpert, ff, dim) [ffn_gate_exps.weight], null for ungated RELU2 experts
 * @param upExps        (nExpert, ff, dim) [ffn_up_exps.weight]
 * @param downExps      (nExpert, dim, ff) [ffn_down_exps.weight]
 * @param shared        the shared expert [ffn_{gate,up,down}_shexp.weight] or null
 * @param sharedGate    (dim) or null: the shared expert's output is scaled by
 *                      {@code sigmoid(sharedGate · x)} as Qwen2-MoE [ffn_gate_inp_shexp.weight]
 */
public record MoeWeights(Tensor router, float[] selectionBias, Tensor gateExps, Tensor upExps,
                         Tensor downExps, FfnWeights shared, Tensor sharedGate) {

    public MoeWeights {
        if (router == null || upExps == null || downExps == null) {
            throw new IllegalArgumentException("moe: router, up and down expert weights are required");
        }
        if (sharedGate != null && shared == null) {
            throw new IllegalArgumentException("moe: tensor '" + sharedGate.name()
                    + "' gates a shared expert, but there is none");
        }
    }

    /** Routed experts only: no selection bias, no shared expert. */
    public static MoeWeights of(Tensor router, Tensor gateExps, Tensor upExps, Tensor downExps) {
        return new MoeWeights(router, null, gateExps, upExps, downExps, null, null);
    }

    public MoeWeights withSelectionBias(float[] bias) {
        return new MoeWeights(router, bias, gateExps, upExps, downExps, shared, sharedGate);
    }

    /** A shared expert added to every token's output; {@code gate} (dim) may be null (ungated). */
    public MoeWeights withShared(FfnWeights sharedExpert, Tensor gate) {
        return new MoeWeights(router, selectionBias, gateExps, upExps, downExps, sharedExpert, gate);
    }
}
