package dev.taipan.moe;

/**
 * How router logits become expert weights (llama.cpp {@code llama_expert_gating_func_type}).
 * Experts are chosen on the probabilities (plus the optional selection bias); the weights of the
 * chosen experts are the unbiased probabilities.
 */
public enum Gating {
    /** {@code p = softmax(logits)} over all experts (LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX). */
    SOFTMAX,
    /** {@code p = sigmoid(logits)} per expert (LLAMA_EXPERT_GATING_FUNC_TYPE_SIGMOID). */
    SIGMOID,
    /**
     * Select on the raw logits, then softmax over the selected ones only
     * (LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX_WEIGHT).
     */
    SOFTMAX_WEIGHT
}
