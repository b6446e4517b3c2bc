package dev.taipan.moe;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Independent double-precision reference of a sparse MoE layer, written for the tests from the
 * steps of llama.cpp's build_moe_ffn and the Qwen2-MoE / Granite shared expert: no kernels, no
 * grouping, every token on its own.
 */
final class NaiveMoe {
    private NaiveMoe() {
    }

    /** Raw weights, row-major: experts (nExpert, ff, dim) and (nExpert, dim, ff). */
    record Raw(int dim, int ff, int nExpert, float[] router, float[] bias, float[] gate, float[] up,
               float[] down, int sharedFf, float[] sharedGateW, float[] sharedUp, float[] sharedDown,
               float[] sharedGateInp) {
    }

    /** The result: output rows and each token's chosen experts (best first). */
    record Result(double[][] out, int[][] selected) {
    }

    static Result run(MoeConfig c, Raw w, float[] x, int nTokens) {
        int dim = w.dim();
        int nE = w.nExpert();
        int k = c.nExpertUsed();
        double[][] out = new double[nTokens][];
        int[][] chosen = new int[nTokens][];
        for (int t = 0; t < nTokens; t++) {
            double[] xt = new double[dim];
            for (int i = 0; i < dim; i++) {
                xt[i] = x[t * dim + i];
            }
            double[] logits = matvec(w.router(), 0, nE, dim, xt);
            double[] p = switch (c.gating()) {
                case SOFTMAX -> softmax(logits);
                case SIGMOID -> Arrays.stream(logits).map(v -> 1 / (1 + Math.exp(-v))).toArray();
                case SOFTMAX_WEIGHT -> logits.clone();
            };
            double[] sel = p.clone();
            if (w.bias() != null) {
                for (int e = 0; e < nE; e++) {
                    sel[e] += w.bias()[e];
                }
            }
            if (c.grouped()) {
                int per = nE / c.nGroup();
                double[] score = new double[c.nGroup()];
                for (int g = 0; g < c.nGroup(); g++) {
                    double[] grp = Arrays.copyOfRange(sel, g * per, (g + 1) * per);
                    Arrays.sort(grp);
                    score[g] = grp[per - 1] + grp[per - 2];
                }
                int[] keep = best(score, c.topkGroup());
                for (int g = 0; g < c.nGroup(); g++) {
                    final int gg = g;
                    if (IntStream.of(keep).noneMatch(v -> v == gg)) {
                        Arrays.fill(sel, g * per, (g + 1) * per, Double.NEGATIVE_INFINITY);
                    }
                }
            }
            int[] idx = best(sel, k);
            double[] wt = new double[k];
            for (int j = 0; j < k; j++) {
                wt[j] = p[idx[j]];
            }
            if (c.gating() == Gating.SOFTMAX_WEIGHT) {
                wt = softmax(wt);
            }
            if (c.renormalize()) {
                double sum = Math.max(Arrays.stream(wt).sum(), 6.103515625e-5);
                for (int j = 0; j < k; j++) {
                    wt[j] /= sum;
                }
            }
            if (c.weightScale() != 0 && c.weightScale() != 1) {
                for (int j = 0; j < k; j++) {
                    wt[j] *= c.weightScale();
                }
            }
            double[] o = new double[dim];
            for (int j = 0; j < k; j++) {
                int e = idx[j];
                double[] y = ffn(c.activation(), w.gate(), w.up(), w.down(), e * w.ff() * dim, w.ff(), dim, xt);
                for (int i = 0; i < dim; i++) {
                    o[i] += wt[j] * y[i];
                }
            }
            if (w.sharedUp() != null) {
                double[] y = ffn(c.activation(), w.sharedGateW(), w.sharedUp(), w.sharedDown(), 0, w.sharedFf(), dim, xt);
                double g = 1;
                if (w.sharedGateInp() != null) {
                    g = 1 / (1 + Math.exp(-matvec(w.sharedGateInp(), 0, 1, dim, xt)[0]));
                }
                for (int i = 0; i < dim; i++) {
                    o[i] += g * y[i];
                }
            }
            out[t] = o;
            chosen[t] = idx;
        }
        return new Result(out, chosen);
    }

    /** down(act(gate x, up x)) for matrices starting at {@code off} (same offset for all three). */
    static double[] ffn(FfnActivation act, float[] gate, float[] up, float[] down, int off, int ff, int dim,
                        double[] x) {
        double[] u = matvec(up, off, ff, dim, x);
        double[] g = gate == null ? null : matvec(gate, off, ff, dim, x);
        double[] h = new double[ff];
        for (int i = 0; i < ff; i++) {
            h[i] = switch (act) {
                case SWIGLU -> g[i] / (1 + Math.exp(-g[i])) * u[i];
                case GEGLU -> 0.5 * g[i] * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * g[i] * (1 + 0.044715 * g[i] * g[i])))
                        * u[i];
                case RELU2 -> Math.max(u[i], 0) * Math.max(u[i], 0);
            };
        }
        return matvec(down, off, dim, ff, h);
    }

    static double[] matvec(float[] w, int off, int rows, int cols, double[] x) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double acc = 0;
            for (int i = 0; i < cols; i++) {
                acc += w[off + r * cols + i] * x[i];
            }
            y[r] = acc;
        }
        return y;
    }

    private static double[] softmax(double[] v) {
        double max = Arrays.stream(v).max().orElseThrow();
        double[] e = Arrays.stream(v).map(a -> Math.exp(a - max)).toArray();
        double sum = Arrays.stream(e).sum();
        return Arrays.stream(e).map(a -> a / sum).toArray();
    }

    /** Indices of the k largest values, largest first, lower index first on ties. */
    private static int[] best(double[] v, int k) {
        return IntStream.range(0, v.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -v[i]).thenComparingInt(i -> i))
                .limit(k).mapToInt(Integer::intValue).toArray();
    }
}
