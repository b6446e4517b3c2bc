package dev.taipan.attention;

import dev.taipan.tensor.Rope;

/**
 * Independent double-precision reference of one attention layer, written from the formulas of
 * llama.cpp's build_attn_mha (softmax(scale * QK^T + mask) V) for the tests: no kernels, no cache,
 * every position recomputed. With {@code half} it rounds q, k, v and the softmax weights to F16 as
 * ggml does over an F16 cache.
 */
final class NaiveAttention {
    private NaiveAttention() {
    }

    /** Raw weights as float arrays, row-major, and the same optional parts as AttentionWeights. */
    record Raw(float[] wq, float[] wk, float[] wv, float[] wo, float[] bq, float[] bk, float[] bv,
               float[] bo, float[] qNorm, float[] kNorm) {
    }

    /** Output rows (nTokens, dim) for tokens at positions 0 .. nTokens-1. */
    static double[][] run(AttentionConfig c, Raw w, float[] x, int nTokens, boolean half) {
        int dim = c.dim();
        int hd = c.headDim();
        double[][] q = new double[nTokens][];
        double[][] k = new double[nTokens][];
        double[][] v = new double[nTokens][];
        for (int t = 0; t < nTokens; t++) {
            q[t] = matvec(w.wq(), c.qDim(), dim, x, t * dim, w.bq());
            k[t] = matvec(w.wk(), c.kvDim(), dim, x, t * dim, w.bk());
            v[t] = matvec(w.wv(), c.kvDim(), dim, x, t * dim, w.bv());
            if (w.qNorm() != null) {
                rmsNorm(q[t], w.qNorm(), c.qkNormEps());
                rmsNorm(k[t], w.kNorm(), c.qkNormEps());
            }
            if (c.rope() != null) {
                rope(q[t], c.nHeads(), t, c.rope());
                rope(k[t], c.nKvHeads(), t, c.rope());
            }
            if (half) {
                roundHalf(q[t]);
                roundHalf(k[t]);
                roundHalf(v[t]);
            }
        }
        double[][] out = new double[nTokens][];
        for (int t = 0; t < nTokens; t++) {
            double[] a = new double[c.qDim()];
            for (int h = 0; h < c.nHeads(); h++) {
                int g = h / (c.nHeads() / c.nKvHeads());
                double[] s = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= t; j++) {
                    boolean visible = c.slidingWindow() == 0 || t - j < c.slidingWindow();
                    if (!visible) {
                        s[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double dot = 0;
                    for (int d = 0; d < hd; d++) {
                        dot += q[t][h * hd + d] * k[j][g * hd + d];
                    }
                    s[j] = dot * c.scale();
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j <= t; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j <= t; j++) {
                    double p = s[j] / sum;
                    if (half) {
                        p = Float.float16ToFloat(Float.floatToFloat16((float) p));
                    }
                    for (int d = 0; d < hd; d++) {
                        a[h * hd + d] += p * v[j][g * hd + d];
                    }
                }
            }
            double[] o = new double[dim];
            for (int r = 0; r < dim; r++) {
                double acc = w.bo() == null ? 0 : w.bo()[r];
                for (int i = 0; i < c.qDim(); i++) {
                    acc += (double) w.wo()[r * c.qDim() + i] * a[i];
                }
                o[r] = acc;
            }
            out[t] = o;
        }
        return out;
    }

    private static double[] matvec(float[] w, int rows, int cols, float[] x, int xOff, float[] bias) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double acc = bias == null ? 0 : bias[r];
            for (int i = 0; i < cols; i++) {
                acc += (double) w[r * cols + i] * x[xOff + i];
            }
            y[r] = acc;
        }
        return y;
    }

    /** RMS norm over groups of weight.length values (per head or the whole vector). */
    private static void rmsNorm(double[] x, float[] weight, double eps) {
        int n = weight.length;
        for (int off = 0; off < x.length; off += n) {
            double ss = 0;
            for (int i = 0; i < n; i++) {
                ss += x[off + i] * x[off + i];
            }
            double s = 1.0 / Math.sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) {
                x[off + i] = x[off + i] * s * weight[i];
            }
        }
    }

    private static void rope(double[] x, int nHeads, int pos, Rope r) {
        int half = r.nRot() / 2;
        for (int h = 0; h < nHeads; h++) {
            int base = h * r.headDim();
            for (int i = 0; i < half; i++) {
                double theta = pos * (double) r.freqScale() * Math.pow(r.base(), -2.0 * i / r.nRot());
                int i0 = r.layout() == Rope.Layout.NORMAL ? base + 2 * i : base + i;
                int i1 = r.layout() == Rope.Layout.NORMAL ? i0 + 1 : i0 + half;
                double x0 = x[i0];
                double x1 = x[i1];
                x[i0] = x0 * Math.cos(theta) - x1 * Math.sin(theta);
                x[i1] = x0 * Math.sin(theta) + x1 * Math.cos(theta);
            }
        }
    }

    private static void roundHalf(double[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] = Float.float16ToFloat(Float.floatToFloat16((float) x[i]));
        }
    }
}
