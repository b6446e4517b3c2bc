package dev.taipan.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A tile of float weight rows times a batch of tokens: the inner kernel of prefill for weights that
 * are decoded one tile at a time ({@link TiledMatmul}; ggml's CPU backend does the same split:
 * convert a block of weights once, then a dense kernel over every token). For row r of the tile
 * and token t: {@code out[t * outStride + outOff + r] = sum_c w[r * cols + c] * x[t * cols + c]}.
 *
 * <p>An outer-product kernel: the tokens are transposed once per batch ({@link Tokens}, column-major,
 * padded to whole vectors), so one vector holds one column of {@link #LANES} tokens; each weight is
 * broadcast and FMA'd into the accumulators of 4 rows x 2 token vectors (8 FMAs per 2 token loads and
 * 4 broadcasts), or 8 rows x 1 token vector for the last vector of a batch, and no accumulator needs
 * a horizontal sum. Every output is therefore
 * {@code fma(w[c], x[c], s)} in column order from 0, whatever the blocking, thread or tile: exactly
 * {@link #multiplyScalar}, the scalar twin, written with {@link Math#fma}.
 */
public final class TileMatmul {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Tokens per vector. */
    public static final int LANES = F.length();

    /**
     * Sizes of one call.
     *
     * @param rows      rows of the tile in {@code w} (row-major, {@code cols} each)
     * @param cols      length of every row and token
     * @param nTokens   tokens in the batch
     * @param outStride distance in {@code out} between the rows of consecutive tokens
     * @param outOff    index in {@code out} of the tile's first row for token 0
     */
    public record Dims(int rows, int cols, int nTokens, int outStride, int outOff) {

        public Dims {
            if (rows < 0 || cols < 0 || nTokens < 0 || outOff < 0 || (nTokens > 1 && outStride < rows)) {
                throw new IllegalArgumentException("tile matmul: bad sizes " + this);
            }
        }

        void check(float[] out, float[] w) {
            if ((long) rows * cols > w.length
                    || (nTokens > 0 && rows > 0 && (long) (nTokens - 1) * outStride + outOff + rows > out.length)) {
                throw new IllegalArgumentException("tile matmul: " + this + " does not fit arrays of "
                        + out.length + " (out) and " + w.length + " (w)");
            }
        }
    }

    /**
     * A batch of tokens transposed for the kernel: {@code xT[c * stride + t] = x[t * cols + c]},
     * {@code stride} = nTokens rounded up to whole vectors, padding zero.
     */
    public record Tokens(float[] xT, int nTokens, int cols, int stride) {

        /** Transposes {@code nTokens} rows of {@code cols} values of {@code x} into {@code buffer} if large enough. */
        public static Tokens of(float[] x, int nTokens, int cols, float[] buffer) {
            if ((long) nTokens * cols > x.length) {
                throw new IllegalArgumentException("tile matmul: " + nTokens + " tokens of " + cols
                        + " values need x of >= " + (long) nTokens * cols + " floats, got " + x.length);
            }
            int stride = (nTokens + LANES - 1) / LANES * LANES;
            long size = (long) stride * cols;
            if (size > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("tile matmul: batch of " + nTokens + " x " + cols + " is too large");
            }
            float[] xT = buffer != null && buffer.length >= size ? buffer : new float[(int) size];
            for (int c = 0; c < cols; c++) {
                int row = c * stride;
                for (int t = 0; t < nTokens; t++) {
                    xT[row + t] = x[t * cols + c];
                }
                for (int t = nTokens; t < stride; t++) {
                    xT[row + t] = 0f;
                }
            }
            return new Tokens(xT, nTokens, cols, stride);
        }

        @Override
        public String toString() {
            return "Tokens[nTokens=" + nTokens + ", cols=" + cols + ", stride=" + stride + "]";
        }
    }

    private TileMatmul() {
    }

    /** {@link #multiply(float[], float[], Tokens, Dims)} with the tokens transposed here. */
    public static void multiply(float[] out, float[] w, float[] x, Dims d) {
        multiply(out, w, Tokens.of(x, d.nTokens(), d.cols(), null), d);
    }

    /** Vector API kernel: see the class comment. */
    public static void multiply(float[] out, float[] w, Tokens tokens, Dims d) {
        d.check(out, w);
        if (tokens.nTokens() != d.nTokens() || tokens.cols() != d.cols()) {
            throw new IllegalArgumentException("tile matmul: " + tokens + " for " + d);
        }
        Call call = new Call(out, w, tokens, d, new float[LANES]);
        int rows = d.rows();
        int stride = tokens.stride();
        int g = 0;
        // pairs of token vectors: 4 rows at a time
        for (; g + 2 * LANES <= stride; g += 2 * LANES) {
            int r = 0;
            for (; r + 4 <= rows; r += 4) {
                block4x2(call, r, g);
            }
            for (; r < rows; r++) {
                block1x1(call, r, g);
                block1x1(call, r, g + LANES);
            }
        }
        // a last single token vector (small batches, e.g. one expert's tokens): 8 rows at a time,
        // so that 8 independent FMA chains hide the FMA latency
        for (; g < stride; g += LANES) {
            int r = 0;
            for (; r + 8 <= rows; r += 8) {
                block8x1(call, r, g);
            }
            for (; r < rows; r++) {
                block1x1(call, r, g);
            }
        }
    }

    /** Scalar twin of {@link #multiply}: {@code s = fma(w, x, s)} in column order, as every lane does. */
    public static void multiplyScalar(float[] out, float[] w, float[] x, Dims d) {
        d.check(out, w);
        if ((long) d.nTokens() * d.cols() > x.length) {
            throw new IllegalArgumentException("tile matmul: x of " + x.length + " floats for " + d);
        }
        int cols = d.cols();
        for (int t = 0; t < d.nTokens(); t++) {
            for (int r = 0; r < d.rows(); r++) {
                float s = 0f;
                for (int c = 0; c < cols; c++) {
                    s = Math.fma(w[r * cols + c], x[t * cols + c], s);
                }
                out[t * d.outStride() + d.outOff() + r] = s;
            }
        }
    }

    /** The arrays of one {@link #multiply} call and a vector's worth of scratch. */
    private record Call(float[] out, float[] w, Tokens tokens, Dims d, float[] lanes) {
    }

    // rows r..r+3 times the 2 token vectors from token g: 8 accumulators
    private static void block4x2(Call call, int r, int g) {
        float[] w = call.w();
        float[] xT = call.tokens().xT();
        int stride = call.tokens().stride();
        int cols = call.d().cols();
        int w0 = r * cols;
        int w1 = w0 + cols;
        int w2 = w1 + cols;
        int w3 = w2 + cols;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a20 = a00;
        FloatVector a21 = a00;
        FloatVector a30 = a00;
        FloatVector a31 = a00;
        for (int c = 0, xo = g; c < cols; c++, xo += stride) {
            FloatVector x0 = FloatVector.fromArray(F, xT, xo);
            FloatVector x1 = FloatVector.fromArray(F, xT, xo + LANES);
            FloatVector b = FloatVector.broadcast(F, w[w0 + c]);
            a00 = b.fma(x0, a00);
            a01 = b.fma(x1, a01);
            b = FloatVector.broadcast(F, w[w1 + c]);
            a10 = b.fma(x0, a10);
            a11 = b.fma(x1, a11);
            b = FloatVector.broadcast(F, w[w2 + c]);
            a20 = b.fma(x0, a20);
            a21 = b.fma(x1, a21);
            b = FloatVector.broadcast(F, w[w3 + c]);
            a30 = b.fma(x0, a30);
            a31 = b.fma(x1, a31);
        }
        store(call, a00, r, g);
        store(call, a01, r, g + LANES);
        store(call, a10, r + 1, g);
        store(call, a11, r + 1, g + LANES);
        store(call, a20, r + 2, g);
        store(call, a21, r + 2, g + LANES);
        store(call, a30, r + 3, g);
        store(call, a31, r + 3, g + LANES);
    }

    // rows r..r+7 times the token vector from token g: 8 accumulators
    private static void block8x1(Call call, int r, int g) {
        float[] w = call.w();
        float[] xT = call.tokens().xT();
        int stride = call.tokens().stride();
        int cols = call.d().cols();
        int w0 = r * cols;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        for (int c = 0, xo = g; c < cols; c++, xo += stride) {
            FloatVector x0 = FloatVector.fromArray(F, xT, xo);
            int wc = w0 + c;
            a0 = FloatVector.broadcast(F, w[wc]).fma(x0, a0);
            a1 = FloatVector.broadcast(F, w[wc + cols]).fma(x0, a1);
            a2 = FloatVector.broadcast(F, w[wc + 2 * cols]).fma(x0, a2);
            a3 = FloatVector.broadcast(F, w[wc + 3 * cols]).fma(x0, a3);
            a4 = FloatVector.broadcast(F, w[wc + 4 * cols]).fma(x0, a4);
            a5 = FloatVector.broadcast(F, w[wc + 5 * cols]).fma(x0, a5);
            a6 = FloatVector.broadcast(F, w[wc + 6 * cols]).fma(x0, a6);
            a7 = FloatVector.broadcast(F, w[wc + 7 * cols]).fma(x0, a7);
        }
        store(call, a0, r, g);
        store(call, a1, r + 1, g);
        store(call, a2, r + 2, g);
        store(call, a3, r + 3, g);
        store(call, a4, r + 4, g);
        store(call, a5, r + 5, g);
        store(call, a6, r + 6, g);
        store(call, a7, r + 7, g);
    }

    // row r times the token vector from token g
    private static void block1x1(Call call, int r, int g) {
        float[] w = call.w();
        float[] xT = call.tokens().xT();
        int stride = call.tokens().stride();
        int cols = call.d().cols();
        int w0 = r * cols;
        FloatVector a = FloatVector.zero(F);
        for (int c = 0, xo = g; c < cols; c++, xo += stride) {
            a = FloatVector.broadcast(F, w[w0 + c]).fma(FloatVector.fromArray(F, xT, xo), a);
        }
        store(call, a, r, g);
    }

    // the lanes of tokens g.. (those that exist) of row r to out
    private static void store(Call call, FloatVector acc, int r, int g) {
        Dims d = call.d();
        float[] lanes = call.lanes();
        acc.intoArray(lanes, 0);
        int n = Math.min(LANES, d.nTokens() - g);
        int o = g * d.outStride() + d.outOff() + r;
        for (int i = 0; i < n; i++) {
            call.out()[o + i * d.outStride()] = lanes[i];
        }
    }
}
