package dev.taipan.moe;

/**
 * Routing and expert hyper-parameters of one sparse MoE layer (llama.cpp {@code build_moe_ffn}
 * arguments and hparams in brackets). The expert count and widths come from the weights. Start
 * from {@link #of} and refine:
 * <pre>{@code
 * MoeConfig.of(8, Gating.SOFTMAX, FfnActivation.SWIGLU).withRenormalize()
 * }</pre>
 *
 * @param nExpertUsed  experts per token [n_expert_used]
 * @param gating       logits to probabilities [expert_gating_func]
 * @param activation   of the routed experts and the shared expert
 * @param renormalize  divide the chosen weights by their sum, at least 2^-14 [norm_w,
 *                     expert_weights_norm]
 * @param weightScale  factor on the chosen weights; 0 and 1 mean none [w_scale,
 *                     expert_weights_scale]
 * @param nGroup       expert groups for group-limited routing; 0 or 1 = none [n_expert_groups]
 * @param topkGroup    groups kept per token, by the sum of each group's two best scores
 *                     [n_group_used]
 */
public record MoeConfig(int nExpertUsed, Gating gating, FfnActivation activation, boolean renormalize,
                        float weightScale, int nGroup, int topkGroup) {

    public MoeConfig {
        if (nExpertUsed < 1) {
            throw new IllegalArgumentException("moe: experts used per token must be >= 1, got " + nExpertUsed);
        }
        if (gating == null || activation == null) {
            throw new IllegalArgumentException("moe: gating and activation are required");
        }
        if (!Float.isFinite(weightScale)) {
            throw new IllegalArgumentException("moe: weight scale must be finite, got " + weightScale);
        }
        if (nGroup < 0 || (nGroup > 1 && (topkGroup < 1 || topkGroup > nGroup))) {
            throw new IllegalArgumentException("moe: group-limited routing needs 1 <= topkGroup <= nGroup, got nGroup="
                    + nGroup + " topkGroup=" + topkGroup);
        }
    }

    /** Top-k routing without renormalisation, weight scale, or groups. */
    public static MoeConfig of(int nExpertUsed, Gating gating, FfnActivation activation) {
        return new MoeConfig(nExpertUsed, gating, activation, false, 1f, 0, 0);
    }

    /** The chosen weights are divided by their sum. */
    public MoeConfig withRenormalize() {
        return new MoeConfig(nExpertUsed, gating, activation, true, weightScale, nGroup, topkGroup);
    }

    public MoeConfig withWeightScale(float scale) {
        return new MoeConfig(nExpertUsed, gating, activation, renormalize, scale, nGroup, topkGroup);
    }

    /** DeepSeek-style routing: experts only from the {@code keep} best of {@code groups} groups. */
    public MoeConfig withGroups(int groups, int keep) {
        return new MoeConfig(nExpertUsed, gating, activation, renormalize, weightScale, groups, keep);
    }

    /** Whether group-limited routing is on. */
    public boolean grouped() {
        return nGroup > 1;
    }
}
