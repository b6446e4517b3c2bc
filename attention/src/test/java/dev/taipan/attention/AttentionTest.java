package dev.taipan.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Rope;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Shape;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Attention against {@link NaiveAttention}, and prefill/decode/chunking/limit behaviour. */
class AttentionTest {
    private static final int DIM = 20;
    private static final int HEAD_DIM = 8;
    private static final int N = 9;
    private static final Parallel PAR = Parallel.create(3);
    private static final Parallel ONE = Parallel.create(1);

    @AfterAll
    static void close() {
        PAR.close();
        ONE.close();
    }

    /** A layer of the given config with random weights; optional parts as flags. */
    private record Case(AttentionConfig config, NaiveAttention.Raw raw, AttentionWeights weights) {
        Attention layer(Kernels kernels, Parallel par) {
            return new Attention(config, weights, kernels, par);
        }
    }

    private static Case make(AttentionConfig c, long seed, boolean biases, int normLen) {
        Random rnd = new Random(seed);
        float[] wq = gauss(rnd, c.qDim() * DIM, 1 / Math.sqrt(DIM));
        float[] wk = gauss(rnd, c.kvDim() * DIM, 1 / Math.sqrt(DIM));
        float[] wv = gauss(rnd, c.kvDim() * DIM, 1 / Math.sqrt(DIM));
        float[] wo = gauss(rnd, DIM * c.qDim(), 1 / Math.sqrt(c.qDim()));
        float[] bq = biases ? gauss(rnd, c.qDim(), 0.5) : null;
        float[] bk = biases ? gauss(rnd, c.kvDim(), 0.5) : null;
        float[] bv = biases ? gauss(rnd, c.kvDim(), 0.5) : null;
        float[] bo = biases ? gauss(rnd, DIM, 0.5) : null;
        float[] qn = null;
        float[] kn = null;
        if (normLen > 0) {
            qn = gauss(rnd, normLen == HEAD_DIM ? HEAD_DIM : c.qDim(), 0.5);
            kn = gauss(rnd, normLen == HEAD_DIM ? HEAD_DIM : c.kvDim(), 0.5);
            for (int i = 0; i < qn.length; i++) {
                qn[i] += 1f;
            }
            for (int i = 0; i < kn.length; i++) {
                kn[i] += 1f;
            }
        }
        AttentionWeights w = AttentionWeights.of(
                        F32Tensor.of("blk.0.attn_q.weight", Shape.of(c.qDim(), DIM), wq),
                        F32Tensor.of("blk.0.attn_k.weight", Shape.of(c.kvDim(), DIM), wk),
                        F32Tensor.of("blk.0.attn_v.weight", Shape.of(c.kvDim(), DIM), wv),
                        F32Tensor.of("blk.0.attn_output.weight", Shape.of(DIM, c.qDim()), wo))
                .withBiases(bq, bk, bv, bo)
                .withQkNorm(qn, kn);
        return new Case(c, new NaiveAttention.Raw(wq, wk, wv, wo, bq, bk, bv, bo, qn, kn), w);
    }

    private static float[] gauss(Random rnd, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * scale);
        }
        return a;
    }

    private static float[] input(int nTokens, long seed) {
        return gauss(new Random(seed), nTokens * DIM, 1.0);
    }

    private static float[] prefill(Attention layer, float[] x, int nTokens, int contextLength) {
        KvCache cache = layer.newState(new SessionLimits(nTokens, contextLength));
        float[] out = new float[nTokens * DIM];
        layer.forward(out, x, nTokens, cache);
        assertEquals(nTokens, cache.length());
        return out;
    }

    /** max |a - ref| <= tol * max(1, max |ref|) over all rows. */
    private static void assertClose(double[][] ref, float[] got, double tol) {
        double maxRef = 1;
        double maxDiff = 0;
        for (int t = 0; t < ref.length; t++) {
            for (int i = 0; i < DIM; i++) {
                maxRef = Math.max(maxRef, Math.abs(ref[t][i]));
                maxDiff = Math.max(maxDiff, Math.abs(ref[t][i] - got[t * DIM + i]));
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

    private static void checkAgainstReference(Case c) {
        float[] x = input(N, 7);
        float[] got = prefill(c.layer(Kernels.vector(), PAR), x, N, N + 3);
        boolean half = c.config().cacheType() == KvCacheType.F16;
        assertClose(NaiveAttention.run(c.config(), c.raw(), x, N, half), got, 2e-5);
    }

    private static Rope rope(Rope.Layout layout, int nRot) {
        return Rope.of(layout, HEAD_DIM, nRot, 10000f, 1f);
    }

    @Test
    void multiHeadWithNormalRope() {
        checkAgainstReference(make(AttentionConfig.of(DIM, 4, 4, HEAD_DIM)
                .withRope(rope(Rope.Layout.NORMAL, HEAD_DIM)), 1, false, 0));
    }

    @Test
    void groupedQueryWithNeoxRope() {
        checkAgainstReference(make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM)
                .withRope(Rope.of(Rope.Layout.NEOX, HEAD_DIM, HEAD_DIM, 1e6f, 1f)), 2, false, 0));
    }

    @Test
    void multiQueryWithPartialRopeAndLinearScaling() {
        checkAgainstReference(make(AttentionConfig.of(DIM, 6, 1, HEAD_DIM)
                .withRope(Rope.of(Rope.Layout.NEOX, HEAD_DIM, 4, 10000f, 0.25f)), 3, false, 0));
    }

    /** 600 positions: the F32 path's blocks of 256 cached rows, two whole and a partial one. */
    @Test
    void groupedQueryOverSeveralRowBlocks() {
        Case c = make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM)
                .withRope(Rope.of(Rope.Layout.NEOX, HEAD_DIM, HEAD_DIM, 1e4f, 1f)), 12, false, 0);
        int n = 600;
        float[] x = input(n, 13);
        float[] got = prefill(c.layer(Kernels.vector(), PAR), x, n, n);
        assertClose(NaiveAttention.run(c.config(), c.raw(), x, n, false), got, 2e-5);
    }

    @Test
    void withoutRope() {
        checkAgainstReference(make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM), 4, false, 0));
    }

    @Test
    void perHeadQkNormsAsQwen3() {
        checkAgainstReference(make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM).withQkNormEps(1e-6f)
                .withRope(rope(Rope.Layout.NEOX, HEAD_DIM)), 5, false, HEAD_DIM));
    }

    @Test
    void wholeProjectionQkNormsAsOlmoe() {
        checkAgainstReference(make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM).withQkNormEps(1e-5f)
                .withRope(rope(Rope.Layout.NEOX, HEAD_DIM)), 6, false, -1));
    }

    @Test
    void biasesAsQwen2() {
        checkAgainstReference(make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM)
                .withRope(rope(Rope.Layout.NEOX, HEAD_DIM)), 7, true, 0));
    }

    @Test
    void slidingWindow() {
        Case c = make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM).withSlidingWindow(3)
                .withRope(rope(Rope.Layout.NORMAL, HEAD_DIM)), 8, false, 0);
        checkAgainstReference(c);
        // the window matters: full attention gives a different answer from the 4th token on
        Case full = new Case(c.config().withSlidingWindow(0), c.raw(), c.weights());
        float[] x = input(N, 7);
        float[] a = prefill(c.layer(Kernels.vector(), PAR), x, N, N);
        float[] b = prefill(full.layer(Kernels.vector(), PAR), x, N, N);
        assertEquals(a[2 * DIM], b[2 * DIM]);
        assertTrue(Math.abs(a[N * DIM - 1] - b[N * DIM - 1]) > 1e-4);
    }

    @Test
    void scaleOverrideAsGranite() {
        checkAgainstReference(make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM).withScale(0.125f), 9, false, 0));
    }

    @Test
    void f16CacheMirrorsGgmlRounding() {
        checkAgainstReference(make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM).withCacheType(KvCacheType.F16)
                .withRope(rope(Rope.Layout.NEOX, HEAD_DIM)).withQkNormEps(1e-6f), 10, true, HEAD_DIM));
    }

    @Test
    void prefillEqualsOneTokenSteps() {
        for (KvCacheType type : KvCacheType.values()) {
            Case c = make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM).withCacheType(type)
                    .withRope(rope(Rope.Layout.NEOX, HEAD_DIM)), 11, true, 0);
            Attention layer = c.layer(Kernels.vector(), PAR);
            float[] x = input(N, 12);
            float[] batch = prefill(layer, x, N, N);
            KvCache cache = layer.newState(new SessionLimits(1, N));
            float[] steps = new float[N * DIM];
            float[] one = new float[DIM];
            float[] in = new float[DIM];
            for (int t = 0; t < N; t++) {
                System.arraycopy(x, t * DIM, in, 0, DIM);
                layer.forward(one, in, 1, cache);
                System.arraycopy(one, 0, steps, t * DIM, DIM);
            }
            assertClose(batch, steps, 1e-5);
        }
    }

    @Test
    void twoChunksEqualOneBatch() {
        Case c = make(AttentionConfig.of(DIM, 4, 1, HEAD_DIM).withSlidingWindow(4)
                .withRope(rope(Rope.Layout.NORMAL, HEAD_DIM)), 13, false, 0);
        Attention layer = c.layer(Kernels.vector(), PAR);
        float[] x = input(N, 14);
        float[] batch = prefill(layer, x, N, N);
        KvCache cache = layer.newState(new SessionLimits(N, N));
        int first = 4;
        float[] a = new float[first * DIM];
        float[] b = new float[(N - first) * DIM];
        layer.forward(a, java.util.Arrays.copyOfRange(x, 0, first * DIM), first, cache);
        layer.forward(b, java.util.Arrays.copyOfRange(x, first * DIM, N * DIM), N - first, cache);
        float[] chunked = new float[N * DIM];
        System.arraycopy(a, 0, chunked, 0, a.length);
        System.arraycopy(b, 0, chunked, a.length, b.length);
        assertClose(batch, chunked, 1e-5);
    }

    /**
     * 320 q, k and v rows: with 3 threads the one-token projections cut each matrix into slices of
     * 0, 128 and 192 rows ({@link Parallel#sliceStart}); steps equal 1-thread steps bit for bit and
     * the reference. Each step is one pass (q/k/v rows, the token's preparation once, heads, output
     * rows); also with grouped queries, q/k norms and an F16 cache, on 2 and 3 threads.
     */
    @Test
    void oneTokenProjectionSlicesAcrossThreads() {
        Case c = make(AttentionConfig.of(DIM, 40, 40, HEAD_DIM).withRope(rope(Rope.Layout.NEOX, HEAD_DIM)),
                17, true, 0);
        float[] x = input(N, 18);
        float[] single = steps(c.layer(Kernels.vector(), ONE), x);
        float[] multi = steps(c.layer(Kernels.vector(), PAR), x);
        assertArrayEquals(single, multi);
        assertClose(NaiveAttention.run(c.config(), c.raw(), x, N, false), multi, 2e-5);
        Case g = make(AttentionConfig.of(DIM, 6, 2, HEAD_DIM).withRope(rope(Rope.Layout.NORMAL, HEAD_DIM))
                .withCacheType(KvCacheType.F16).withQkNormEps(1e-6f), 19, true, HEAD_DIM);
        float[] expected = steps(g.layer(Kernels.vector(), ONE), x);
        try (Parallel two = Parallel.create(2)) {
            assertArrayEquals(expected, steps(g.layer(Kernels.vector(), two), x), "2 threads");
        }
        assertArrayEquals(expected, steps(g.layer(Kernels.vector(), PAR), x), "3 threads");
        assertClose(NaiveAttention.run(g.config(), g.raw(), x, N, true), expected, 2e-5);
    }

    private static float[] steps(Attention layer, float[] x) {
        KvCache cache = layer.newState(new SessionLimits(1, N));
        float[] out = new float[N * DIM];
        float[] one = new float[DIM];
        for (int t = 0; t < N; t++) {
            layer.forward(one, java.util.Arrays.copyOfRange(x, t * DIM, (t + 1) * DIM), 1, cache);
            System.arraycopy(one, 0, out, t * DIM, DIM);
        }
        return out;
    }

    @Test
    void threadCountDoesNotChangeResults() {
        Case c = make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM).withRope(rope(Rope.Layout.NEOX, HEAD_DIM)),
                15, true, 0);
        float[] x = input(N, 16);
        assertArrayEquals(prefill(c.layer(Kernels.vector(), ONE), x, N, N),
                prefill(c.layer(Kernels.vector(), PAR), x, N, N));
    }

    @Test
    void vectorAndScalarKernelsAgree() {
        Case c = make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM).withQkNormEps(1e-6f)
                .withRope(rope(Rope.Layout.NEOX, HEAD_DIM)), 17, true, HEAD_DIM);
        float[] x = input(N, 18);
        assertClose(prefill(c.layer(Kernels.scalar(), PAR), x, N, N),
                prefill(c.layer(Kernels.vector(), PAR), x, N, N), 1e-5);
    }

    @Test
    void exceedingTheContextThrowsAndKeepsTheCache() {
        Case c = make(AttentionConfig.of(DIM, 2, 2, HEAD_DIM), 19, false, 0);
        Attention layer = c.layer(Kernels.vector(), PAR);
        KvCache cache = layer.newState(new SessionLimits(4, 5));
        float[] out = new float[4 * DIM];
        layer.forward(out, input(4, 20), 4, cache);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> layer.forward(out, input(2, 21), 2, cache));
        assertTrue(e.getMessage().contains("context length 5 exceeded"), e.getMessage());
        assertEquals(4, cache.length());
        layer.forward(out, input(1, 22), 1, cache);
        assertEquals(5, cache.length());
        assertThrows(IllegalStateException.class, () -> layer.forward(out, input(1, 23), 1, cache));
        cache.reset();
        assertEquals(0, cache.length());
        layer.forward(out, input(4, 20), 4, cache);
    }

    @Test
    void cacheBytesAreReal() {
        Case c = make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM), 24, false, 0);
        assertEquals(2L * 2 * 100 * HEAD_DIM * 4,
                c.layer(Kernels.vector(), PAR).newState(new SessionLimits(8, 100)).cacheBytes());
        Case h = make(c.config().withCacheType(KvCacheType.F16), 24, false, 0);
        assertEquals(2L * 2 * 100 * HEAD_DIM * 2,
                h.layer(Kernels.vector(), PAR).newState(new SessionLimits(8, 100)).cacheBytes());
    }

    @Test
    void badShapesAndCallsAreRejected() {
        Case c = make(AttentionConfig.of(DIM, 4, 2, HEAD_DIM), 25, false, 0);
        AttentionConfig wrong = AttentionConfig.of(DIM, 4, 4, HEAD_DIM);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Attention(wrong, c.weights(), Kernels.vector(), PAR));
        assertTrue(e.getMessage().contains("blk.0.attn_k.weight"), e.getMessage());
        AttentionWeights badBias = c.weights().withBiases(null, new float[3], null, null);
        assertThrows(IllegalArgumentException.class,
                () -> new Attention(c.config(), badBias, Kernels.vector(), PAR));
        AttentionWeights norms = c.weights().withQkNorm(new float[HEAD_DIM], new float[HEAD_DIM]);
        assertThrows(IllegalArgumentException.class,
                () -> new Attention(c.config(), norms, Kernels.vector(), PAR));
        Attention layer = c.layer(Kernels.vector(), PAR);
        KvCache cache = layer.newState(new SessionLimits(2, 8));
        assertThrows(IllegalArgumentException.class, () -> layer.forward(new float[3 * DIM], input(3, 1), 3, cache));
        Attention other = c.layer(Kernels.vector(), PAR);
        assertThrows(IllegalArgumentException.class, () -> other.forward(new float[DIM], input(1, 1), 1, cache));
        assertThrows(IllegalArgumentException.class, () -> AttentionConfig.of(DIM, 4, 3, HEAD_DIM));
    }
}
