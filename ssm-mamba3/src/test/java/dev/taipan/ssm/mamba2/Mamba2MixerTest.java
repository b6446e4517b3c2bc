package dev.taipan.ssm.mamba2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Shape;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Mamba2Mixer} against a naive double-precision transcription of llama.cpp's
 * build_mamba2_layer + ggml_ssm_conv + ggml_ssm_scan (below, one loop per equation), prefill
 * against one-token steps, Vector API against scalar kernels, and the state's fixed size.
 * Odd sizes (headDim 5, dState 7, 3 groups) hit the kernels' tails.
 */
class Mamba2MixerTest {
    private static final Parallel PAR = Parallel.create(3);
    // dim 11, dInner 30 = 6 heads x 5, dState 7, 3 groups, dConv 4
    private static final Mamba2Config CFG = new Mamba2Config(11, 30, 7, 6, 3, 4, 1e-5f);

    @AfterAll
    static void close() {
        PAR.close();
    }

    static Mamba2Weights randomWeights(Mamba2Config c, long seed, boolean withNorm) {
        return randomWeights(c, seed, withNorm, true);
    }

    static Mamba2Weights randomWeights(Mamba2Config c, long seed, boolean withNorm, boolean withConvBias) {
        Random r = new Random(seed);
        F32Tensor in = F32Tensor.of("blk.0.ssm_in.weight", Shape.of(c.inProjDim(), c.dim()),
                gauss(r, c.inProjDim() * c.dim(), 1 / Math.sqrt(c.dim())));
        F32Tensor out = F32Tensor.of("blk.0.ssm_out.weight", Shape.of(c.dim(), c.dInner()),
                gauss(r, c.dim() * c.dInner(), 1 / Math.sqrt(c.dInner())));
        float[] a = new float[c.nHeads()];
        for (int h = 0; h < a.length; h++) {
            a[h] = (float) -Math.exp(r.nextGaussian() * 0.5);
        }
        float[] convBias = gauss(r, c.convDim(), 0.1);
        return new Mamba2Weights(in, gauss(r, c.convDim() * c.dConv(), 0.5), withConvBias ? convBias : null,
                gauss(r, c.nHeads(), 0.5), a, gauss(r, c.nHeads(), 1), withNorm ? gauss(r, c.dInner(), 1) : null, out);
    }

    static float[] gauss(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    private static float[] run(Mamba2Mixer m, float[] x, int nTokens, int batch) {
        Mamba2State st = m.newState(new SessionLimits(batch, 4096));
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
        // one group per head, shortest kernel, no conv bias
        Mamba2Config small = new Mamba2Config(9, 12, 5, 4, 4, 2, 1e-6f);
        Object[][] cases = {{CFG, true, true}, {CFG, false, true}, {small, true, false}, {small, false, false}};
        for (Object[] k : cases) {
            Mamba2Config c = (Mamba2Config) k[0];
            Mamba2Weights w = randomWeights(c, 7, (Boolean) k[1], (Boolean) k[2]);
            float[] x = gauss(new Random(1), 13 * c.dim(), 1);
            double[] expected = Naive.run(c, w, x, 13);
            for (int batch : new int[] {13, 1}) {
                float[] got = run(new Mamba2Mixer(c, w, Kernels.vector(), PAR), x, 13, batch);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(expected[i], got[i], 2e-5 * Math.max(1, Math.abs(expected[i])), c + " output " + i);
                }
            }
        }
    }

    /**
     * Decode's one pass per token (each slice's projection rows, conv, scan and gate, the norm once,
     * the out-projection rows, chained by RunOnce units): the same floats, outputs and states, for 1,
     * 2 and 3 threads (one thread runs the slices' parts one after the other, so the first slice's
     * conv runs the second slice's xBC rows first), with several groups and with one.
     */
    @Test
    void decodeIsBitIdenticalForOneTwoAndThreeThreads() {
        Mamba2Config small = new Mamba2Config(9, 12, 5, 4, 4, 2, 1e-6f);
        try (Parallel one = Parallel.create(1); Parallel two = Parallel.create(2)) {
            for (Mamba2Config c : new Mamba2Config[] {CFG, small}) {
                Mamba2Weights w = randomWeights(c, 11, true);
                float[] x = gauss(new Random(12), 6 * c.dim(), 1);
                float[] expected = null;
                float[] expectedSsm = null;
                float[] expectedConv = null;
                for (Parallel par : new Parallel[] {one, two, PAR}) {
                    Mamba2Mixer m = new Mamba2Mixer(c, w, Kernels.vector(), par);
                    Mamba2State st = m.newState(new SessionLimits(1, 4096));
                    int dim = c.dim();
                    float[] out = new float[6 * dim];
                    float[] ot = new float[dim];
                    for (int t = 0; t < 6; t++) {
                        m.forward(ot, Arrays.copyOfRange(x, t * dim, (t + 1) * dim), 1, st);
                        System.arraycopy(ot, 0, out, t * dim, dim);
                    }
                    if (expected == null) {
                        expected = out;
                        expectedSsm = st.ssmState().clone();
                        expectedConv = st.convState().clone();
                    } else {
                        assertArrayEquals(expected, out, c + ", " + par.threads() + " threads");
                        String what = c + ", " + par.threads() + " threads";
                        assertArrayEquals(expectedSsm, st.ssmState(), "SSM state, " + what);
                        assertArrayEquals(expectedConv, st.convState(), "conv state, " + what);
                    }
                }
            }
        }
    }

    @Test
    void prefillEqualsStepAndChunks() {
        Mamba2Mixer m = new Mamba2Mixer(CFG, randomWeights(CFG, 3, true), Kernels.vector(), PAR);
        float[] x = gauss(new Random(2), 17 * CFG.dim(), 1);
        float[] batch = run(m, x, 17, 17);
        float[] step = run(m, x, 17, 1);
        float[] chunks = run(m, x, 17, 5);
        assertClose(batch, step, 1e-5f);
        assertClose(batch, chunks, 1e-5f);
    }

    @Test
    void vectorAndScalarKernelsAgree() {
        Mamba2Weights w = randomWeights(CFG, 5, true);
        float[] x = gauss(new Random(4), 9 * CFG.dim(), 1);
        float[] vec = run(new Mamba2Mixer(CFG, w, Kernels.vector(), PAR), x, 9, 4);
        float[] sca = run(new Mamba2Mixer(CFG, w, Kernels.scalar(), Parallel.create(1)), x, 9, 4);
        assertClose(sca, vec, 1e-5f);
    }

    @Test
    void stateHasFixedSize() {
        Mamba2Mixer m = new Mamba2Mixer(CFG, randomWeights(CFG, 6, true), Kernels.vector(), PAR);
        Mamba2State st = m.newState(new SessionLimits(8, 100_000));
        long expected = 4L * (CFG.convDim() * (CFG.dConv() - 1) + CFG.nHeads() * CFG.headDim() * CFG.dState());
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
    void resetForgetsTokens() {
        Mamba2Mixer m = new Mamba2Mixer(CFG, randomWeights(CFG, 9, true), Kernels.vector(), PAR);
        Mamba2State st = m.newState(new SessionLimits(4, 64));
        float[] x = gauss(new Random(10), 4 * CFG.dim(), 1);
        float[] first = new float[4 * CFG.dim()];
        float[] again = new float[4 * CFG.dim()];
        m.forward(first, x, 4, st);
        m.forward(again, x, 4, st);
        st.reset();
        m.forward(again, x, 4, st);
        assertArrayEquals(first, again);
    }

    @Test
    void rejectsForeignStateAndOversizedBatch() {
        Mamba2Mixer a = new Mamba2Mixer(CFG, randomWeights(CFG, 1, true), Kernels.vector(), PAR);
        Mamba2Mixer b = new Mamba2Mixer(CFG, randomWeights(CFG, 1, true), Kernels.vector(), PAR);
        float[] x = new float[3 * CFG.dim()];
        float[] out = new float[3 * CFG.dim()];
        Mamba2State stB = b.newState(new SessionLimits(2, 16));
        assertThrows(IllegalArgumentException.class, () -> a.forward(out, x, 1, stB));
        assertThrows(IllegalArgumentException.class, () -> b.forward(out, x, 3, stB));
        assertThrows(IllegalArgumentException.class, () -> b.forward(x, x, 1, stB));
    }

    @Test
    void rejectsMisshapedWeights() {
        Mamba2Weights w = randomWeights(CFG, 1, true);
        Mamba2Weights bad = new Mamba2Weights(w.inProj(), w.conv(), w.convBias(), new float[5], w.a(), w.d(),
                w.norm(), w.outProj());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Mamba2Mixer(CFG, bad, Kernels.vector(), PAR));
        assertTrue(e.getMessage().contains("dt bias"), e.getMessage());
        Mamba2Weights badIn = new Mamba2Weights(w.outProj(), w.conv(), w.convBias(), w.dtBias(), w.a(), w.d(),
                w.norm(), w.outProj());
        e = assertThrows(IllegalArgumentException.class, () -> new Mamba2Mixer(CFG, badIn, Kernels.vector(), PAR));
        assertTrue(e.getMessage().contains("blk.0.ssm_out.weight"), e.getMessage());
    }

    private static void feed(Mamba2Mixer m, Mamba2State st, float[] x, float[] out, int tokens) {
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

    /** Direct double-precision transcription of the reference equations, no kernels. */
    static final class Naive {
        static double[] run(Mamba2Config c, Mamba2Weights w, float[] u, int n) {
            int dim = c.dim();
            int di = c.dInner();
            int ns = c.dState();
            int cd = c.convDim();
            int p = c.headDim();
            double[][] hist = new double[cd][c.dConv() - 1];
            double[][][] h = new double[c.nHeads()][p][ns];
            double[] out = new double[n * dim];
            for (int t = 0; t < n; t++) {
                double[] proj = new double[c.inProjDim()];
                for (int r = 0; r < proj.length; r++) {
                    for (int k = 0; k < dim; k++) {
                        proj[r] += w.inProj().get((long) r * dim + k) * u[t * dim + k];
                    }
                }
                double[] xbc = new double[cd];
                for (int ch = 0; ch < cd; ch++) {
                    double acc = 0;
                    for (int i = 0; i < c.dConv(); i++) {
                        double v = i < c.dConv() - 1 ? hist[ch][i] : proj[di + ch];
                        acc += v * w.conv()[ch * c.dConv() + i];
                    }
                    for (int i = 0; i < c.dConv() - 2; i++) {
                        hist[ch][i] = hist[ch][i + 1];
                    }
                    hist[ch][c.dConv() - 2] = proj[di + ch];
                    acc += w.convBias() == null ? 0 : w.convBias()[ch];
                    xbc[ch] = acc / (1 + Math.exp(-acc));
                }
                double[] y = new double[di];
                for (int hd = 0; hd < c.nHeads(); hd++) {
                    double raw = proj[di + cd + hd] + w.dtBias()[hd];
                    double dt = raw > 20 ? raw : Math.log1p(Math.exp(raw));
                    double dA = Math.exp(dt * w.a()[hd]);
                    int g = hd / (c.nHeads() / c.nGroups());
                    for (int q = 0; q < p; q++) {
                        double xv = xbc[hd * p + q];
                        double acc = 0;
                        for (int s = 0; s < ns; s++) {
                            h[hd][q][s] = h[hd][q][s] * dA + xbc[di + g * ns + s] * xv * dt;
                            acc += h[hd][q][s] * xbc[di + c.nGroups() * ns + g * ns + s];
                        }
                        y[hd * p + q] = acc + w.d()[hd] * xv;
                    }
                }
                for (int i = 0; i < di; i++) {
                    double z = proj[i];
                    y[i] *= z / (1 + Math.exp(-z));
                }
                if (w.norm() != null) {
                    int gs = di / c.nGroups();
                    for (int g = 0; g < c.nGroups(); g++) {
                        double ss = 0;
                        for (int i = 0; i < gs; i++) {
                            ss += y[g * gs + i] * y[g * gs + i];
                        }
                        double scale = 1 / Math.sqrt(ss / gs + c.normEps());
                        for (int i = 0; i < gs; i++) {
                            y[g * gs + i] *= scale * w.norm()[g * gs + i];
                        }
                    }
                }
                for (int r = 0; r < dim; r++) {
                    double acc = 0;
                    for (int k = 0; k < di; k++) {
                        acc += w.outProj().get((long) r * di + k) * y[k];
                    }
                    out[t * dim + r] = acc;
                }
            }
            return out;
        }
    }
}
