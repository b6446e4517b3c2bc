package dev.taipan.attention;

import dev.taipan.tensor.Block;
import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.RunOnce;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Tensor;
import dev.taipan.tensor.Tensors;

/**
 * Causal self-attention with grouped key/value heads (MHA, GQA, MQA) over a per-session
 * {@link KvCache}. Follows llama.cpp 34af94cd without flash attention: {@code build_qkv},
 * {@code build_attn} and {@code build_attn_mha} in src/llama-graph.cpp, as the llama, qwen2,
 * qwen3, qwen2moe, qwen3moe, olmoe and granitemoe graphs (src/models/*.cpp) call them.
 *
 * <p>For a call of n tokens at positions {@code p0 .. p0+n-1} ({@code x} is already normalised):
 * <ol>
 * <li>{@code q = wq x + bq, k = wk x + bk, v = wv x + bv} (Qcur, Kcur, Vcur)</li>
 * <li>optional RMS norms {@code q = rmsnorm(q) * qNorm, k = rmsnorm(k) * kNorm}, per head
 *     (Qwen3) or over the whole projection (OLMoE), chosen by the norm weight's length</li>
 * <li>RoPE of q and k at their positions ({@code ggml_rope_ext}), unless the layer has none</li>
 * <li>k and v are appended to the cache</li>
 * <li>per query head h with kv head {@code g = h / (nHeads / nKvHeads)}:
 *     {@code a_h = softmax(scale * q_h K_g^T + mask) V_g}; the mask hides later positions and,
 *     with a sliding window w, keys with {@code pos_q - pos_k >= w} ({@code ggml_soft_max_ext})</li>
 * <li>{@code out = wo a + bo}</li>
 * </ol>
 * Not implemented: YaRN, attention sinks, logit soft-capping, ALiBi, chunked or symmetric
 * sliding windows. The cache keeps every position even for sliding-window layers.
 */
public final class Attention implements Block {
    private final AttentionConfig config;
    private final AttentionWeights weights;
    private final Kernels kernels;
    private final Parallel parallel;
    private final boolean qNormPerHead;
    private final boolean kNormPerHead;

    public Attention(AttentionConfig config, AttentionWeights weights, Kernels kernels, Parallel parallel) {
        this.config = config;
        this.weights = weights;
        this.kernels = kernels;
        this.parallel = parallel;
        int dim = config.dim();
        checkMatrix(weights.wq(), config.qDim(), dim);
        checkMatrix(weights.wk(), config.kvDim(), dim);
        checkMatrix(weights.wv(), config.kvDim(), dim);
        checkMatrix(weights.wo(), dim, config.qDim());
        checkVector(weights.bq(), config.qDim(), "bias of " + weights.wq().name());
        checkVector(weights.bk(), config.kvDim(), "bias of " + weights.wk().name());
        checkVector(weights.bv(), config.kvDim(), "bias of " + weights.wv().name());
        checkVector(weights.bo(), dim, "bias of " + weights.wo().name());
        this.qNormPerHead = checkNorm(weights.qNorm(), config.qDim(), "q norm of " + weights.wq().name());
        this.kNormPerHead = checkNorm(weights.kNorm(), config.kvDim(), "k norm of " + weights.wk().name());
    }

    public AttentionConfig config() {
        return config;
    }

    public AttentionWeights weights() {
        return weights;
    }

    @Override
    public KvCache newState(SessionLimits limits) {
        return new KvCache(this, config, limits, kernels);
    }

    @Override
    public void forward(float[] out, float[] x, int nTokens, BlockState state) {
        KvCache cache = cacheOf(state);
        checkCall(out, x, nTokens, cache);
        if (nTokens == 0) {
            return;
        }
        if (nTokens == 1) {
            decode(out, x, cache);
            return;
        }
        int start = cache.length();
        // 1. projections
        weights.wq().matmul(cache.q, x, nTokens, parallel);
        weights.wk().matmul(cache.k, x, nTokens, parallel);
        weights.wv().matmul(cache.v, x, nTokens, parallel);
        // 2-4. biases, q/k norms, rotary embedding, append to the cache
        cache.callStart = start;
        for (int t = 0; t < nTokens; t++) {
            prepareToken(cache, t);
        }
        // 5. attention, heads split across workers
        cache.callTokens = nTokens;
        parallel.forRange(config.nHeads(), cache.headTask);
        cache.advance(nTokens);
        // 6. output projection
        weights.wo().matmul(out, cache.att, nTokens, parallel);
        for (int t = 0; t < nTokens; t++) {
            addBias(out, t * config.dim(), weights.bo());
        }
    }

    /**
     * One token in one parallel pass ({@link Parallel#forSliceParts}, three parts per slice) instead
     * of three (q/k/v, attention, output projection) with the token's preparation between them on
     * the calling thread. Slice p: (0) its slice of the q, k and v rows; (1) once every slice's
     * rows are done, the token's biases, norms, rotation and cache store (by the first thread to
     * need them), then its slice of the query heads; (2) once every slice's heads are done, its
     * slice of the output projection's rows. Each wait first runs the units nobody has started
     * ({@link RunOnce}). The same floats as the three passes: every step runs the same code on the
     * same values, each projection row by the same kernel.
     */
    private void decode(float[] out, float[] x, KvCache cache) {
        cache.callX = x;
        cache.callOut = out;
        cache.callStart = cache.length();
        cache.callTokens = 1;
        cache.qkvRows.reset();
        cache.prepared.reset();
        cache.heads.reset();
        try {
            parallel.forSliceParts(3, cache.decodeTask, null);
        } finally {
            cache.callX = null;
            cache.callOut = null;
        }
        cache.advance(1);
        addBias(out, 0, weights.bo());
    }

    int threads() {
        return parallel.threads();
    }

    /** Part {@code j} of slice {@code p} of {@link #decode}'s pass. */
    void decodePart(KvCache cache, int p, int j) {
        switch (j) {
            case 0 -> cache.qkvRows.run(p, cache.qkvRowsTask);
            case 1 -> cache.heads.run(p, cache.headsTask);
            default -> {
                cache.heads.awaitAll(cache.headsTask);
                Tensors.dotSlice(weights.wo(), p, parallel.threads(), cache.att, cache.callOut);
            }
        }
    }

    /** Slice q's query heads of the one-token pass, once the token is prepared. */
    void decodeHeads(KvCache cache, int q) {
        cache.qkvRows.awaitAll(cache.qkvRowsTask);
        cache.prepared.awaitAll(cache.prepareTask);
        int threads = parallel.threads();
        int nHeads = config.nHeads();
        int from = (int) ((long) nHeads * q / threads);
        int to = (int) ((long) nHeads * (q + 1) / threads);
        if (from < to) {
            attendHeads(cache, from, to);
        }
    }

    /**
     * Token {@code t} of the call at {@code cache.callStart}: biases, q/k norms, rotation, F16
     * rounding of q, cache store.
     */
    void prepareToken(KvCache cache, int t) {
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        int start = cache.callStart;
        int qOff = t * qDim;
        int kvOff = t * kvDim;
        addBias(cache.q, qOff, weights.bq());
        addBias(cache.k, kvOff, weights.bk());
        addBias(cache.v, kvOff, weights.bv());
        // q/k norms
        if (weights.qNorm() != null) {
            norm(cache.q, qOff, weights.qNorm(), qNormPerHead, config.nHeads());
            norm(cache.k, kvOff, weights.kNorm(), kNormPerHead, config.nKvHeads());
        }
        // rotary embedding
        if (config.rope() != null) {
            kernels.rope(cache.q, qOff, config.nHeads(), start + t, config.rope());
            kernels.rope(cache.k, kvOff, config.nKvHeads(), start + t, config.rope());
        }
        if (config.cacheType() == KvCacheType.F16) {
            roundToHalf(cache.q, qOff, qDim);
        }
        // append to the cache
        cache.store(start + t, cache.k, kvOff, cache.v, kvOff);
    }

    /**
     * One token: slice {@code p} of {@link Parallel#threads()} ({@link Parallel#sliceStart}) of the
     * q ({@code part} 0), k (1) or v (2) projection (a unit of {@link #decode}'s pass).
     */
    void projectQkv(KvCache cache, int p, int part) {
        int slices = parallel.threads();
        switch (part) {
            case 0 -> Tensors.dotSlice(weights.wq(), p, slices, cache.callX, cache.q);
            case 1 -> Tensors.dotSlice(weights.wk(), p, slices, cache.callX, cache.k);
            default -> Tensors.dotSlice(weights.wv(), p, slices, cache.callX, cache.v);
        }
    }

    /**
     * Attention of query heads [hStart, hEnd) for every token of the current call, the heads of
     * one key/value group together.
     */
    void attendHeads(KvCache cache, int hStart, int hEnd) {
        int groupSize = config.groupSize();
        for (int h = hStart; h < hEnd; ) {
            int g = h / groupSize;
            int groupEnd = Math.min(hEnd, (g + 1) * groupSize);
            for (int t = 0; t < cache.callTokens; t++) {
                cache.attend(g, h, groupEnd, t);
            }
            h = groupEnd;
        }
    }

    private void addBias(float[] x, int off, float[] bias) {
        if (bias != null) {
            kernels.add(x, off, bias, 0, bias.length);
        }
    }

    private void norm(float[] x, int off, float[] weight, boolean perHead, int nHeads) {
        if (perHead) {
            for (int h = 0; h < nHeads; h++) {
                kernels.rmsnorm(x, off + h * config.headDim(), weight, config.qkNormEps());
            }
        } else {
            kernels.rmsnorm(x, off, weight, config.qkNormEps());
        }
    }

    private static void roundToHalf(float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) {
            x[i] = Float.float16ToFloat(Float.floatToFloat16(x[i]));
        }
    }

    private KvCache cacheOf(BlockState state) {
        if (!(state instanceof KvCache cache) || cache.owner != this) {
            throw new IllegalArgumentException("attention (" + weights.wq().name()
                    + "): state was not created by this layer's newState");
        }
        return cache;
    }

    private void checkCall(float[] out, float[] x, int nTokens, KvCache cache) {
        if (nTokens < 0 || nTokens > cache.maxBatch) {
            throw new IllegalArgumentException("attention (" + weights.wq().name() + "): " + nTokens
                    + " tokens in one call, the session's batch limit is " + cache.maxBatch);
        }
        long need = (long) nTokens * config.dim();
        if (x.length < need || out.length < need) {
            throw new IllegalArgumentException("attention (" + weights.wq().name() + "): " + nTokens
                    + " tokens of width " + config.dim() + " need " + need + " values, x has " + x.length
                    + " and out " + out.length);
        }
        if (out == x) {
            throw new IllegalArgumentException("attention: out and x must be different arrays");
        }
        if ((long) cache.length() + nTokens > cache.capacity()) {
            throw new IllegalStateException("context length " + cache.capacity() + " exceeded: "
                    + cache.length() + " positions cached, " + nTokens + " more requested");
        }
    }

    private static void checkMatrix(Tensor t, long rows, long cols) {
        if (t.shape().rank() != 2 || t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': expected shape [" + rows + ", "
                    + cols + "], found " + t.shape());
        }
    }

    private static void checkVector(float[] v, int n, String what) {
        if (v != null && v.length != n) {
            throw new IllegalArgumentException("attention " + what + ": expected " + n
                    + " values, found " + v.length);
        }
    }

    /** Checks a q/k norm weight; true when it applies per head, false for the whole projection. */
    private boolean checkNorm(float[] w, int whole, String what) {
        if (w == null) {
            return false;
        }
        if (Float.isNaN(config.qkNormEps())) {
            throw new IllegalArgumentException("attention " + what
                    + ": the weights have q/k norms but the config sets no epsilon (withQkNormEps)");
        }
        if (w.length != config.headDim() && w.length != whole) {
            throw new IllegalArgumentException("attention " + what + ": expected " + config.headDim()
                    + " (per head) or " + whole + " (whole projection) values, found " + w.length);
        }
        return w.length == config.headDim();
    }
}
