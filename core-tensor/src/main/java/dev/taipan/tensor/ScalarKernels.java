package dev.taipan.tensor;

/** Plain-Java twin of {@link VectorKernels}: the reference the vector kernels are tested against. */
final class ScalarKernels implements Kernels {
    static final ScalarKernels INSTANCE = new ScalarKernels();

    private static final float GELU_COEF_A = 0.044715f;
    private static final float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f;

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
            ss += (double) x[off + i] * x[off + i];
        }
        return (float) (1.0 / Math.sqrt(ss / n + eps));
    }

    @Override
    public void layernorm(float[] x, int off, LayerNormParams p) {
        int n = p.weight().length;
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += x[off + i];
        }
        mean /= n;
        double var = 0;
        for (int i = 0; i < n; i++) {
            double d = x[off + i] - mean;
            var += d * d;
        }
        float s = (float) (1.0 / Math.sqrt(var / n + p.eps()));
        float m = (float) mean;
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
            float e = (float) Math.exp(x[off + i] - max);
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
            x[off + i] = v / (1f + (float) Math.exp(-v));
        }
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            x[off + i] = 0.5f * v * (1f + (float) Math.tanh(SQRT_2_OVER_PI * v * (1f + GELU_COEF_A * v * v)));
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
            gate[gateOff + i] = g / (1f + (float) Math.exp(-g)) * up[upOff + i];
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
    public void rope(float[] x, int off, int nHeads, int pos, Rope rope) {
        int half = rope.nRot() / 2;
        float p = pos * rope.freqScale();
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * rope.headDim();
            for (int i = 0; i < half; i++) {
                double theta = p * (double) rope.invFreq()[i];
                float c = (float) Math.cos(theta);
                float s = (float) Math.sin(theta);
                int i0 = rope.layout() == Rope.Layout.NORMAL ? base + 2 * i : base + i;
                int i1 = rope.layout() == Rope.Layout.NORMAL ? i0 + 1 : i0 + half;
                float x0 = x[i0];
                float x1 = x[i1];
                x[i0] = x0 * c - x1 * s;
                x[i1] = x0 * s + x1 * c;
            }
        }
    }

    @Override
    public int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[off + i] > x[off + best]) {
                best = i;
            }
        }
        return best;
    }

    @Override
    public void topK(float[] x, int off, int n, int[] outIdx, int k) {
        if (k > n) {
            throw new IllegalArgumentException("topK: k=" + k + " > n=" + n);
        }
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < n; i++) {
                if (!taken(outIdx, j, i) && (best < 0 || x[off + i] > x[off + best])) {
                    best = i;
                }
            }
            outIdx[j] = best;
        }
    }

    private static boolean taken(int[] idx, int count, int i) {
        for (int j = 0; j < count; j++) {
            if (idx[j] == i) {
                return true;
            }
        }
        return false;
    }
}
