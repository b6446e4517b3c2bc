package dev.taipan.ssm.mamba1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Shape;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Mamba1Mixer} against a naive double-precision transcription of llama.cpp's
 * build_mamba_layer + ggml_ssm_conv + ggml_ssm_scan (Mamba-1 branch), with weighted, unweighted
 * and no dt/B/C norms; prefill against one-token steps; Vector API against scalar kernels; the
 * state's fixed size. Odd sizes (dState 7, dtRank 3, dInner 22) hit the kernels' tails.
 */
class Mamba1MixerTest {
    private static final Parallel PAR = Parallel.create(3);
    private static final Mamba1Config CFG = new Mamba1Config(11, 22, 7, 3, 4, 1e-5f);

    @AfterAll
    static void close() {
        PAR.close();
    }

    static Mamba1Weights randomWeights(Mamba1Config c, long seed, Mamba1Weights.Norms norms) {
        Random r = new Random(seed);
        int di = c.dInner();
        F32Tensor in = F32Tensor.of("blk.0.ssm_in.weight", Shape.of(2L * di, c.dim()),
                gauss(r, 2 * di * c.dim(), 1 / Math.sqrt(c.dim())));
        F32Tensor xProj = F32Tensor.of("blk.0.ssm_x.weight", Shape.of(c.xProjDim(), di),
                gauss(r, c.xProjDim() * di, 1 / Math.sqrt(di)));
        F32Tensor dtProj = F32Tensor.of("blk.0.ssm_dt.weight", Shape.of(di, c.dtRank()),
                gauss(r, di * c.dtRank(), 1 / Math.sqrt(c.dtRank())));
        F32Tensor out = F32Tensor.of("blk.0.ssm_out.weight", Shape.of(c.dim(), di), gauss(r, c.dim() * di, 1 / Math.sqrt(di)));
        float[] a = new float[di * c.dState()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) -Math.exp(r.nextGaussian() * 0.5);
        }
        return new Mamba1Weights(in, gauss(r, di * c.dConv(), 0.5), gauss(r, di, 0.1), xProj, dtProj,
                gauss(r, di, 0.5), a, gauss(r, di, 1), norms, out);
    }

    static Mamba1Weights.Norms weighted(Mamba1Config c, long seed) {
        Random r = new Random(seed);
        return new Mamba1Weights.Norms(gauss(r, c.dtRank(), 1), gauss(r, c.dState(), 1), gauss(r, c.dState(), 1));
    }

    static float[] gauss(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    private static float[] run(Mamba1Mixer m, float[] x, int nTokens, int batch) {
        Mamba1State st = m.newState(new SessionLimits(batch, 4096));
        int dim = m.config().dim();
        float[] out = new float[nTokens * dim];
        float[] xb = new float[batch * dim];
        float[] ob = new float[batch * dim];
        for (int t = 0; t < nTokens; t += batch) {
            int n = Math.min(batch, nTokens - t);
            System.arraycopy(x, t * dim, xb, 0, n * dim);
            m.forward(ob, xb, n, st);
            System.arraycopy(ob, 0, out, t * dim, n * dim);
        }
        return out;
    }

    @Test
    void matchesNaiveReference() {
        Mamba1Weights.Norms[] variants = {weighted(CFG, 11), Mamba1Weights.Norms.UNWEIGHTED, null};
        for (Mamba1Weights.Norms norms : variants) {
            Mamba1Weights w = randomWeights(CFG, 7, norms);
            float[] x = gauss(new Random(1), 13 * CFG.dim(), 1);
            double[] expected = naive(CFG, w, x, 13);
            float[] got = run(new Mamba1Mixer(CFG, w, Kernels.vector(), PAR), x, 13, 13);
            for (int i = 0; i < got.length; i++) {
                assertEquals(expected[i], got[i], 2e-5 * Math.max(1, Math.abs(expected[i])), "output " + i);
            }
        }
    }

    @Test
    void prefillEqualsStepAndChunks() {
        Mamba1Mixer m = new Mamba1Mixer(CFG, randomWeights(CFG, 3, weighted(CFG, 4)), Kernels.vector(), PAR);
        float[] x = gauss(new Random(2), 17 * CFG.dim(), 1);
        float[] batch = run(m, x, 17, 17);
        assertClose(batch, run(m, x, 17, 1), 1e-5f);
        assertClose(batch, run(m, x, 17, 5), 1e-5f);
    }

    @Test
    void vectorAndScalarKernelsAgree() {
        Mamba1Weights w = randomWeights(CFG, 5, weighted(CFG, 6));
        float[] x = gauss(new Random(4), 9 * CFG.dim(), 1);
        float[] vec = run(new Mamba1Mixer(CFG, w, Kernels.vector(), PAR), x, 9, 4);
        float[] sca = run(new Mamba1Mixer(CFG, w, Kernels.scalar(), Parallel.create(1)), x, 9, 4);
        assertClose(sca, vec, 1e-5f);
    }

    @Test
    void stateHasFixedSize() {
        Mamba1Mixer m = new Mamba1Mixer(CFG, randomWeights(CFG, 6, null), Kernels.vector(), PAR);
        Mamba1State st = m.newState(new SessionLimits(8, 100_000));
        long expected = 4L * (CFG.dInner() * (CFG.dConv() - 1) + CFG.dInner() * CFG.dState());
        float[] x = gauss(new Random(8), 8 * CFG.dim(), 1);
        float[] out = new float[8 * CFG.dim()];
        feed(m, st, x, out, 10);
        assertEquals(expected, st.cacheBytes());
        int convLen = st.convState().length;
        int ssmLen = st.ssmState().length;
        feed(m, st, x, out, 990);
        assertEquals(expected, st.cacheBytes());
        assertEquals(convLen, st.convState().length);
        assertEquals(ssmLen, st.ssmState().length);
        for (float v : out) {
            assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void rejectsBadShapesAndForeignState() {
        Mamba1Weights w = randomWeights(CFG, 1, null);
        Mamba1Weights bad = new Mamba1Weights(w.inProj(), w.conv(), w.convBias(), w.xProj(), w.dtProj(), w.dtBias(),
                new float[3], w.d(), null, w.outProj());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Mamba1Mixer(CFG, bad, Kernels.vector(), PAR));
        assertTrue(e.getMessage().contains("A has 3"), e.getMessage());
        Mamba1Mixer a = new Mamba1Mixer(CFG, w, Kernels.vector(), PAR);
        Mamba1Mixer b = new Mamba1Mixer(CFG, w, Kernels.vector(), PAR);
        Mamba1State st = b.newState(new SessionLimits(1, 8));
        float[] x = new float[2 * CFG.dim()];
        float[] out = new float[2 * CFG.dim()];
        assertThrows(IllegalArgumentException.class, () -> a.forward(out, x, 1, st));
        assertThrows(IllegalArgumentException.class, () -> b.forward(out, x, 2, st));
    }

    private static void feed(Mamba1Mixer m, Mamba1State st, float[] x, float[] out, int tokens) {
        for (int t = 0; t < tokens; t += 8) {
            m.forward(out, x, Math.min(8, tokens - t), st);
        }
    }

    static void assertClose(float[] expected, float[] actual, float rel) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], rel * Math.max(1, Math.abs(expected[i])), "element " + i);
        }
    }

    private static double[] matvec(dev.taipan.tensor.Tensor w, double[] x) {
        int cols = w.cols();
        double[] y = new double[(int) w.rows()];
        for (int r = 0; r < y.length; r++) {
            for (int k = 0; k < cols; k++) {
                y[r] += w.get((long) r * cols + k) * x[k];
            }
        }
        return y;
    }

    private static void rms(double[] v, int off, int n, float[] weight, double eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += v[off + i] * v[off + i];
        }
        double scale = 1 / Math.sqrt(ss / n + eps);
        for (int i = 0; i < n; i++) {
            v[off + i] *= scale * (weight == null ? 1 : weight[i]);
        }
    }

    /** Direct double-precision transcription of the reference equations, no kernels. */
    static double[] naive(Mamba1Config c, Mamba1Weights w, float[] u, int n) {
        int dim = c.dim();
        int di = c.dInner();
        int ns = c.dState();
        int k = c.dConv();
        double[][] hist = new double[di][k - 1];
        double[][] h = new double[di][ns];
        double[] out = new double[n * dim];
        for (int t = 0; t < n; t++) {
            double[] in = new double[dim];
            for (int i = 0; i < dim; i++) {
                in[i] = u[t * dim + i];
            }
            double[] xz = matvec(w.inProj(), in);
            double[] x = new double[di];
            for (int ch = 0; ch < di; ch++) {
                double acc = 0;
                for (int i = 0; i < k; i++) {
                    acc += (i < k - 1 ? hist[ch][i] : xz[ch]) * w.conv()[ch * k + i];
                }
                System.arraycopy(hist[ch], 1, hist[ch], 0, k - 2);
                hist[ch][k - 2] = xz[ch];
                acc += w.convBias()[ch];
                x[ch] = acc / (1 + Math.exp(-acc));
            }
            double[] xdb = matvec(w.xProj(), x);
            if (w.norms() != null) {
                rms(xdb, 0, c.dtRank(), w.norms().dt(), c.normEps());
                rms(xdb, c.dtRank(), ns, w.norms().b(), c.normEps());
                rms(xdb, c.dtRank() + ns, ns, w.norms().c(), c.normEps());
            }
            double[] dt = matvec(w.dtProj(), java.util.Arrays.copyOf(xdb, c.dtRank()));
            double[] y = new double[di];
            for (int ch = 0; ch < di; ch++) {
                double raw = dt[ch] + w.dtBias()[ch];
                double d = raw > 20 ? raw : Math.log1p(Math.exp(raw));
                double acc = 0;
                for (int s = 0; s < ns; s++) {
                    h[ch][s] = h[ch][s] * Math.exp(d * w.a()[ch * ns + s]) + xdb[c.dtRank() + s] * x[ch] * d;
                    acc += h[ch][s] * xdb[c.dtRank() + ns + s];
                }
                double z = xz[di + ch];
                y[ch] = (acc + w.d()[ch] * x[ch]) * z / (1 + Math.exp(-z));
            }
            double[] o = matvec(w.outProj(), y);
            System.arraycopy(o, 0, out, t * dim, dim);
        }
        return out;
    }
}
