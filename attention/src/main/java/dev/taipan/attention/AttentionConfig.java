package dev.taipan.attention;

import dev.taipan.tensor.Rope;

/**
 * Hyper-parameters of one self-attention layer (llama.cpp {@code llama_hparams} fields in
 * brackets). Start from {@link #of} and refine with the {@code with*} methods:
 * <pre>{@code
 * AttentionConfig.of(2048, 32, 4, 128).withRope(rope).withQkNormEps(1e-6f)
 * }</pre>
 *
 * @param dim           model width [n_embd]
 * @param nHeads        query heads [n_head]
 * @param nKvHeads      key/value heads [n_head_kv]; divides nHeads (MHA: equal, MQA: 1)
 * @param headDim       values per head [n_embd_head_k = n_embd_head_v]
 * @param rope          rotary embedding, or null for layers without RoPE
 * @param scale         factor on QK^T before the softmax [f_attention_scale, default 1/sqrt(headDim)]
 * @param slidingWindow keys visible to a query: those with {@code pos_q - pos_k < slidingWindow}
 *                      (llama.cpp LLAMA_SWA_TYPE_STANDARD [n_swa]); 0 = full causal attention
 * @param qkNormEps     epsilon of the q/k RMS norms [f_norm_rms_eps]; NaN = not set (then the
 *                      weights must have no q/k norms)
 * @param cacheType     element type of the KV cache
 */
public record AttentionConfig(int dim, int nHeads, int nKvHeads, int headDim, Rope rope, float scale,
                              int slidingWindow, float qkNormEps, KvCacheType cacheType) {

    public AttentionConfig {
        if (dim < 1 || nHeads < 1 || nKvHeads < 1 || headDim < 1) {
            throw new IllegalArgumentException("attention: dimensions must be positive: dim=" + dim
                    + " nHeads=" + nHeads + " nKvHeads=" + nKvHeads + " headDim=" + headDim);
        }
        if (nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("attention: nHeads " + nHeads
                    + " is not a multiple of nKvHeads " + nKvHeads);
        }
        if (rope != null && rope.headDim() != headDim) {
            throw new IllegalArgumentException("attention: rope head size " + rope.headDim()
                    + " differs from headDim " + headDim);
        }
        if (!(scale > 0f) || Float.isInfinite(scale)) {
            throw new IllegalArgumentException("attention: scale must be positive and finite, got " + scale);
        }
        if (slidingWindow < 0) {
            throw new IllegalArgumentException("attention: sliding window must be >= 0, got " + slidingWindow);
        }
        if (!Float.isNaN(qkNormEps) && !(qkNormEps >= 0f)) {
            throw new IllegalArgumentException("attention: q/k norm epsilon must be >= 0, got " + qkNormEps);
        }
        if (cacheType == null) {
            throw new IllegalArgumentException("attention: cache type is null");
        }
    }

    /**
     * Full causal attention without RoPE or q/k norms, scale {@code 1/sqrt(headDim)} computed as
     * llama.cpp does ({@code 1.0f/sqrtf(float(n_embd_head))}), F32 cache.
     */
    public static AttentionConfig of(int dim, int nHeads, int nKvHeads, int headDim) {
        return new AttentionConfig(dim, nHeads, nKvHeads, headDim, null, defaultScale(headDim), 0,
                Float.NaN, KvCacheType.F32);
    }

    /** {@code 1.0f / sqrtf(headDim)}. */
    public static float defaultScale(int headDim) {
        return 1.0f / (float) Math.sqrt(headDim);
    }

    public AttentionConfig withRope(Rope newRope) {
        return new AttentionConfig(dim, nHeads, nKvHeads, headDim, newRope, scale, slidingWindow, qkNormEps, cacheType);
    }

    public AttentionConfig withScale(float newScale) {
        return new AttentionConfig(dim, nHeads, nKvHeads, headDim, rope, newScale, slidingWindow, qkNormEps, cacheType);
    }

    public AttentionConfig withSlidingWindow(int window) {
        return new AttentionConfig(dim, nHeads, nKvHeads, headDim, rope, scale, window, qkNormEps, cacheType);
    }

    public AttentionConfig withQkNormEps(float eps) {
        return new AttentionConfig(dim, nHeads, nKvHeads, headDim, rope, scale, slidingWindow, eps, cacheType);
    }

    public AttentionConfig withCacheType(KvCacheType type) {
        return new AttentionConfig(dim, nHeads, nKvHeads, headDim, rope, scale, slidingWindow, qkNormEps, type);
    }

    /** Width of all query heads: {@code nHeads * headDim}. */
    public int qDim() {
        return nHeads * headDim;
    }

    /** Width of all key (or value) heads: {@code nKvHeads * headDim}. */
    public int kvDim() {
        return nKvHeads * headDim;
    }

    /** Query heads sharing one key/value head. */
    public int groupSize() {
        return nHeads / nKvHeads;
    }
}
