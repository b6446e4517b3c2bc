package dev.taipan.ssm.mamba3;

/**
 * Test oracle: a float64, one-token-at-a-time transcription of mamba3_siso_step_ref /
 * mamba3_MIMO_step_ref (state-spaces/mamba e9594ce1, tests/ops/triton/test_mamba3_siso.py and
 * tests/ops/tilelang/test_mamba3_mimo.py) with the preprocessing of Mamba3.step and _postprocess
 * (mamba_ssm/modules/mamba3.py). Written loop by loop, with no shared code with the mixer.
 */
final class Mamba3Reference {
    final Mamba3Config c;
    final RandomMamba3.Params w;
    final double[] angle;   // (H, S)
    final double[] h;       // (H, P, N)
    final double[] kPrev;   // (H, R, N)
    final double[] xPrev;   // (H, P)

    Mamba3Reference(Mamba3Config c, RandomMamba3.Params w) {
        this.c = c;
        this.w = w;
        angle = new double[c.nHeads() * c.nAngles()];
        h = new double[c.nHeads() * c.headDim() * c.dState()];
        kPrev = new double[c.nHeads() * c.mimoRank() * c.dState()];
        xPrev = new double[c.nHeads() * c.headDim()];
    }

    /** Output (dModel) for one input row u (dModel). */
    double[] step(float[] u, int uOff) {
        int dm = c.dModel();
        int nH = c.nHeads();
        int n = c.dState();
        int p = c.headDim();
        int r = c.mimoRank();
        int g = c.nGroups();
        int di = c.dInner();
        int rows = c.dInProj();
        double[] proj = new double[rows];
        for (int i = 0; i < rows; i++) {
            double s = 0;
            for (int j = 0; j < dm; j++) {
                s += (double) w.inProj()[i * dm + j] * u[uOff + j];
            }
            proj[i] = s;
        }
        int oB = 2 * di;
        int oC = oB + r * g * n;
        int oDt = oC + r * g * n;
        int oA = oDt + nH;
        int oTrap = oA + nH;
        int oAng = oTrap + nH;
        // RMSNorm of each (r, g) block of B and C
        for (int blk = 0; blk < r * g; blk++) {
            rms(proj, oB + blk * n, n, w.bNorm());
            rms(proj, oC + blk * n, n, w.cNorm());
        }
        double[] o = new double[di];
        int nAng = c.nAngles();
        for (int hd = 0; hd < nH; hd++) {
            double dt = softplus(proj[oDt + hd] + w.dtBias()[hd]);
            double fa = c.aActivation() == Mamba3Config.AActivation.SOFTPLUS ? softplus(proj[oA + hd])
                    : (proj[oA + hd] >= 0 ? 1 + proj[oA + hd] : 1 / (1 - proj[oA + hd]));
            double a = -Math.max(fa, c.aFloor());
            double lam = 1 / (1 + Math.exp(-proj[oTrap + hd]));
            double[] cos = new double[nAng];
            double[] sin = new double[nAng];
            for (int i = 0; i < nAng; i++) {
                double th = angle[hd * nAng + i] + Math.tanh(proj[oAng + i]) * dt * Math.PI;
                th -= 2 * Math.PI * Math.floor(th / (2 * Math.PI));
                angle[hd * nAng + i] = th;
                cos[i] = Math.cos(th);
                sin[i] = Math.sin(th);
            }
            int grp = hd / (nH / g);
            double[][] k = new double[r][n];
            double[][] q = new double[r][n];
            double[][] v = new double[r][p];
            double[][] vp = new double[r][p];
            for (int rk = 0; rk < r; rk++) {
                for (int i = 0; i < n; i++) {
                    k[rk][i] = proj[oB + (rk * g + grp) * n + i] + w.bBias()[(hd * r + rk) * n + i];
                    q[rk][i] = proj[oC + (rk * g + grp) * n + i] + w.cBias()[(hd * r + rk) * n + i];
                }
                rotate(k[rk], cos, sin);
                rotate(q[rk], cos, sin);
                for (int i = 0; i < p; i++) {
                    double mx = w.mimoX() == null ? 1 : w.mimoX()[(hd * r + rk) * p + i];
                    v[rk][i] = proj[di + hd * p + i] * mx;
                    vp[rk][i] = xPrev[hd * p + i] * mx;
                }
            }
            double alpha = Math.exp(a * dt);
            double beta = (1 - lam) * dt * alpha;
            double gamma = lam * dt;
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < n; j++) {
                    int idx = (hd * p + i) * n + j;
                    double s = alpha * h[idx];
                    for (int rk = 0; rk < r; rk++) {
                        s += beta * vp[rk][i] * kPrev[(hd * r + rk) * n + j] + gamma * v[rk][i] * k[rk][j];
                    }
                    h[idx] = s;
                }
            }
            for (int rk = 0; rk < r; rk++) {
                double[] y = new double[p];
                for (int i = 0; i < p; i++) {
                    double s = 0;
                    for (int j = 0; j < n; j++) {
                        s += h[(hd * p + i) * n + j] * q[rk][j];
                    }
                    y[i] = s + w.d()[hd] * v[rk][i];
                }
                if (w.outNorm() != null) {
                    double ss = 0;
                    for (double yi : y) {
                        ss += yi * yi;
                    }
                    double inv = 1 / Math.sqrt(ss / p + c.eps());
                    for (int i = 0; i < p; i++) {
                        y[i] = y[i] * inv * w.outNorm()[hd * p + i];
                    }
                }
                for (int i = 0; i < p; i++) {
                    double z = proj[hd * p + i] * (w.mimoZ() == null ? 1 : w.mimoZ()[(hd * r + rk) * p + i]);
                    double gated = y[i] * z / (1 + Math.exp(-z));
                    o[hd * p + i] += gated * (w.mimoO() == null ? 1 : w.mimoO()[(hd * r + rk) * p + i]);
                }
                System.arraycopy(k[rk], 0, kPrev, (hd * r + rk) * n, n);
            }
            for (int i = 0; i < p; i++) {
                xPrev[hd * p + i] = proj[di + hd * p + i];
            }
        }
        double[] out = new double[dm];
        for (int i = 0; i < dm; i++) {
            double s = 0;
            for (int j = 0; j < di; j++) {
                s += (double) w.outProj()[i * di + j] * o[j];
            }
            out[i] = s;
        }
        return out;
    }

    private void rotate(double[] u, double[] cos, double[] sin) {
        int n = u.length;
        for (int i = 0; i < cos.length; i++) {
            int a = c.variant() == Mamba3Config.Variant.SISO ? 2 * i : i;
            int b = c.variant() == Mamba3Config.Variant.SISO ? 2 * i + 1 : i + n / 2;
            double u0 = u[a];
            double u1 = u[b];
            u[a] = u0 * cos[i] - u1 * sin[i];
            u[b] = u0 * sin[i] + u1 * cos[i];
        }
    }

    private void rms(double[] x, int off, int n, float[] weight) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += x[off + i] * x[off + i];
        }
        double inv = 1 / Math.sqrt(ss / n + c.eps());
        for (int i = 0; i < n; i++) {
            x[off + i] = x[off + i] * inv * weight[i];
        }
    }

    private static double softplus(double x) {
        return x > 20 ? x : Math.log1p(Math.exp(x));
    }
}
