package dev.taipan.moe;

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

/** SparseMoe against {@link NaiveMoe}: every gating mode and option, batch vs one token, stats. */
class SparseMoeTest {
    private static final int DIM = 12;
    private static final int FF = 10;
    private static final int SHARED_FF = 14;
    private static final int N_EXPERT = 8;
    private static final int N = 11;
    private static final Parallel PAR = Parallel.create(3);
    private static final Parallel ONE = Parallel.create(1);

    @AfterAll
    static void close() {
        PAR.close();
        ONE.close();
    }

    /** What the random layer has besides its routed experts. */
    private enum Shared { NONE, UNGATED, GATED }

    private record Case(MoeConfig config, NaiveMoe.Raw raw, MoeWeights weights) {
        SparseMoe layer(Kernels kernels, Parallel par) {
            return new SparseMoe(config, weights, kernels, par);
        }
    }

    private static Case make(MoeConfig c, long seed, boolean bias, Shared shared) {
        return make(c, seed, bias, shared, DIM, FF, SHARED_FF);
    }

    private static Case make(MoeConfig c, long seed, boolean bias, Shared shared, int dim, int ff, int sharedFf) {
        Random rnd = new Random(seed);
        boolean gated = c.activation().gated();
        float[] router = gauss(rnd, N_EXPERT * dim, 1);
        float[] b = bias ? gauss(rnd, N_EXPERT, 0.3) : null;
        float[] gate = gated ? gauss(rnd, N_EXPERT * ff * dim, 1 / Math.sqrt(dim)) : null;
        float[] up = gauss(rnd, N_EXPERT * ff * dim, 1 / Math.sqrt(dim));
        float[] down = gauss(rnd, N_EXPERT * dim * ff, 1 / Math.sqrt(ff));
        float[] sg = null;
        float[] su = null;
        float[] sd = null;
        float[] sgi = null;
        if (shared != Shared.NONE) {
            sg = gated ? gauss(rnd, sharedFf * dim, 1 / Math.sqrt(dim)) : null;
            su = gauss(rnd, sharedFf * dim, 1 / Math.sqrt(dim));
            sd = gauss(rnd, dim * sharedFf, 1 / Math.sqrt(sharedFf));
            sgi = shared == Shared.GATED ? gauss(rnd, dim, 1 / Math.sqrt(dim)) : null;
        }
        MoeWeights w = new MoeWeights(
                F32Tensor.of("blk.0.ffn_gate_inp.weight", Shape.of(N_EXPERT, dim), router), b,
                gated ? F32Tensor.of("blk.0.ffn_gate_exps.weight", Shape.of(N_EXPERT, ff, dim), gate) : null,
                F32Tensor.of("blk.0.ffn_up_exps.weight", Shape.of(N_EXPERT, ff, dim), up),
                F32Tensor.of("blk.0.ffn_down_exps.weight", Shape.of(N_EXPERT, dim, ff), down),
                shared == Shared.NONE ? null : new FfnWeights(
                        gated ? F32Tensor.of("blk.0.ffn_gate_shexp.weight", Shape.of(sharedFf, dim), sg) : null,
                        F32Tensor.of("blk.0.ffn_up_shexp.weight", Shape.of(sharedFf, dim), su),
                        F32Tensor.of("blk.0.ffn_down_shexp.weight", Shape.of(dim, sharedFf), sd)),
                sgi == null ? null : F32Tensor.of("blk.0.ffn_gate_inp_shexp.weight", Shape.of(dim), sgi));
        NaiveMoe.Raw raw = new NaiveMoe.Raw(dim, ff, N_EXPERT, router, b, gate, up, down, sharedFf, sg, su, sd, sgi);
        return new Case(c, raw, w);
    }

    static float[] gauss(Random rnd, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * scale);
        }
        return a;
    }

    private static float[] input(int nTokens, long seed) {
        return gauss(new Random(seed), nTokens * DIM, 1.0);
    }

    private static float[] run(SparseMoe layer, float[] x, int nTokens, MoeState state) {
        float[] out = new float[nTokens * DIM];
        layer.forward(out, x, nTokens, state);
        return out;
    }

    private static MoeState state(SparseMoe layer, int maxBatch) {
        return layer.newState(new SessionLimits(maxBatch, 64));
    }

    static void assertClose(double[][] ref, float[] got, double tol) {
        double maxRef = 1;
        double maxDiff = 0;
        for (int t = 0; t < ref.length; t++) {
            for (int i = 0; i < ref[t].length; i++) {
                maxRef = Math.max(maxRef, Math.abs(ref[t][i]));
                maxDiff = Math.max(maxDiff, Math.abs(ref[t][i] - got[t * ref[t].length + i]));
            }
        }
        assertTrue(maxDiff <= tol * maxRef, "max diff " + maxDiff + " > " + tol + " * " + maxRef);
    }

    private static void assertClose(float[] ref, float[] got, double tol) {
        double maxRef = 1;
        double maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxDiff = Math.max(maxDiff, Math.abs(ref[i] - got[i]));
        }
        assertTrue(maxDiff <= tol * maxRef, "max diff " + maxDiff + " > " + tol + " * " + maxRef);
    }

    /** Batch and one-token paths both equal the reference, experts chosen alike. */
    private static void checkAgainstReference(Case c) {
        float[] x = input(N, 99);
        NaiveMoe.Result ref = NaiveMoe.run(c.config(), c.raw(), x, N);
        SparseMoe layer = c.layer(Kernels.vector(), PAR);
        MoeState s = state(layer, N);
        float[] batch = run(layer, x, N, s);
        int k = c.config().nExpertUsed();
        int[] expected = Arrays.stream(ref.selected()).flatMapToInt(Arrays::stream).toArray();
        assertArrayEquals(expected, s.lastSelection());
        assertClose(ref.out(), batch, 2e-5);
        float[] steps = new float[N * DIM];
        MoeState one = state(layer, 1);
        for (int t = 0; t < N; t++) {
            float[] o = run(layer, Arrays.copyOfRange(x, t * DIM, (t + 1) * DIM), 1, one);
            assertArrayEquals(ref.selected()[t], one.lastSelection());
            System.arraycopy(o, 0, steps, t * DIM, DIM);
        }
        assertClose(ref.out(), steps, 2e-5);
        assertClose(batch, steps, 1e-5);
        assertEquals(N * k, Arrays.stream(s.expertCounts()).sum());
    }

    @Test
    void softmaxRenormalisedAsMixtralAndQwen3Moe() {
        checkAgainstReference(make(MoeConfig.of(2, Gating.SOFTMAX, FfnActivation.SWIGLU).withRenormalize(),
                1, false, Shared.NONE));
    }

    @Test
    void softmaxWithoutRenormAndSigmoidGatedSharedExpertAsQwen2Moe() {
        checkAgainstReference(make(MoeConfig.of(3, Gating.SOFTMAX, FfnActivation.SWIGLU), 2, false, Shared.GATED));
    }

    @Test
    void ungatedSharedExpertAsGraniteMoe() {
        checkAgainstReference(make(MoeConfig.of(2, Gating.SOFTMAX, FfnActivation.SWIGLU).withRenormalize(),
                3, false, Shared.UNGATED));
    }

    @Test
    void sigmoidWithSelectionBiasRenormAndScale() {
        checkAgainstReference(make(MoeConfig.of(3, Gating.SIGMOID, FfnActivation.SWIGLU).withRenormalize()
                .withWeightScale(2.5f), 4, true, Shared.NONE));
    }

    @Test
    void selectionBiasChangesTheChoiceButNotTheWeights() {
        Case c = make(MoeConfig.of(2, Gating.SOFTMAX, FfnActivation.SWIGLU), 5, true, Shared.NONE);
        checkAgainstReference(c);
        float[] huge = new float[N_EXPERT];
        huge[6] = 100f;
        Case forced = new Case(c.config(), c.raw(), c.weights().withSelectionBias(huge));
        SparseMoe layer = forced.layer(Kernels.vector(), PAR);
        MoeState s = state(layer, N);
        run(layer, input(N, 99), N, s);
        assertEquals(N, s.lastCallCounts()[6]);
    }

    @Test
    void groupLimitedRoutingAsDeepSeek() {
        checkAgainstReference(make(MoeConfig.of(3, Gating.SIGMOID, FfnActivation.SWIGLU).withRenormalize()
                .withGroups(4, 2).withWeightScale(1.5f), 6, true, Shared.UNGATED));
        checkAgainstReference(make(MoeConfig.of(2, Gating.SOFTMAX, FfnActivation.SWIGLU).withGroups(2, 1),
                7, false, Shared.NONE));
    }

    @Test
    void groupLimitedRoutingOnlyPicksFromKeptGroups() {
        Case c = make(MoeConfig.of(2, Gating.SOFTMAX, FfnActivation.SWIGLU).withGroups(4, 1), 8, false, Shared.NONE);
        SparseMoe layer = c.layer(Kernels.vector(), PAR);
        MoeState s = state(layer, N);
        run(layer, input(N, 5), N, s);
        int[] sel = s.lastSelection();
        for (int t = 0; t < N; t++) {
            assertEquals(sel[2 * t] / 2, sel[2 * t + 1] / 2, "token " + t + " left its group");
        }
        checkAgainstReference(c);
    }

    @Test
    void softmaxOverSelectedWeights() {
        checkAgainstReference(make(MoeConfig.of(3, Gating.SOFTMAX_WEIGHT, FfnActivation.SWIGLU), 9, false,
                Shared.NONE));
        checkAgainstReference(make(MoeConfig.of(3, Gating.SOFTMAX_WEIGHT, FfnActivation.SWIGLU).withRenormalize(),
                10, true, Shared.NONE));
    }

    @Test
    void weightScaleWithoutRenorm() {
        checkAgainstReference(make(MoeConfig.of(2, Gating.SOFTMAX, FfnActivation.SWIGLU).withWeightScale(16f),
                11, false, Shared.NONE));
    }

    @Test
    void gegluAndRelu2Experts() {
        checkAgainstReference(make(MoeConfig.of(2, Gating.SOFTMAX, FfnActivation.GEGLU).withRenormalize(), 12,
                false, Shared.GATED));
        checkAgainstReference(make(MoeConfig.of(2, Gating.SIGMOID, FfnActivation.RELU2).withRenormalize(), 13,
                false, Shared.UNGATED));
    }

    @Test
    void routingCountsAreTalliedPerCallAndInTotal() {
        Case c = make(MoeConfig.of(3, Gating.SOFTMAX, FfnActivation.SWIGLU), 14, false, Shared.NONE);
        SparseMoe layer = c.layer(Kernels.vector(), PAR);
        MoeState s = state(layer, N);
        float[] x1 = input(N, 1);
        float[] x2 = input(4, 2);
        run(layer, x1, N, s);
        int[] first = s.lastCallCounts();
        run(layer, x2, 4, s);
        int[] second = s.lastCallCounts();
        long[] expected = new long[N_EXPERT];
        for (NaiveMoe.Result r : new NaiveMoe.Result[] {
                NaiveMoe.run(c.config(), c.raw(), x1, N), NaiveMoe.run(c.config(), c.raw(), x2, 4)}) {
            for (int[] sel : r.selected()) {
                for (int e : sel) {
                    expected[e]++;
                }
            }
        }
        assertArrayEquals(expected, s.expertCounts());
        assertEquals(N * 3, Arrays.stream(first).sum());
        assertEquals(4 * 3, Arrays.stream(second).sum());
        for (int e = 0; e < N_EXPERT; e++) {
            assertEquals(expected[e], first[e] + second[e]);
        }
        assertEquals(N + 4, s.routedTokens());
        s.resetStats();
        assertEquals(0, s.routedTokens());
        assertArrayEquals(new long[N_EXPERT], s.expertCounts());
        assertEquals(0, s.cacheBytes());
    }

    @Test
    void oneTokenTouchesOnlyItsExpertsAndABatchStreamsEachExpertOnce() {
        Random rnd = new Random(15);
        CountingTensor up = new CountingTensor(F32Tensor.of("blk.0.ffn_up_exps.weight", Shape.of(N_EXPERT, FF, DIM),
                gauss(rnd, N_EXPERT * FF * DIM, 0.3)), N_EXPERT);
        CountingTensor down = new CountingTensor(F32Tensor.of("blk.0.ffn_down_exps.weight",
                Shape.of(N_EXPERT, DIM, FF), gauss(rnd, N_EXPERT * DIM * FF, 0.3)), N_EXPERT);
        F32Tensor router = F32Tensor.of("blk.0.ffn_gate_inp.weight", Shape.of(N_EXPERT, DIM),
                gauss(rnd, N_EXPERT * DIM, 1));
        SparseMoe layer = new SparseMoe(MoeConfig.of(2, Gating.SOFTMAX, FfnActivation.RELU2),
                MoeWeights.of(router, null, up, down), Kernels.vector(), PAR);
        MoeState s = state(layer, N);
        run(layer, input(1, 3), 1, s);
        int[] sel = s.lastSelection();
        for (int e = 0; e < N_EXPERT; e++) {
            boolean chosen = e == sel[0] || e == sel[1];
            assertEquals(chosen ? FF : 0, up.dots[e], "expert " + e);
            assertEquals(chosen ? DIM : 0, down.dots[e], "expert " + e);
        }
        up.clear();
        down.clear();
        run(layer, input(N, 4), N, s);
        int[] counts = s.lastCallCounts();
        for (int e = 0; e < N_EXPERT; e++) {
            assertEquals(counts[e] > 0 ? 1 : 0, up.products[e], "expert " + e);
            assertEquals(counts[e] > 0 ? 1 : 0, down.products[e], "expert " + e);
            assertEquals(counts[e] * FF, up.dots[e], "expert " + e);
        }
    }

    @Test
    void threadCountDoesNotChangeResults() {
        Case c = make(MoeConfig.of(3, Gating.SIGMOID, FfnActivation.SWIGLU).withRenormalize(), 16, true,
                Shared.GATED);
        float[] x = input(N, 17);
        SparseMoe a = c.layer(Kernels.vector(), ONE);
        SparseMoe b = c.layer(Kernels.vector(), PAR);
        assertArrayEquals(run(a, x, N, state(a, N)), run(b, x, N, state(b, N)));
        float[] x1 = input(1, 18);
        assertArrayEquals(run(a, x1, 1, state(a, 1)), run(b, x1, 1, state(b, 1)));
    }

    /**
     * Widths of several row units ({@link Parallel#ROW_SLICE_UNIT}), experts not a whole number of units:
     * with 3 threads the one-token passes cut every matrix into 3 slices at unit boundaries, one of
     * them empty and one not a whole number of units; the result is the same for 1 and 3 threads,
     * bit for bit, and equals the reference, gated (SwiGLU, gated shared expert) and ungated (relu²,
     * ungated shared expert).
     */
    @Test
    void oneTokenPassesOverManyRowUnits() {
        int dim = 2 * Parallel.ROW_SLICE_UNIT + 44;
        int ff = Parallel.ROW_SLICE_UNIT + 72;
        int sharedFf = Parallel.ROW_SLICE_UNIT + 42;
        for (FfnActivation act : new FfnActivation[] {FfnActivation.SWIGLU, FfnActivation.RELU2}) {
            Case c = make(MoeConfig.of(3, Gating.SOFTMAX, act).withRenormalize(), 23, false,
                    act.gated() ? Shared.GATED : Shared.UNGATED, dim, ff, sharedFf);
            int n = 4;
            float[] x = gauss(new Random(24), n * dim, 1.0);
            NaiveMoe.Result ref = NaiveMoe.run(c.config(), c.raw(), x, n);
            SparseMoe single = c.layer(Kernels.vector(), ONE);
            SparseMoe multi = c.layer(Kernels.vector(), PAR);
            MoeState s1 = state(single, 1);
            MoeState s3 = state(multi, 1);
            float[] steps = new float[n * dim];
            for (int t = 0; t < n; t++) {
                float[] xt = Arrays.copyOfRange(x, t * dim, (t + 1) * dim);
                float[] a = new float[dim];
                float[] b = new float[dim];
                single.forward(a, xt, 1, s1);
                multi.forward(b, xt, 1, s3);
                assertArrayEquals(a, b, act + ", token " + t);
                System.arraycopy(b, 0, steps, t * dim, dim);
            }
            assertClose(ref.out(), steps, 2e-5);
        }
    }

    /**
     * One token with each thread computing whole chosen experts in one pass (their count a multiple
     * of the threads; with a shared expert, its output rows wait for every thread's slice of its
     * activation) and with slices of every expert in two passes (not a multiple): the same floats as
     * one thread (which runs the whole-expert pass's parts slice after slice, so its first slice's
     * shared output rows run the second slice's shared gate/up rows first), for 2 and 3 threads, 2
     * to 4 chosen experts, with and without a shared expert, gated or not; and as the reference.
     */
    @Test
    void wholeOrSlicedExpertsGiveTheSameFloats() {
        try (Parallel two = Parallel.create(2)) {
            for (Shared shared : Shared.values()) {
                for (int k = 2; k <= 4; k++) {
                    MoeConfig config = MoeConfig.of(k, Gating.SOFTMAX, FfnActivation.SWIGLU).withRenormalize();
                    Case c = make(config, 30 + k, false, shared);
                    float[] x = input(1, 40 + k);
                    SparseMoe single = c.layer(Kernels.vector(), ONE);
                    float[] expected = run(single, x, 1, state(single, 1));
                    assertClose(NaiveMoe.run(c.config(), c.raw(), x, 1).out(), expected, 2e-5);
                    for (Parallel par : new Parallel[] {two, PAR}) {
                        SparseMoe multi = c.layer(Kernels.vector(), par);
                        MoeState s = state(multi, 1);
                        for (int t = 0; t < 3; t++) {
                            assertArrayEquals(expected, run(multi, x, 1, s),
                                    shared + ", " + k + " experts, " + par.threads() + " threads, call " + t);
                        }
                    }
                }
            }
        }
    }

    @Test
    void vectorAndScalarKernelsAgree() {
        Case c = make(MoeConfig.of(3, Gating.SOFTMAX, FfnActivation.SWIGLU).withRenormalize(), 19, false,
                Shared.GATED);
        float[] x = input(N, 20);
        SparseMoe v = c.layer(Kernels.vector(), PAR);
        SparseMoe s = c.layer(Kernels.scalar(), PAR);
        assertClose(run(s, x, N, state(s, N)), run(v, x, N, state(v, N)), 1e-5);
    }

    @Test
    void badShapesAndCallsAreRejected() {
        Case c = make(MoeConfig.of(2, Gating.SOFTMAX, FfnActivation.SWIGLU), 21, false, Shared.NONE);
        MoeWeights w = c.weights();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SparseMoe(c.config(),
                new MoeWeights(w.router(), null, w.gateExps(), w.upExps(), w.upExps(), null, null),
                Kernels.vector(), PAR));
        assertTrue(e.getMessage().contains("blk.0.ffn_up_exps.weight"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SparseMoe(
                MoeConfig.of(2, Gating.SOFTMAX, FfnActivation.RELU2), w, Kernels.vector(), PAR));
        assertThrows(IllegalArgumentException.class, () -> new SparseMoe(
                MoeConfig.of(9, Gating.SOFTMAX, FfnActivation.SWIGLU), w, Kernels.vector(), PAR));
        assertThrows(IllegalArgumentException.class, () -> new SparseMoe(
                c.config(), w.withSelectionBias(new float[3]), Kernels.vector(), PAR));
        assertThrows(IllegalArgumentException.class, () -> new SparseMoe(
                c.config().withGroups(3, 1), w, Kernels.vector(), PAR));
        SparseMoe layer = c.layer(Kernels.vector(), PAR);
        MoeState s = state(layer, 2);
        assertThrows(IllegalArgumentException.class, () -> run(layer, input(3, 1), 3, s));
        SparseMoe other = c.layer(Kernels.vector(), PAR);
        assertThrows(IllegalArgumentException.class, () -> run(other, input(1, 1), 1, s));
    }
}
