package dev.taipan.ssm.mamba3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The mixer against the float64 step reference ({@link Mamba3Reference}) on random weights, for
 * SISO and MIMO, both rotation fractions, both A activations, one and several groups, with and
 * without the output norm; chunked prefill against token-by-token decode; vector against
 * scalar kernels; and a state that does not grow.
 */
class Mamba3MixerTest {
    private static final Parallel PAR = Parallel.create(2);
    private static final int TOKENS = 13;

    @AfterAll
    static void close() {
        PAR.close();
    }

    static Stream<Mamba3Config> configs() {
        return Stream.of(
                // SISO, rope 0.5, softplus A, no output norm
                Mamba3Config.builder().dModel(24).dState(16).headDim(8).nHeads(4).siso()
                        .aActivation(Mamba3Config.AActivation.SOFTPLUS).chunkSize(4).build(),
                // SISO, rope 1.0, heavy tail, 2 groups, output norm, odd head dim
                Mamba3Config.builder().dModel(20).dState(12).headDim(7).nHeads(6).nGroups(2).siso()
                        .ropeFraction(1.0f).outputNorm(Mamba3Config.OutputNorm.GROUPED_RMS).chunkSize(5).build(),
                // SISO, odd state size: 5 pairs of rotation over N = 10 with fraction 1, last dims pass
                Mamba3Config.builder().dModel(16).dState(11).headDim(5).nHeads(3).siso()
                        .ropeFraction(1.0f).chunkSize(3).build(),
                // MIMO rank 2, rope 0.5, output norm
                Mamba3Config.builder().dModel(32).dState(16).headDim(8).nHeads(4).mimo(2)
                        .outputNorm(Mamba3Config.OutputNorm.GROUPED_RMS).chunkSize(4).build(),
                // MIMO rank 3, rope 1.0, 2 groups, softplus, no norm
                Mamba3Config.builder().dModel(24).dState(8).headDim(6).nHeads(4).nGroups(2).mimo(3)
                        .ropeFraction(1.0f).aActivation(Mamba3Config.AActivation.SOFTPLUS).chunkSize(6).build(),
                // MIMO rank 1 keeps the half-split rotation and the mimo projections
                Mamba3Config.builder().dModel(16).dState(8).headDim(4).nHeads(2).mimo(1).chunkSize(64).build());
    }

    private static Mamba3Mixer mixer(Mamba3Config c, Kernels k) {
        return new Mamba3Mixer(c, RandomMamba3.params(c, 42).weights(c), k, PAR);
    }

    /** Runs the tokens in calls of {@code batch} tokens; returns the outputs. */
    private static float[] run(Mamba3Mixer m, Mamba3State st, float[] x, int batch) {
        int dm = m.config().dModel();
        int n = x.length / dm;
        float[] out = new float[n * dm];
        float[] buf = new float[batch * dm];
        float[] in = new float[batch * dm];
        for (int t = 0; t < n; t += batch) {
            int len = Math.min(batch, n - t);
            System.arraycopy(x, t * dm, in, 0, len * dm);
            m.forward(buf, in, len, st);
            System.arraycopy(buf, 0, out, t * dm, len * dm);
        }
        return out;
    }

    private static void assertClose(double[] expected, float[] actual, int off, double tol, String what) {
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[off + i]);
            assertTrue(diff <= tol * Math.max(1, Math.abs(expected[i])),
                    what + " [" + i + "]: expected " + expected[i] + ", got " + actual[off + i]);
        }
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol * Math.max(1, Math.abs(expected[i])),
                    what + " [" + i + "]: expected " + expected[i] + ", got " + actual[i]);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void prefillAndDecodeMatchFloat64Reference(Mamba3Config c) {
        float[] x = RandomMamba3.inputs(c, TOKENS, 7);
        Mamba3Reference ref = new Mamba3Reference(c, RandomMamba3.params(c, 42));
        Mamba3Mixer m = mixer(c, Kernels.vector());
        Mamba3State prefill = m.newState(new SessionLimits(16, 4096));
        Mamba3State decode = m.newState(new SessionLimits(16, 4096));
        float[] all = run(m, prefill, x, TOKENS);
        float[] steps = run(m, decode, x, 1);
        for (int t = 0; t < TOKENS; t++) {
            double[] expected = ref.step(x, t * c.dModel());
            assertClose(expected, all, t * c.dModel(), 2e-5, "prefill token " + t);
            assertClose(expected, steps, t * c.dModel(), 2e-5, "decode token " + t);
        }
        for (Mamba3State st : new Mamba3State[] {prefill, decode}) {
            assertClose(toDouble(st.ssmState()), ref.h, 2e-5, "ssm state");
            assertClose(toDouble(st.angleState()), ref.angle, 2e-5, "angle state");
            assertClose(toDouble(st.vState()), ref.xPrev, 1e-6, "v state");
        }
        assertClose(prefill.kState(), decode.kState(), 2e-5, "k state prefill vs decode");
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static void assertClose(double[] actual, double[] expected, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol * Math.max(1, Math.abs(expected[i])),
                    what + " [" + i + "]: expected " + expected[i] + ", got " + actual[i]);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void chunkingAndSplitsDoNotChangeResults(Mamba3Config c) {
        float[] x = RandomMamba3.inputs(c, TOKENS, 11);
        Mamba3Mixer m = mixer(c, Kernels.vector());
        float[] whole = run(m, m.newState(new SessionLimits(TOKENS, 4096)), x, TOKENS);
        // batches of 7 then 6: a prefill followed by a second prefill
        float[] split = run(m, m.newState(new SessionLimits(7, 4096)), x, 7);
        // prefill of 4 then one token at a time
        Mamba3State st = m.newState(new SessionLimits(4, 4096));
        float[] first = run(m, st, java.util.Arrays.copyOf(x, 4 * c.dModel()), 4);
        float[] rest = run(m, st, java.util.Arrays.copyOfRange(x, 4 * c.dModel(), x.length), 1);
        float[] mixed = new float[whole.length];
        System.arraycopy(first, 0, mixed, 0, first.length);
        System.arraycopy(rest, 0, mixed, first.length, rest.length);
        assertClose(whole, split, 1e-5, "split batches");
        assertClose(whole, mixed, 1e-5, "prefill then decode");
    }

    @ParameterizedTest
    @MethodSource("configs")
    void vectorKernelsMatchScalarTwins(Mamba3Config c) {
        float[] x = RandomMamba3.inputs(c, TOKENS, 3);
        Mamba3Mixer vec = mixer(c, Kernels.vector());
        Mamba3Mixer sca = mixer(c, Kernels.scalar());
        SessionLimits limits = new SessionLimits(TOKENS, 4096);
        assertClose(run(sca, sca.newState(limits), x, TOKENS), run(vec, vec.newState(limits), x, TOKENS),
                1e-5, "prefill vector vs scalar");
        assertClose(run(sca, sca.newState(limits), x, 1), run(vec, vec.newState(limits), x, 1),
                1e-5, "decode vector vs scalar");
    }

    @Test
    void stateHasTheSameSizeAfter10And1000Tokens() {
        Mamba3Config c = configs().toList().get(3);
        Parallel single = Parallel.create(1);
        Mamba3Mixer m = new Mamba3Mixer(c, RandomMamba3.params(c, 42).weights(c), Kernels.vector(), single);
        Mamba3State st = m.newState(new SessionLimits(64, 100_000));
        long fresh = st.cacheBytes();
        int h = c.nHeads();
        long expected = 4L * (h * c.nAngles() + h * c.headDim() * c.dState() + h * c.mimoRank() * c.dState()
                + h * c.headDim());
        assertEquals(expected, fresh);
        run(m, st, RandomMamba3.inputs(c, 10, 5), 64);
        long after10 = st.cacheBytes();
        int[] sizes10 = {st.angleState().length, st.ssmState().length, st.kState().length, st.vState().length};
        run(m, st, RandomMamba3.inputs(c, 990, 6), 64);
        assertEquals(after10, st.cacheBytes());
        assertEquals(sizes10[0], st.angleState().length);
        assertEquals(sizes10[1], st.ssmState().length);
        assertEquals(sizes10[2], st.kState().length);
        assertEquals(sizes10[3], st.vState().length);
        for (float a : st.angleState()) {
            assertTrue(a >= 0 && a < 2 * Math.PI, "angle state stays in [0, 2π): " + a);
        }
        st.reset();
        for (float v : st.ssmState()) {
            assertEquals(0f, v);
        }
        single.close();
    }

    @Test
    void rejectsBadShapesAndForeignState() {
        Mamba3Config c = configs().toList().get(0);
        RandomMamba3.Params p = RandomMamba3.params(c, 1);
        Mamba3Weights bad = new Mamba3Weights(p.weights(c).inProj(), new float[3], p.bNorm(), p.cNorm(), p.bBias(),
                p.cBias(), p.d(), null, null, null, null, p.weights(c).outProj());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Mamba3Mixer(c, bad, Kernels.scalar(), PAR));
        assertTrue(e.getMessage().contains("dt_bias"), e.getMessage());
        Mamba3Mixer m = mixer(c, Kernels.scalar());
        Mamba3Mixer other = mixer(configs().toList().get(1), Kernels.scalar());
        float[] buf = new float[c.dModel()];
        assertThrows(IllegalArgumentException.class,
                () -> m.forward(buf, buf, 1, other.newState(new SessionLimits(1, 8))));
        Mamba3Mixer twin = mixer(c, Kernels.scalar());
        assertThrows(IllegalArgumentException.class,
                () -> m.forward(buf, buf, 1, twin.newState(new SessionLimits(1, 8))), "same config, other weights");
        assertThrows(IllegalArgumentException.class,
                () -> m.forward(buf, buf, 2, m.newState(new SessionLimits(1, 8))));
        assertThrows(IllegalArgumentException.class, () -> Mamba3Config.builder().dModel(8).nHeads(3).nGroups(2).build());
    }
}
