package dev.taipan.tensor;

import java.util.Objects;

/**
 * Elementwise, normalisation, RoPE, softmax and selection kernels over {@code float[]} activations.
 * Two implementations: {@link #vector()} (Vector API) and {@link #scalar()} (its scalar twin and
 * the test oracle). One is chosen when a Model is built and passed down to the layers.
 *
 * <p>Conventions (llama2.c style): the array written comes first; a span is an array, an offset
 * and a length; most ops work in place on their first span. Batched activations are flattened
 * token-major arrays, so offsets are part of every signature.
 */
public interface Kernels {

    static Kernels vector() {
        return VectorKernels.INSTANCE;
    }

    static Kernels scalar() {
        return ScalarKernels.INSTANCE;
    }

    /** {@code sum_i a[aOff+i] * b[bOff+i]} for i in [0, n). */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** In place: {@code x = x / sqrt(mean(x^2) + eps) * weight} over {@code weight.length} values. */
    void rmsnorm(float[] x, int off, float[] weight, float eps);

    /** In place: {@code x = x / sqrt(mean(x^2) + eps)} over n values (no weight). */
    void rmsnormPlain(float[] x, int off, int n, float eps);

    /** In place: {@code x = (x - mean) / sqrt(var + eps) * weight + bias}; bias may be null. */
    void layernorm(float[] x, int off, LayerNormParams params);

    /** In place numerically stable softmax over n values. */
    void softmax(float[] x, int off, int n);

    /** In place {@code x * sigmoid(x)}. */
    void silu(float[] x, int off, int n);

    /** In place GELU, tanh approximation as ggml computes it. */
    void gelu(float[] x, int off, int n);

    /** In place {@code max(x, 0)^2}. */
    void relu2(float[] x, int off, int n);

    /** In place {@code gate = silu(gate) * up} (SwiGLU). */
    void siluMul(float[] gate, int gateOff, float[] up, int upOff, int n);

    /** {@code dst += src}. */
    void add(float[] dst, int dstOff, float[] src, int srcOff, int n);

    /** {@code dst *= src} elementwise. */
    void mul(float[] dst, int dstOff, float[] src, int srcOff, int n);

    /** In place {@code x *= s}. */
    void scale(float[] x, int off, int n, float s);

    /** {@code y += a * x}. */
    void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n);

    /**
     * One step of a diagonal linear recurrence and its read-out, in one pass over {@code h}:
     * {@code h[i] = h[i] * decay + a * b[i]} in place, then returns {@code sum(h[i] * c[i])}. The
     * same values as {@link #scale}, {@link #axpy} and {@link #dot} called in turn (the selective
     * scan of one state row).
     */
    float decayAxpyDot(float[] h, int hOff, float decay, float a, float[] b, int bOff, float[] c, int cOff, int n);

    /** Positions per tile of a key cache stored for {@link #scoreTiles}. */
    int KEY_TILE = 16;

    /**
     * Attention scores against keys stored in tiles: {@code out[outOff + h * outStride + j] =
     * scale * k(first + j) · q_h} for query heads {@code h < heads} ({@code q_h} the {@code n} values
     * at {@code q[qOff + h * n]}) and positions {@code j < count}. Key {@code p} has its {@code n}
     * values in tile {@code p / KEY_TILE}, transposed: value {@code d} at
     * {@code kt[ktOff + (p / KEY_TILE) * n * KEY_TILE + d * KEY_TILE + p % KEY_TILE]}, so that one
     * vector load holds value {@code d} of consecutive positions and the scores need no horizontal
     * sums. Each score is the FMA chain {@code acc = fma(q_h[d], k[d], acc)} over {@code d = 0 .. n-1}
     * from 0, times {@code scale}: the same floats in both implementations. Tiles are read whole
     * (positions before {@code first} or from {@code first + count} on, up to the tiles' ends, must
     * lie in {@code kt}) but only the requested scores are written.
     */
    void scoreTiles(float[] q, int qOff, int heads, float[] kt, int ktOff, int first, int count, int n, float scale,
            float[] out, int outOff, int outStride);

    /**
     * {@code y += p[pOff + r] * m[mOff + r * n ..]} for {@code r = 0, 1, .. rows - 1} in turn: the
     * same floats as {@link #axpy} row by row, with {@code y} kept in registers across the rows (a
     * head's attention output: the softmax weights times its cached values).
     */
    void axpyRows(float[] y, int yOff, float[] p, int pOff, float[] m, int mOff, int rows, int n);

    /**
     * Rotates {@code nHeads} consecutive heads of {@code rope.headDim()} values starting at
     * {@code off} for position {@code pos}, in the layout of {@code rope}.
     */
    void rope(float[] x, int off, int nHeads, int pos, Rope rope);

    /** Index of the largest of n values (first one on ties; NaN counts as negative infinity). */
    int argmax(float[] x, int off, int n);

    /**
     * Indices of the k largest of n values, largest first (lower index first on ties), written to
     * {@code outIdx[0..k)}. NaN counts as negative infinity.
     *
     * @throws IllegalArgumentException when k is negative or larger than n or {@code outIdx.length}
     */
    void topK(float[] x, int off, int n, int[] outIdx, int k);

    /** Offset of value 0 of key {@code p} in a tiled key array of {@code n}-value keys ({@link #scoreTiles}); value {@code d} is {@code d * KEY_TILE} further. */
    static int keyTileOffset(int p, int n) {
        return (p / KEY_TILE) * n * KEY_TILE + p % KEY_TILE;
    }

    /** The bounds {@link #scoreTiles} reads and writes, checked before either implementation runs. */
    static void checkScoreTiles(float[] q, int qOff, int heads, float[] kt, int ktOff, int first, int count, int n,
            float[] out, int outOff, int outStride) {
        if (heads < 0 || count < 0 || n < 1 || first < 0 || outStride < count) {
            throw new IllegalArgumentException("scoreTiles: heads " + heads + ", first " + first + ", count " + count
                    + ", n " + n + ", out stride " + outStride);
        }
        if (heads == 0 || count == 0) {
            return;
        }
        Objects.checkFromIndexSize(qOff, heads * n, q.length);
        long tilesEnd = ((long) (first + count - 1) / KEY_TILE + 1) * n * KEY_TILE;
        Objects.checkFromIndexSize(ktOff, (int) Math.min(Integer.MAX_VALUE, tilesEnd), kt.length);
        Objects.checkFromIndexSize(outOff, (heads - 1) * outStride + count, out.length);
    }

    /** Weight and bias (nullable) of a layer norm, with its epsilon. */
    record LayerNormParams(float[] weight, float[] bias, float eps) {
    }
}
