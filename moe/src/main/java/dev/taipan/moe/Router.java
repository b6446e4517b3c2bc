package dev.taipan.moe;

import dev.taipan.tensor.Kernels;
import java.util.Arrays;

/**
 * Expert choice of llama.cpp's {@code build_moe_ffn} (src/llama-graph.cpp, 34af94cd) for one token,
 * from its router logits:
 * <ol>
 * <li>probabilities {@code p} = softmax, sigmoid, or the logits themselves ({@link Gating})</li>
 * <li>selection scores {@code s = p + selectionBias} (bias used for choosing only)</li>
 * <li>group-limited routing: each group scores the sum of its two best {@code s}; experts
 *     outside the {@code topkGroup} best groups get {@code s = -inf}</li>
 * <li>the k best {@code s} (ggml_argsort_top_k), weights {@code w_j = p[e_j]}</li>
 * <li>SOFTMAX_WEIGHT: {@code w = softmax(w)}; renormalisation: {@code w /= max(sum w, 2^-14)};
 *     weight scale: {@code w *= weightScale}</li>
 * </ol>
 */
final class Router {
    /** ggml clamps the weight sum to the smallest normal F16 before dividing by it. */
    private static final float MIN_WEIGHT_SUM = 6.103515625e-5f;

    private final MoeConfig config;
    private final int nExpert;
    private final float[] selectionBias; // (nExpert) or null
    private final Kernels kernels;

    Router(MoeConfig config, int nExpert, float[] selectionBias, Kernels kernels) {
        this.config = config;
        this.nExpert = nExpert;
        this.selectionBias = selectionBias;
        this.kernels = kernels;
    }

    /**
     * Routes token {@code t}: reads {@code s.logits[t * nExpert ..]}, writes its experts to
     * {@code s.selected[t * k ..]} (best first) and their weights to {@code s.weights[t * k ..]}.
     */
    void route(int t, MoeState s) {
        int k = config.nExpertUsed();
        float[] p = s.probs;
        System.arraycopy(s.logits, t * nExpert, p, 0, nExpert);
        // 1. probabilities
        switch (config.gating()) {
            case SOFTMAX -> kernels.softmax(p, 0, nExpert);
            case SIGMOID -> {
                for (int e = 0; e < nExpert; e++) {
                    p[e] = 1f / (1f + (float) Math.exp(-p[e]));
                }
            }
            case SOFTMAX_WEIGHT -> {
                // experts are chosen on the raw logits
            }
        }
        // 2. selection scores
        float[] sel = s.selection;
        System.arraycopy(p, 0, sel, 0, nExpert);
        if (selectionBias != null) {
            kernels.add(sel, 0, selectionBias, 0, nExpert);
        }
        // 3. group-limited routing
        if (config.grouped()) {
            maskGroups(sel, s);
        }
        // 4. top-k and their weights
        kernels.topK(sel, 0, nExpert, s.topIdx, k);
        int off = t * k;
        for (int j = 0; j < k; j++) {
            s.selected[off + j] = s.topIdx[j];
            s.weights[off + j] = p[s.topIdx[j]];
        }
        // 5. weight post-processing
        if (config.gating() == Gating.SOFTMAX_WEIGHT) {
            kernels.softmax(s.weights, off, k);
        }
        if (config.renormalize()) {
            double sum = 0;
            for (int j = 0; j < k; j++) {
                sum += s.weights[off + j];
            }
            float div = Math.max((float) sum, MIN_WEIGHT_SUM);
            for (int j = 0; j < k; j++) {
                s.weights[off + j] /= div;
            }
        }
        float ws = config.weightScale();
        if (ws != 0f && ws != 1f) {
            kernels.scale(s.weights, off, k, ws);
        }
    }

    private void maskGroups(float[] sel, MoeState s) {
        int nGroup = config.nGroup();
        int per = nExpert / nGroup;
        for (int g = 0; g < nGroup; g++) {
            kernels.topK(sel, g * per, per, s.top2, 2);
            s.groupScores[g] = sel[g * per + s.top2[0]] + sel[g * per + s.top2[1]];
        }
        kernels.topK(s.groupScores, 0, nGroup, s.groupIdx, config.topkGroup());
        Arrays.fill(s.keepGroup, false);
        for (int i = 0; i < config.topkGroup(); i++) {
            s.keepGroup[s.groupIdx[i]] = true;
        }
        for (int g = 0; g < nGroup; g++) {
            if (!s.keepGroup[g]) {
                Arrays.fill(sel, g * per, (g + 1) * per, Float.NEGATIVE_INFINITY);
            }
        }
    }
}
