package dev.taipan.tensor;

/**
 * Plain-Java twin of {@link VectorKernels}: the reference the vector kernels are tested against.
 * Formulas follow ggml-cpu (llama.cpp 34af94cd, ops.cpp and vec.h): norms accumulate in double and
 * compute their scale in float, softmax sums in double, RoPE uses ggml's angle recurrence
 * ({@link Rope#angles}). Exponentials come from {@link Exp} (the vector kernels' bits; GELU's tanh
 * written as a sigmoid of it). Selection (argmax, topK) orders NaN as negative infinity.
 */
final class ScalarKernels implements Kernels {
    static final ScalarKernels INSTANCE = new ScalarKernels();

    private static final float GELU_COEF_A = 0.044715f;
    /** {@code -2 sqrt(2 / pi)}: GELU's {@code 0.5 v (1 + tanh(u))} is {@code v / (1 + e^(-2u))}. */
    private static final float MINUS_2_SQRT_2_OVER_PI = -1.5957691216057307f;

    private ScalarKernels() {
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    @Override
    public void rmsnorm(float[] x, int off, float[] weight, float eps) {
        int n = weight.length;
        float s = rmsScale(x, off, n, eps);
        for (int i = 0; i < n; i++) {
            x[off + i] = x[off + i] * s * weight[i];
        }
    }

    @Override
    public void rmsnormPlain(float[] x, int off, int n, float eps) {
        float s = rmsScale(x, off, n, eps);
        for (int i = 0; i < n; i++) {
            x[off + i] *= s;
        }
    }

    private static float rmsScale(float[] x, int off, int n, float eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            ss += v * v;
        }
        float mean = (float) (ss / n);
        return 1f / (float) Math.sqrt(mean + eps);
    }

    @Override
    public void layernorm(float[] x, int off, LayerNormParams p) {
        int n = p.weight().length;
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += x[off + i];
        }
        float m = (float) (mean / n);
        double var = 0;
        for (int i = 0; i < n; i++) {
            float d = x[off + i] - m;
            var += d * d;
        }
        float variance = (float) (var / n);
        float s = 1f / (float) Math.sqrt(variance + p.eps());
        for (int i = 0; i < n; i++) {
            float v = (x[off + i] - m) * s * p.weight()[i];
            x[off + i] = p.bias() == null ? v : v + p.bias()[i];
        }
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = Exp.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    @Override
    public void silu(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            x[off + i] = v / (1f + Exp.exp(-v));
        }
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            x[off + i] = v / (1f + Exp.exp(MINUS_2_SQRT_2_OVER_PI * v * (1f + GELU_COEF_A * v * v)));
        }
    }

    @Override
    public void relu2(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) {
            float v = Math.max(x[off + i], 0f);
            x[off + i] = v * v;
        }
    }

    @Override
    public void siluMul(float[] gate, int gateOff, float[] up, int upOff, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[gateOff + i];
            gate[gateOff + i] = g / (1f + Exp.exp(-g)) * up[upOff + i];
        }
    }

    @Override
    public void add(float[] dst, int dstOff, float[] src, int srcOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] += src[srcOff + i];
        }
    }

    @Override
    public void mul(float[] dst, int dstOff, float[] src, int srcOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] *= src[srcOff + i];
        }
    }

    @Override
    public void scale(float[] x, int off, int n, float s) {
        for (int i = 0; i < n; i++) {
            x[off + i] *= s;
        }
    }

    @Override
    public void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    @Override
    public void scoreTiles(float[] q, int qOff, int heads, float[] kt, int ktOff, int first, int count, int n, float scale,
            float[] out, int outOff, int outStride) {
        Kernels.checkScoreTiles(q, qOff, heads, kt, ktOff, first, count, n, out, outOff, outStride);
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < count; j++) {
                int at = ktOff + Kernels.keyTileOffset(first + j, n);
                float acc = 0f;
                for (int d = 0; d < n; d++) {
                    acc = Math.fma(q[qOff + h * n + d], kt[at + d * KEY_TILE], acc);
                }
                out[outOff + h * outStride + j] = acc * scale;
            }
        }
    }

    @Override
    public void axpyRows(float[] y, int yOff, float[] p, int pOff, float[] m, int mOff, int rows, int n) {
        for (int r = 0; r < rows; r++) {
            axpy(y, yOff, p[pOff + r], m, mOff + r * n, n);
        }
    }

    @Override
    public float decayAxpyDot(float[] h, int hOff, float decay, float a, float[] b, int bOff, float[] c, int cOff, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float v = h[hOff + i] * decay + a * b[bOff + i];
            h[hOff + i] = v;
            sum += v * c[cOff + i];
        }
        return sum;
    }

    @Override
    public void rope(float[] x, int off, int nHeads, int pos, Rope rope) {
        int half = rope.nRot() / 2;
        float[] cos = new float[half];
        float[] sin = new float[half];
        rope.angles(pos, cos, sin);
        boolean normal = rope.layout() == Rope.Layout.NORMAL;
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * rope.headDim();
            for (int i = 0; i < half; i++) {
                int i0 = normal ? base + 2 * i : base + i;
                int i1 = normal ? i0 + 1 : i0 + half;
                float x0 = x[i0];
                float x1 = x[i1];
                x[i0] = x0 * cos[i] - x1 * sin[i];
                x[i1] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }

    @Override
    public int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (key(x[off + i]) > key(x[off + best])) {
                best = i;
            }
        }
        return best;
    }

    @Override
    public void topK(float[] x, int off, int n, int[] outIdx, int k) {
        checkTopK(n, outIdx, k);
        int count = 0;
        for (int i = 0; i < n; i++) {
            count = insertTopK(x, off, i, outIdx, count, k);
        }
    }

    static void checkTopK(int n, int[] outIdx, int k) {
        if (k < 0 || k > n || k > outIdx.length) {
            throw new IllegalArgumentException("topK: k=" + k + " must be in [0, min(n=" + n
                    + ", outIdx.length=" + outIdx.length + ")]");
        }
    }

    /** NaN orders as negative infinity in argmax and topK. */
    static float key(float v) {
        return v != v ? Float.NEGATIVE_INFINITY : v;
    }

    /**
     * Offers index {@code i} to the sorted list {@code idx[0..count)} of at most k entries (largest
     * first, earlier index first on ties); returns the new count.
     */
    static int insertTopK(float[] x, int off, int i, int[] idx, int count, int k) {
        float v = key(x[off + i]);
        if (count == k && (k == 0 || !(v > key(x[off + idx[k - 1]])))) {
            return count;
        }
        int j = count < k ? count++ : k - 1;
        while (j > 0 && v > key(x[off + idx[j - 1]])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
        return count;
    }
}
