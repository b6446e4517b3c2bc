package dev.taipan.tensor;

import java.util.Objects;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels: each method is the SIMD form of the same method in {@link ScalarKernels}
 * (main loop by vector width, scalar tail) and follows the same ggml-cpu formulas. Elementwise ops
 * that need no transcendental function (add, mul, scale, axpy, relu², rope, the norms' final
 * scaling) and those built on {@link Exp} (silu, siluMul, gelu, softmax's exponentials) round exactly
 * as the scalar twin; dot and the norms' and softmax's sums add in a different order.
 */
final class VectorKernels implements Kernels {
    static final VectorKernels INSTANCE = new VectorKernels();

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, S.vectorShape());
    private static final int L = S.length();
    private static final int PARTS = L / D.length();
    private static final float GELU_COEF_A = 0.044715f;
    /** {@code -2 sqrt(2 / pi)}: GELU's {@code 0.5 v (1 + tanh(u))} is {@code v / (1 + e^(-2u))}. */
    private static final float MINUS_2_SQRT_2_OVER_PI = -1.5957691216057307f;
    /** Swaps the lanes of each adjacent pair: (x0, x1, x2, x3, …) -> (x1, x0, x3, x2, …). */
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(S, i -> i ^ 1);
    /** Per-thread cos/sin scratch of {@link #rope}, grown on demand. */
    private static final ThreadLocal<float[][]> ROPE_SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private VectorKernels() {
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc0 = FloatVector.zero(S);
        FloatVector acc1 = FloatVector.zero(S);
        FloatVector acc2 = FloatVector.zero(S);
        FloatVector acc3 = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            acc0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), acc1);
            acc2 = FloatVector.fromArray(S, a, aOff + i + 2 * L)
                    .fma(FloatVector.fromArray(S, b, bOff + i + 2 * L), acc2);
            acc3 = FloatVector.fromArray(S, a, aOff + i + 3 * L)
                    .fma(FloatVector.fromArray(S, b, bOff + i + 3 * L), acc3);
        }
        for (; i <= n - L; i += L) {
            acc0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc0);
        }
        float sum = Lanes.sum(acc0.add(acc1).add(acc2.add(acc3)));
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    @Override
    public void rmsnorm(float[] x, int off, float[] weight, float eps) {
        int n = weight.length;
        float s = rmsScale(x, off, n, eps);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, off + i).mul(s).mul(FloatVector.fromArray(S, weight, i))
                    .intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] = x[off + i] * s * weight[i];
        }
    }

    @Override
    public void rmsnormPlain(float[] x, int off, int n, float eps) {
        scale(x, off, n, rmsScale(x, off, n, eps));
    }

    private static float rmsScale(float[] x, int off, int n, float eps) {
        double ss = sumSquaresOfDifferences(x, off, n, 0f);
        float mean = (float) (ss / n);
        return 1f / (float) Math.sqrt(mean + eps);
    }

    /** {@code sum_i (double) ((x_i - m) * (x_i - m))}, the products rounded to float as in ggml. */
    private static double sumSquaresOfDifferences(float[] x, int off, int n, float m) {
        DoubleVector acc = DoubleVector.zero(D);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(m);
            acc = addAsDouble(acc, d.mul(d));
        }
        double sum = Lanes.sum(acc);
        for (; i < n; i++) {
            float d = x[off + i] - m;
            sum += d * d;
        }
        return sum;
    }

    private static DoubleVector addAsDouble(DoubleVector acc, FloatVector v) {
        for (int p = 0; p < PARTS; p++) {
            acc = ((DoubleVector) v.convertShape(VectorOperators.F2D, D, p)).add(acc);
        }
        return acc;
    }

    private static double sumAsDouble(float[] x, int off, int n) {
        DoubleVector acc = DoubleVector.zero(D);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = addAsDouble(acc, FloatVector.fromArray(S, x, off + i));
        }
        double sum = Lanes.sum(acc);
        for (; i < n; i++) {
            sum += x[off + i];
        }
        return sum;
    }

    @Override
    public void layernorm(float[] x, int off, LayerNormParams p) {
        float[] w = p.weight();
        float[] b = p.bias();
        int n = w.length;
        float m = (float) (sumAsDouble(x, off, n) / n);
        float variance = (float) (sumSquaresOfDifferences(x, off, n, m) / n);
        float s = 1f / (float) Math.sqrt(variance + p.eps());
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, off + i).sub(m).mul(s).mul(FloatVector.fromArray(S, w, i));
            if (b != null) {
                v = v.add(FloatVector.fromArray(S, b, i));
            }
            v.intoArray(x, off + i);
        }
        for (; i < n; i++) {
            float v = (x[off + i] - m) * s * w[i];
            x[off + i] = b == null ? v : v + b[i];
        }
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) {
            mv = FloatVector.fromArray(S, x, off + i).max(mv);
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        DoubleVector acc = DoubleVector.zero(D);
        i = 0;
        for (; i <= n - L; i += L) {
            FloatVector e = Exp.exp(FloatVector.fromArray(S, x, off + i).sub(max));
            e.intoArray(x, off + i);
            acc = addAsDouble(acc, e);
        }
        double sum = Lanes.sum(acc);
        for (; i < n; i++) {
            float e = Exp.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        scale(x, off, n, (float) (1.0 / sum));
    }

    @Override
    public void silu(float[] x, int off, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, off + i);
            siluOf(v).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            float v = x[off + i];
            x[off + i] = v / (1f + Exp.exp(-v));
        }
    }

    private static FloatVector siluOf(FloatVector v) {
        return v.div(Exp.exp(v.neg()).add(1f));
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, off + i);
            FloatVector inner = v.mul(MINUS_2_SQRT_2_OVER_PI).mul(v.mul(GELU_COEF_A).mul(v).add(1f));
            v.div(Exp.exp(inner).add(1f)).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            float v = x[off + i];
            x[off + i] = v / (1f + Exp.exp(MINUS_2_SQRT_2_OVER_PI * v * (1f + GELU_COEF_A * v * v)));
        }
    }

    @Override
    public void relu2(float[] x, int off, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, off + i).max(0f);
            v.mul(v).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            float v = Math.max(x[off + i], 0f);
            x[off + i] = v * v;
        }
    }

    @Override
    public void siluMul(float[] gate, int gateOff, float[] up, int upOff, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector g = FloatVector.fromArray(S, gate, gateOff + i);
            siluOf(g).mul(FloatVector.fromArray(S, up, upOff + i)).intoArray(gate, gateOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gateOff + i];
            gate[gateOff + i] = g / (1f + Exp.exp(-g)) * up[upOff + i];
        }
    }

    @Override
    public void add(float[] dst, int dstOff, float[] src, int srcOff, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, dst, dstOff + i).add(FloatVector.fromArray(S, src, srcOff + i))
                    .intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) {
            dst[dstOff + i] += src[srcOff + i];
        }
    }

    @Override
    public void mul(float[] dst, int dstOff, float[] src, int srcOff, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, dst, dstOff + i).mul(FloatVector.fromArray(S, src, srcOff + i))
                    .intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) {
            dst[dstOff + i] *= src[srcOff + i];
        }
    }

    @Override
    public void scale(float[] x, int off, int n, float s) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, off + i).mul(s).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= s;
        }
    }

    @Override
    public void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, y, yOff + i).add(FloatVector.fromArray(S, x, xOff + i).mul(a))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    /**
     * Four vectors of {@link #L} positions at a time (four tiles with AVX-512), every head in turn
     * over them while they are in cache: per key value one load per vector, one broadcast of the
     * query value and four FMAs, four independent chains. A block's vectors past the last position
     * repeat its first and are not stored; vectors partly outside {@code [first, first + count)} are
     * stored lane by lane.
     */
    @Override
    public void scoreTiles(float[] q, int qOff, int heads, float[] kt, int ktOff, int first, int count, int n, float scale,
            float[] out, int outOff, int outStride) {
        Kernels.checkScoreTiles(q, qOff, heads, kt, ktOff, first, count, n, out, outOff, outStride);
        if (KEY_TILE % L != 0) {
            ScalarKernels.INSTANCE.scoreTiles(q, qOff, heads, kt, ktOff, first, count, n, scale, out, outOff, outStride);
            return;
        }
        int end = first + count;
        float[] lanes = new float[L];
        for (int p0 = first / L * L; p0 < end; p0 += 4 * L) {
            int b0 = ktOff + Kernels.keyTileOffset(p0, n);
            int b1 = p0 + L < end ? ktOff + Kernels.keyTileOffset(p0 + L, n) : b0;
            int b2 = p0 + 2 * L < end ? ktOff + Kernels.keyTileOffset(p0 + 2 * L, n) : b0;
            int b3 = p0 + 3 * L < end ? ktOff + Kernels.keyTileOffset(p0 + 3 * L, n) : b0;
            for (int h = 0; h < heads; h++) {
                int qh = qOff + h * n;
                FloatVector a0 = FloatVector.zero(S);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                for (int d = 0, o = 0; d < n; d++, o += KEY_TILE) {
                    FloatVector qd = FloatVector.broadcast(S, q[qh + d]);
                    a0 = qd.fma(FloatVector.fromArray(S, kt, b0 + o), a0);
                    a1 = qd.fma(FloatVector.fromArray(S, kt, b1 + o), a1);
                    a2 = qd.fma(FloatVector.fromArray(S, kt, b2 + o), a2);
                    a3 = qd.fma(FloatVector.fromArray(S, kt, b3 + o), a3);
                }
                int o = outOff + h * outStride - first;
                if (p0 >= first && p0 + 4 * L <= end) {
                    a0.mul(scale).intoArray(out, o + p0);
                    a1.mul(scale).intoArray(out, o + p0 + L);
                    a2.mul(scale).intoArray(out, o + p0 + 2 * L);
                    a3.mul(scale).intoArray(out, o + p0 + 3 * L);
                } else {
                    storeScores(a0.mul(scale), p0, first, end, out, o, lanes);
                    storeScores(a1.mul(scale), p0 + L, first, end, out, o, lanes);
                    storeScores(a2.mul(scale), p0 + 2 * L, first, end, out, o, lanes);
                    storeScores(a3.mul(scale), p0 + 3 * L, first, end, out, o, lanes);
                }
            }
        }
    }

    /** Scores of positions {@code [p, p + L)} that lie in {@code [first, end)} to {@code out[o + position]}. */
    private static void storeScores(FloatVector v, int p, int first, int end, float[] out, int o, float[] lanes) {
        if (p >= first && p + L <= end) {
            v.intoArray(out, o + p);
        } else if (p < end) {
            v.intoArray(lanes, 0);
            for (int i = Math.max(p, first); i < Math.min(p + L, end); i++) {
                out[o + i] = lanes[i - p];
            }
        }
    }

    /**
     * {@link #axpy}'s operations element by element ({@code y + m * p}, lanes where axpy has lanes,
     * its scalar tail elsewhere), but each block of up to 8 vectors of {@code y} stays in registers
     * while the rows are added in order: 8 independent add chains instead of a load and store of
     * {@code y} per row.
     */
    @Override
    public void axpyRows(float[] y, int yOff, float[] p, int pOff, float[] m, int mOff, int rows, int n) {
        Objects.checkFromIndexSize(pOff, rows, p.length);
        Objects.checkFromIndexSize(mOff, (long) rows * n, m.length);
        int i = 0;
        for (; i <= n - 8 * L; i += 8 * L) {
            int o = yOff + i;
            FloatVector y0 = FloatVector.fromArray(S, y, o);
            FloatVector y1 = FloatVector.fromArray(S, y, o + L);
            FloatVector y2 = FloatVector.fromArray(S, y, o + 2 * L);
            FloatVector y3 = FloatVector.fromArray(S, y, o + 3 * L);
            FloatVector y4 = FloatVector.fromArray(S, y, o + 4 * L);
            FloatVector y5 = FloatVector.fromArray(S, y, o + 5 * L);
            FloatVector y6 = FloatVector.fromArray(S, y, o + 6 * L);
            FloatVector y7 = FloatVector.fromArray(S, y, o + 7 * L);
            for (int r = 0, b = mOff + i; r < rows; r++, b += n) {
                float pr = p[pOff + r];
                y0 = FloatVector.fromArray(S, m, b).mul(pr).add(y0);
                y1 = FloatVector.fromArray(S, m, b + L).mul(pr).add(y1);
                y2 = FloatVector.fromArray(S, m, b + 2 * L).mul(pr).add(y2);
                y3 = FloatVector.fromArray(S, m, b + 3 * L).mul(pr).add(y3);
                y4 = FloatVector.fromArray(S, m, b + 4 * L).mul(pr).add(y4);
                y5 = FloatVector.fromArray(S, m, b + 5 * L).mul(pr).add(y5);
                y6 = FloatVector.fromArray(S, m, b + 6 * L).mul(pr).add(y6);
                y7 = FloatVector.fromArray(S, m, b + 7 * L).mul(pr).add(y7);
            }
            y0.intoArray(y, o);
            y1.intoArray(y, o + L);
            y2.intoArray(y, o + 2 * L);
            y3.intoArray(y, o + 3 * L);
            y4.intoArray(y, o + 4 * L);
            y5.intoArray(y, o + 5 * L);
            y6.intoArray(y, o + 6 * L);
            y7.intoArray(y, o + 7 * L);
        }
        for (; i <= n - L; i += L) {
            FloatVector y0 = FloatVector.fromArray(S, y, yOff + i);
            for (int r = 0, b = mOff + i; r < rows; r++, b += n) {
                y0 = FloatVector.fromArray(S, m, b).mul(p[pOff + r]).add(y0);
            }
            y0.intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            float acc = y[yOff + i];
            for (int r = 0, b = mOff + i; r < rows; r++, b += n) {
                acc += p[pOff + r] * m[b];
            }
            y[yOff + i] = acc;
        }
    }

    /** {@link #scale}, {@link #axpy} and {@link #dot}'s lanes and accumulators, fused: the same floats. */
    @Override
    public float decayAxpyDot(float[] h, int hOff, float decay, float a, float[] b, int bOff, float[] c, int cOff, int n) {
        FloatVector acc0 = FloatVector.zero(S);
        FloatVector acc1 = FloatVector.zero(S);
        FloatVector acc2 = FloatVector.zero(S);
        FloatVector acc3 = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            FloatVector v0 = FloatVector.fromArray(S, h, hOff + i).mul(decay)
                    .add(FloatVector.fromArray(S, b, bOff + i).mul(a));
            FloatVector v1 = FloatVector.fromArray(S, h, hOff + i + L).mul(decay)
                    .add(FloatVector.fromArray(S, b, bOff + i + L).mul(a));
            FloatVector v2 = FloatVector.fromArray(S, h, hOff + i + 2 * L).mul(decay)
                    .add(FloatVector.fromArray(S, b, bOff + i + 2 * L).mul(a));
            FloatVector v3 = FloatVector.fromArray(S, h, hOff + i + 3 * L).mul(decay)
                    .add(FloatVector.fromArray(S, b, bOff + i + 3 * L).mul(a));
            v0.intoArray(h, hOff + i);
            v1.intoArray(h, hOff + i + L);
            v2.intoArray(h, hOff + i + 2 * L);
            v3.intoArray(h, hOff + i + 3 * L);
            acc0 = v0.fma(FloatVector.fromArray(S, c, cOff + i), acc0);
            acc1 = v1.fma(FloatVector.fromArray(S, c, cOff + i + L), acc1);
            acc2 = v2.fma(FloatVector.fromArray(S, c, cOff + i + 2 * L), acc2);
            acc3 = v3.fma(FloatVector.fromArray(S, c, cOff + i + 3 * L), acc3);
        }
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(S, h, hOff + i).mul(decay)
                    .add(FloatVector.fromArray(S, b, bOff + i).mul(a));
            v.intoArray(h, hOff + i);
            acc0 = v.fma(FloatVector.fromArray(S, c, cOff + i), acc0);
        }
        float sum = Lanes.sum(acc0.add(acc1).add(acc2.add(acc3)));
        for (; i < n; i++) {
            float v = h[hOff + i] * decay + a * b[bOff + i];
            h[hOff + i] = v;
            sum += v * c[cOff + i];
        }
        return sum;
    }

    @Override
    public void rope(float[] x, int off, int nHeads, int pos, Rope rope) {
        int half = rope.nRot() / 2;
        float[][] scratch = ROPE_SCRATCH.get();
        if (scratch[0].length < rope.nRot()) {
            scratch[0] = new float[rope.nRot()];
            scratch[1] = new float[rope.nRot()];
        }
        float[] cos = scratch[0];
        float[] sin = scratch[1];
        rope.angles(pos, cos, sin);
        if (rope.layout() == Rope.Layout.NEOX) {
            for (int h = 0; h < nHeads; h++) {
                ropeNeox(x, off + h * rope.headDim(), half, cos, sin);
            }
        } else {
            // Spread pair i's angle over lanes 2i and 2i+1, with the sign of sin that each lane needs.
            for (int i = half - 1; i >= 0; i--) {
                cos[2 * i + 1] = cos[i];
                cos[2 * i] = cos[i];
                sin[2 * i + 1] = sin[i];
                sin[2 * i] = -sin[i];
            }
            for (int h = 0; h < nHeads; h++) {
                ropeNormal(x, off + h * rope.headDim(), rope.nRot(), cos, sin);
            }
        }
    }

    private static void ropeNeox(float[] x, int base, int half, float[] cos, float[] sin) {
        int i = 0;
        for (; i <= half - L; i += L) {
            FloatVector x0 = FloatVector.fromArray(S, x, base + i);
            FloatVector x1 = FloatVector.fromArray(S, x, base + half + i);
            FloatVector c = FloatVector.fromArray(S, cos, i);
            FloatVector s = FloatVector.fromArray(S, sin, i);
            x0.mul(c).sub(x1.mul(s)).intoArray(x, base + i);
            x0.mul(s).add(x1.mul(c)).intoArray(x, base + half + i);
        }
        for (; i < half; i++) {
            float x0 = x[base + i];
            float x1 = x[base + half + i];
            x[base + i] = x0 * cos[i] - x1 * sin[i];
            x[base + half + i] = x0 * sin[i] + x1 * cos[i];
        }
    }

    /** Adjacent pairs; {@code cos}/{@code sin} are spread per lane (sin negated on even lanes). */
    private static void ropeNormal(float[] x, int base, int nRot, float[] cos, float[] sinSigned) {
        int j = 0;
        for (; j <= nRot - L; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, base + j);
            FloatVector swapped = v.rearrange(SWAP_PAIRS);
            v.mul(FloatVector.fromArray(S, cos, j)).add(swapped.mul(FloatVector.fromArray(S, sinSigned, j)))
                    .intoArray(x, base + j);
        }
        for (; j < nRot; j += 2) {
            float x0 = x[base + j];
            float x1 = x[base + j + 1];
            float c = cos[j];
            float s = sinSigned[j + 1];
            x[base + j] = x0 * c - x1 * s;
            x[base + j + 1] = x0 * s + x1 * c;
        }
    }

    @Override
    public int argmax(float[] x, int off, int n) {
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) {
            mv = FloatVector.fromArray(S, x, off + i).max(mv);
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        if (max != max) {
            return ScalarKernels.INSTANCE.argmax(x, off, n);
        }
        i = 0;
        for (; i <= n - L; i += L) {
            VectorMask<Float> hit = FloatVector.fromArray(S, x, off + i).compare(VectorOperators.EQ, max);
            if (hit.anyTrue()) {
                return i + hit.firstTrue();
            }
        }
        for (; i < n; i++) {
            if (x[off + i] == max) {
                return i;
            }
        }
        return 0;
    }

    @Override
    public void topK(float[] x, int off, int n, int[] outIdx, int k) {
        ScalarKernels.checkTopK(n, outIdx, k);
        if (k == 0) {
            return;
        }
        int count = 0;
        int i = 0;
        while (i < n) {
            // Once the list is full, skip whole vectors holding nothing above its last entry.
            if (count == k && i <= n - L) {
                float threshold = ScalarKernels.key(x[off + outIdx[k - 1]]);
                if (!FloatVector.fromArray(S, x, off + i).compare(VectorOperators.GT, threshold).anyTrue()) {
                    i += L;
                    continue;
                }
                for (int end = i + L; i < end; i++) {
                    count = ScalarKernels.insertTopK(x, off, i, outIdx, count, k);
                }
            } else {
                count = ScalarKernels.insertTopK(x, off, i, outIdx, count, k);
                i++;
            }
        }
    }
}
