package dev.taipan.attention;

import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.RunOnce;
import dev.taipan.tensor.SessionLimits;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Per-session state of one {@link Attention} layer: the keys and values of every position seen
 * (up to the session's context length, never wrapped), the layer's preallocated scratch, and the
 * attention over the cached positions ({@link #attend}).
 *
 * <p>Layout is head-major, {@code (nKvHeads, contextLength, headDim)}, so that one head's rows
 * are contiguous when a query scans them; F32 keys are stored transposed in tiles of
 * {@link Kernels#KEY_TILE} positions ({@code (nKvHeads, tiles, headDim, KEY_TILE)}, the context
 * rounded up to whole tiles), so that {@link Kernels#scoreTiles} computes the scores of all query
 * heads sharing a key/value head with vertical FMAs, no horizontal sums. The heads of a group
 * then go through the F32 values in blocks of rows, each head calling {@link Kernels#axpyRows} on a
 * block while it is in cache; F16 goes a row at a time, so each row is widened once per group.
 * Storage is F32 ({@code float[]}) or F16 ({@code short[]} of IEEE half bits), see
 * {@link KvCacheType}. {@link #cacheBytes} counts {@code contextLength} positions (the F32 key
 * tiles' padding, at most {@code KEY_TILE - 1} positions per kv head, is left out, so that the
 * count is linear in the context as {@code ModelInfo} reports it).
 */
public final class KvCache implements BlockState {
    /**
     * Cached value rows per block of the F32 path: 256 rows of a 128-wide head are 128 KB, which stay in
     * the core's cache while each query head of the group reads them (a whole 8k-token head is 4
     * MB, which would be read from memory once per query head).
     */
    private static final int ROW_BLOCK = 256;

    final Attention owner;
    private final KvCacheType type;
    private final Kernels kernels;
    private final int capacity;
    private final int nKvHeads;
    private final int headDim;
    private final int qDim;
    private final int window;
    private final float scale;
    private final float[] k32; // (nKvHeads, tiles, headDim, KEY_TILE) when F32: keys transposed per tile
    /** Floats of one kv head's keys in {@link #k32}: {@code capacity} rounded up to whole tiles. */
    private final int keyHeadStride;
    private final float[] v32; // (nKvHeads, capacity, headDim) when F32
    private final short[] k16; // (nKvHeads, capacity, headDim) when F16
    private final short[] v16; // (nKvHeads, capacity, headDim) when F16
    private int length;

    // Scratch of one forward call (maxBatch tokens).
    final int maxBatch;
    final float[] q;       // (maxBatch, nHeads * headDim)
    final float[] k;       // (maxBatch, nKvHeads * headDim)
    final float[] v;       // (maxBatch, nKvHeads * headDim)
    final float[] att;     // (maxBatch, nHeads * headDim) attention output before wo
    private final float[] scores; // (nHeads, capacity) one row of softmax weights per head
    private final float[] rows;   // (nHeads, headDim) an F16 row widened, at the group's first head
    int callStart;         // position of the first token of the current call
    int callTokens;        // tokens in the current call
    float[] callX;         // the input of a one-token call
    float[] callOut;       // the output of a one-token call
    final Parallel.RangeTask headTask;
    // One token's pass (Attention#decodePart) and its units that run once: each slice's q, k and v
    // rows; the token's biases, norms, rotation and store; each slice's attention heads.
    final Parallel.SlicePartTask decodeTask;
    final RunOnce qkvRows;
    final RunOnce prepared;
    final RunOnce heads;
    final IntConsumer qkvRowsTask;
    final IntConsumer prepareTask;
    final IntConsumer headsTask;

    KvCache(Attention owner, AttentionConfig config, SessionLimits limits, Kernels kernels) {
        this.owner = owner;
        this.type = config.cacheType();
        this.kernels = kernels;
        this.capacity = limits.contextLength();
        this.nKvHeads = config.nKvHeads();
        this.headDim = config.headDim();
        this.qDim = config.qDim();
        this.window = config.slidingWindow();
        this.scale = config.scale();
        int cacheLen = arrayLength((long) nKvHeads * capacity * headDim, "KV cache");
        boolean f32 = type == KvCacheType.F32;
        this.keyHeadStride = (capacity + Kernels.KEY_TILE - 1) / Kernels.KEY_TILE * Kernels.KEY_TILE * headDim;
        this.k32 = f32 ? new float[arrayLength((long) nKvHeads * keyHeadStride, "KV cache")] : null;
        this.v32 = f32 ? new float[cacheLen] : null;
        this.k16 = f32 ? null : new short[cacheLen];
        this.v16 = f32 ? null : new short[cacheLen];
        this.maxBatch = limits.maxBatch();
        this.q = new float[arrayLength((long) maxBatch * qDim, "query scratch")];
        this.k = new float[arrayLength((long) maxBatch * config.kvDim(), "key scratch")];
        this.v = new float[k.length];
        this.att = new float[q.length];
        this.scores = new float[arrayLength((long) config.nHeads() * capacity, "score scratch")];
        this.rows = f32 ? new float[0] : new float[qDim];
        this.headTask = (start, end) -> owner.attendHeads(this, start, end);
        int threads = owner.threads();
        this.decodeTask = (slice, part) -> owner.decodePart(this, slice, part);
        this.qkvRows = new RunOnce(threads);
        this.prepared = new RunOnce(1);
        this.heads = new RunOnce(threads);
        this.qkvRowsTask = slice -> {
            for (int part = 0; part < 3; part++) {
                owner.projectQkv(this, slice, part);
            }
        };
        this.prepareTask = unit -> owner.prepareToken(this, 0);
        this.headsTask = slice -> owner.decodeHeads(this, slice);
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
                int tile = g * keyHeadStride + Kernels.keyTileOffset(pos, headDim);
                for (int d = 0; d < headDim; d++) {
                    k32[tile + d * Kernels.KEY_TILE] = keys[kOff + src + d];
                }
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
     * Attention of token {@code t} of the current call for query heads [h0, h1), which all use
     * kv head {@code g}: {@code att_h = softmax(scale * q_h K^T) V} over the visible positions
     * (causal, and within the sliding window if any). With an F16 cache the queries must already
     * be F16-representable; the softmax weights are rounded to F16 before they weight the values.
     */
    void attend(int g, int h0, int h1, int t) {
        int pos = callStart + t;
        int from = window > 0 ? Math.max(0, pos - window + 1) : 0;
        int n = pos + 1 - from;
        int qOff = t * qDim;
        if (k32 != null) {
            // scores of all the group's heads from the transposed key tiles (no horizontal sums);
            // values in blocks of rows that stay in cache while every head of the group uses them
            kernels.scoreTiles(q, qOff + h0 * headDim, h1 - h0, k32, g * keyHeadStride, from, n, headDim, scale,
                    scores, h0 * capacity, capacity);
            int rows = (g * capacity + from) * headDim;
            for (int h = h0; h < h1; h++) {
                kernels.softmax(scores, h * capacity, n);
                Arrays.fill(att, qOff + h * headDim, qOff + (h + 1) * headDim, 0f);
            }
            for (int j = 0; j < n; j += ROW_BLOCK) {
                int m = Math.min(ROW_BLOCK, n - j);
                for (int h = h0; h < h1; h++) {
                    kernels.axpyRows(att, qOff + h * headDim, scores, h * capacity + j, v32, rows + j * headDim, m,
                            headDim);
                }
            }
            return;
        }
        int widened = h0 * headDim;
        // F16: scores = scale * q K^T, one row of the group at a time (each row widened once)
        for (int j = 0; j < n; j++) {
            int base = (g * capacity + from + j) * headDim;
            float[] keys = widen(k16, base, widened);
            for (int h = h0; h < h1; h++) {
                scores[h * capacity + j] = kernels.dot(q, qOff + h * headDim, keys, widened, headDim) * scale;
            }
        }
        for (int h = h0; h < h1; h++) {
            kernels.softmax(scores, h * capacity, n);
            Arrays.fill(att, qOff + h * headDim, qOff + (h + 1) * headDim, 0f);
        }
        // att = p V
        for (int j = 0; j < n; j++) {
            int base = (g * capacity + from + j) * headDim;
            float[] values = widen(v16, base, widened);
            for (int h = h0; h < h1; h++) {
                float p = Float.float16ToFloat(Float.floatToFloat16(scores[h * capacity + j]));
                kernels.axpy(att, qOff + h * headDim, p, values, widened, headDim);
            }
        }
    }

    /** Widens {@code headDim} F16 values at {@code src[off]} into {@code rows[dstOff]}. */
    private float[] widen(short[] src, int off, int dstOff) {
        for (int d = 0; d < headDim; d++) {
            rows[dstOff + d] = Float.float16ToFloat(src[off + d]);
        }
        return rows;
    }
}
