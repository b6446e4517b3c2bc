package dev.taipan.attention;

import dev.taipan.tensor.Tensor;

/**
 * Weights of one attention layer, already bound by name (llama.cpp tensor names in brackets).
 * Build with {@link #of} and add the optional parts with {@link #withBiases} and
 * {@link #withQkNorm}. Shapes are row-major (outermost first) and are checked by
 * {@link Attention}'s constructor against its {@link AttentionConfig}.
 *
 * @param wq    (nHeads * headDim, dim) [attn_q.weight]
 * @param wk    (nKvHeads * headDim, dim) [attn_k.weight]
 * @param wv    (nKvHeads * headDim, dim) [attn_v.weight]
 * @param wo    (dim, nHeads * headDim) [attn_output.weight]
 * @param bq    (nHeads * headDim) or null [attn_q.bias]
 * @param bk    (nKvHeads * headDim) or null [attn_k.bias]
 * @param bv    (nKvHeads * headDim) or null [attn_v.bias]
 * @param bo    (dim) or null [attn_output.bias]
 * @param qNorm RMS norm weight of the queries or null [attn_q_norm.weight]: (headDim) applied per
 *              head (Qwen3), or (nHeads * headDim) applied to the whole projection (OLMoE)
 * @param kNorm same for the keys [attn_k_norm.weight]: (headDim) or (nKvHeads * headDim)
 */
public record AttentionWeights(Tensor wq, Tensor wk, Tensor wv, Tensor wo,
                               float[] bq, float[] bk, float[] bv, float[] bo,
                               float[] qNorm, float[] kNorm) {

    public AttentionWeights {
        if (wq == null || wk == null || wv == null || wo == null) {
            throw new IllegalArgumentException("attention: wq, wk, wv and wo are required");
        }
        if ((qNorm == null) != (kNorm == null)) {
            throw new IllegalArgumentException("attention: q and k norms come together (tensor "
                    + wq.name() + ")");
        }
    }

    /** Projections only: no biases, no q/k norms. */
    public static AttentionWeights of(Tensor wq, Tensor wk, Tensor wv, Tensor wo) {
        return new AttentionWeights(wq, wk, wv, wo, null, null, null, null, null, null);
    }

    /** The same weights with these biases (each may be null). */
    public AttentionWeights withBiases(float[] newBq, float[] newBk, float[] newBv, float[] newBo) {
        return new AttentionWeights(wq, wk, wv, wo, newBq, newBk, newBv, newBo, qNorm, kNorm);
    }

    /** The same weights with q/k RMS norms (their epsilon is {@link AttentionConfig#qkNormEps}). */
    public AttentionWeights withQkNorm(float[] newQNorm, float[] newKNorm) {
        return new AttentionWeights(wq, wk, wv, wo, bq, bk, bv, bo, newQNorm, newKNorm);
    }
}
