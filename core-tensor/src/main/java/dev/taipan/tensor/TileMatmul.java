package dev.taipan.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A tile of float weight rows times a batch of tokens: the inner kernel of prefill for weights that
 * are dequantized one tile at a time (ggml's CPU backend does the same split: convert a block of
 * weights once, then a float GEMM over every token). For row r of the tile and token t:
 * {@code out[t * outStride + outOff + r] = sum_c w[r * cols + c] * x[t * cols + c]}.
 *
 * <p>{@link #multiply} keeps 4 rows x 3 tokens of accumulators in registers (7 loads per 12 FMAs),
 * with smaller blocks at the edges; {@link #multiplyScalar} is its twin, summing in column order.
 * Both leave the results independent of how rows are tiled, so the caller may cut tiles freely.
 */
public final class TileMatmul {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    /**
     * Sizes of one call.
     *
     * @param rows      rows of the tile in {@code w} (row-major, {@code cols} each)
     * @param cols      length of every row and token
     * @param nTokens   tokens in {@code x} (row-major, {@code cols} each)
     * @param outStride distance in {@code out} between the rows of consecutive tokens
     * @param outOff    index in {@code out} of the tile's first row for token 0
     */
    public record Dims(int rows, int cols, int nTokens, int outStride, int outOff) {

        public Dims {
            if (rows < 0 || cols < 0 || nTokens < 0 || outOff < 0 || (nTokens > 1 && outStride < rows)) {
                throw new IllegalArgumentException("tile matmul: bad sizes " + this);
            }
        }

        void check(float[] out, float[] w, float[] x) {
            if ((long) rows * cols > w.length || (long) nTokens * cols > x.length
                    || (nTokens > 0 && rows > 0 && (long) (nTokens - 1) * outStride + outOff + rows > out.length)) {
                throw new IllegalArgumentException("tile matmul: " + this + " does not fit arrays of "
                        + out.length + " (out), " + w.length + " (w), " + x.length + " (x)");
            }
        }
    }

    private TileMatmul() {
    }

    /** Vector API kernel: see the class comment. */
    public static void multiply(float[] out, float[] w, float[] x, Dims d) {
        d.check(out, w, x);
        int rows = d.rows();
        int nTokens = d.nTokens();
        Call call = new Call(out, w, x, d, new float[12 * L]);
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int t = 0;
            for (; t + 3 <= nTokens; t += 3) {
                block4x3(call, r, t);
            }
            for (; t < nTokens; t++) {
                for (int i = 0; i < 4; i++) {
                    out[t * d.outStride() + d.outOff() + r + i] = dot(w, (r + i) * d.cols(), x, t * d.cols(), d.cols());
                }
            }
        }
        for (; r < rows; r++) {
            for (int t = 0; t < nTokens; t++) {
                out[t * d.outStride() + d.outOff() + r] = dot(w, r * d.cols(), x, t * d.cols(), d.cols());
            }
        }
    }

    /** Scalar twin of {@link #multiply}. */
    public static void multiplyScalar(float[] out, float[] w, float[] x, Dims d) {
        d.check(out, w, x);
        int cols = d.cols();
        for (int t = 0; t < d.nTokens(); t++) {
            for (int r = 0; r < d.rows(); r++) {
                float s = 0f;
                for (int c = 0; c < cols; c++) {
                    s += w[r * cols + c] * x[t * cols + c];
                }
                out[t * d.outStride() + d.outOff() + r] = s;
            }
        }
    }

    /** The arrays of one {@link #multiply} call and its scratch for 12 accumulators' lanes. */
    private record Call(float[] out, float[] w, float[] x, Dims d, float[] lanes) {
    }

    // rows r..r+3 times tokens t..t+2: 12 accumulators, each weight and token vector loaded once;
    // they are stored to lanes and summed in scalars (twelve vector sums inline would exceed C2's
    // inlining budget, and a sum that is not inlined boxes its vector)
    private static void block4x3(Call call, int r, int t) {
        float[] w = call.w();
        float[] x = call.x();
        float[] lanes = call.lanes();
        Dims d = call.d();
        int cols = d.cols();
        int w0 = r * cols;
        int w1 = w0 + cols;
        int w2 = w1 + cols;
        int w3 = w2 + cols;
        int x0 = t * cols;
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00;
        FloatVector a02 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a12 = a00;
        FloatVector a20 = a00;
        FloatVector a21 = a00;
        FloatVector a22 = a00;
        FloatVector a30 = a00;
        FloatVector a31 = a00;
        FloatVector a32 = a00;
        int bound = F.loopBound(cols);
        int c = 0;
        for (; c < bound; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + c);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + c);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + c);
            FloatVector u = FloatVector.fromArray(F, w, w0 + c);
            a00 = u.fma(v0, a00);
            a01 = u.fma(v1, a01);
            a02 = u.fma(v2, a02);
            u = FloatVector.fromArray(F, w, w1 + c);
            a10 = u.fma(v0, a10);
            a11 = u.fma(v1, a11);
            a12 = u.fma(v2, a12);
            u = FloatVector.fromArray(F, w, w2 + c);
            a20 = u.fma(v0, a20);
            a21 = u.fma(v1, a21);
            a22 = u.fma(v2, a22);
            u = FloatVector.fromArray(F, w, w3 + c);
            a30 = u.fma(v0, a30);
            a31 = u.fma(v1, a31);
            a32 = u.fma(v2, a32);
        }
        a00.intoArray(lanes, 0);
        a01.intoArray(lanes, L);
        a02.intoArray(lanes, 2 * L);
        a10.intoArray(lanes, 3 * L);
        a11.intoArray(lanes, 4 * L);
        a12.intoArray(lanes, 5 * L);
        a20.intoArray(lanes, 6 * L);
        a21.intoArray(lanes, 7 * L);
        a22.intoArray(lanes, 8 * L);
        a30.intoArray(lanes, 9 * L);
        a31.intoArray(lanes, 10 * L);
        a32.intoArray(lanes, 11 * L);
        int o0 = t * d.outStride() + d.outOff() + r;
        for (int i = 0; i < 4; i++) {
            int wi = w0 + i * cols;
            for (int j = 0; j < 3; j++) {
                int xj = x0 + j * cols;
                float s = Lanes.sumInPlace(lanes, (i * 3 + j) * L, L);
                for (int k = c; k < cols; k++) {
                    s += w[wi + k] * x[xj + k];
                }
                call.out()[o0 + j * d.outStride() + i] = s;
            }
        }
    }

    private static float dot(float[] w, int wOff, float[] x, int xOff, int cols) {
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(cols);
        int c = 0;
        for (; c < bound; c += L) {
            acc = FloatVector.fromArray(F, w, wOff + c).fma(FloatVector.fromArray(F, x, xOff + c), acc);
        }
        float s = Lanes.sum(acc);
        for (int i = c; i < cols; i++) {
            s += w[wOff + i] * x[xOff + i];
        }
        return s;
    }
}
