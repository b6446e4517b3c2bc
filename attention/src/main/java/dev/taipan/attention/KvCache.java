package dev.taipan.attention;

import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import java.util.Arrays;

/**
 * Per-session state of one {@link Attention} layer: the keys and values of every position seen
 * (up to the session's context length, never wrapped) and the layer's preallocated scratch.
 *
 * <p>Layout is head-major, {@code (nKvHeads, contextLength, headDim)}, so that one head's keys
 * are contiguous when a query scans them. Storage is F32 ({@code float[]}) or F16
 * ({@code short[]} of IEEE half bits), see {@link KvCacheType}.
 */
public final class KvCache implements BlockState {
    final Attention owner;
    private final KvCacheType type;
    private final int capacity;
    private final int nKvHeads;
    private final int headDim;
    private final float[] k32; // (nKvHeads, capacity, headDim) when F32
    private final float[] v32; // (nKvHeads, capacity, headDim) when F32
    private final short[] k16; // (nKvHeads, capacity, headDim) when F16
    private final short[] v16; // (nKvHeads, capacity, headDim) when F16
    private int length;

    // Scratch of one forward call (maxBatch tokens).
    final int maxBatch;
    final float[] q;      // (maxBatch, nHeads * headDim)
    final float[] k;      // (maxBatch, nKvHeads * headDim)
    final float[] v;      // (maxBatch, nKvHeads * headDim)
    final float[] att;    // (maxBatch, nHeads * headDim) attention output before wo
    final float[] scores; // (nHeads, capacity) one row of softmax weights per head
    int callStart;        // position of the first token of the current call
    int callTokens;       // tokens in the current call
    float[] callX;        // the input of a one-token call
    final Parallel.RangeTask headTask;
    final Parallel.RangeTask qkvTask;

    KvCache(Attention owner, AttentionConfig config, SessionLimits limits) {
        this.owner = owner;
        this.type = config.cacheType();
        this.capacity = limits.contextLength();
        this.nKvHeads = config.nKvHeads();
        this.headDim = config.headDim();
        int cacheLen = arrayLength((long) nKvHeads * capacity * headDim, "KV cache");
        boolean f32 = type == KvCacheType.F32;
        this.k32 = f32 ? new float[cacheLen] : null;
        this.v32 = f32 ? new float[cacheLen] : null;
        this.k16 = f32 ? null : new short[cacheLen];
        this.v16 = f32 ? null : new short[cacheLen];
        this.maxBatch = limits.maxBatch();
        this.q = new float[arrayLength((long) maxBatch * config.qDim(), "query scratch")];
        this.k = new float[arrayLength((long) maxBatch * config.kvDim(), "key scratch")];
        this.v = new float[k.length];
        this.att = new float[q.length];
        this.scores = new float[arrayLength((long) config.nHeads() * capacity, "score scratch")];
        this.headTask = (start, end) -> owner.attendHeads(this, start, end);
        this.qkvTask = (start, end) -> owner.projectQkv(this, start, end);
    }

    private static int arrayLength(long n, String what) {
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("attention: " + what + " needs " + n
                    + " values, more than a Java array holds; lower the context length or batch size");
        }
        return (int) n;
    }

    /** Positions held. */
    public int length() {
        return length;
    }

    /** Most positions this cache can hold (the session's context length). */
    public int capacity() {
        return capacity;
    }

    public KvCacheType type() {
        return type;
    }

    @Override
    public long cacheBytes() {
        return 2L * nKvHeads * capacity * headDim * type.bytes();
    }

    @Override
    public void reset() {
        length = 0;
    }

    void advance(int n) {
        length += n;
    }

    /** Stores the keys and values of all kv heads of the token at {@code pos}. */
    void store(int pos, float[] keys, int kOff, float[] values, int vOff) {
        for (int g = 0; g < nKvHeads; g++) {
            int dst = (g * capacity + pos) * headDim;
            int src = g * headDim;
            if (k32 != null) {
                System.arraycopy(keys, kOff + src, k32, dst, headDim);
                System.arraycopy(values, vOff + src, v32, dst, headDim);
            } else {
                for (int d = 0; d < headDim; d++) {
                    k16[dst + d] = Float.floatToFloat16(keys[kOff + src + d]);
                    v16[dst + d] = Float.floatToFloat16(values[vOff + src + d]);
                }
            }
        }
    }

    /**
     * {@code dst[dstOff + t - from] = scale * (q · key(g, t))} for t in [from, to). With an F16
     * cache {@code q} must already hold F16-representable values.
     */
    void keyScores(float[] dst, int dstOff, int g, int from, int to, float[] query, int qOff,
                   float scale, Kernels kernels) {
        for (int t = from; t < to; t++) {
            int base = (g * capacity + t) * headDim;
            float s;
            if (k32 != null) {
                s = kernels.dot(query, qOff, k32, base, headDim);
            } else {
                s = 0f;
                for (int d = 0; d < headDim; d++) {
                    s += query[qOff + d] * Float.float16ToFloat(k16[base + d]);
                }
            }
            dst[dstOff + t - from] = s * scale;
        }
    }

    /** {@code dst[dstOff ..+ headDim) = sum_t p[pOff + t - from] * value(g, t)} for t in [from, to). */
    void weightedValues(float[] dst, int dstOff, int g, int from, int to, float[] p, int pOff,
                        Kernels kernels) {
        Arrays.fill(dst, dstOff, dstOff + headDim, 0f);
        for (int t = from; t < to; t++) {
            int base = (g * capacity + t) * headDim;
            if (v32 != null) {
                kernels.axpy(dst, dstOff, p[pOff + t - from], v32, base, headDim);
            } else {
                float w = Float.float16ToFloat(Float.floatToFloat16(p[pOff + t - from]));
                for (int d = 0; d < headDim; d++) {
                    dst[dstOff + d] += w * Float.float16ToFloat(v16[base + d]);
                }
            }
        }
    }
}
