package dev.taipan.runtime.arch.mamba3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.runtime.arch.Weights;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import dev.taipan.runtime.Taipan;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.testing.ReferenceLogits;
import dev.taipan.ssm.mamba3.Mamba3State;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Tensor;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The three Mamba-3 fixtures (../shared/fixtures/mamba3: float64 reference of the official
 * state-spaces/mamba functions) loaded from their safetensors directories: logits within 1e-4
 * absolute at every position for a whole-batch prefill, a chunked prefill (5 + 5 + 2 tokens,
 * chunk 5) and token-by-token decode; final recurrent states within 1e-4 of
 * final_state.safetensors; a session's cache the same size after 10 and 1000 tokens.
 */
class Mamba3FixturesTest {
    private static final double TOL = 1e-4;
    private static final Parallel PAR = Parallel.create(2);

    @AfterAll
    static void close() {
        PAR.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"siso_softplus_f32", "mimo2_outnorm_heavytail_bf16", "siso_heavytail_rope1_g2_f32"})
    void logitsAndStatesMatchTheReference(String name) {
        Path dir = Mamba3Run.FIXTURES.resolve(name);
        int[] tokens = Mamba3Run.tokens(dir);
        ReferenceLogits ref = ReferenceLogits.readBare(dir.resolve("logits.txt"));
        try (SafetensorsSource src = SafetensorsSource.open(dir);
             SafetensorsSource states = SafetensorsSource.open(dir.resolve("final_state.safetensors"))) {
            Network net = Mamba3Run.build(src, Kernels.vector(), PAR);
            for (int l = 0; l < net.layers().size(); l++) {
                assertEquals(new LayerKind(LayerKind.Mixer.MAMBA3, LayerKind.Ffn.NONE), net.layers().get(l).kind());
            }
            for (int batch : new int[] {tokens.length, 5, 1}) {
                Network.State st = net.newState(new SessionLimits(batch, 64));
                float[][] logits = Mamba3Run.logits(net, st, tokens, batch);
                ref.assertMatchesAbs(logits, TOL);
                for (int l = 0; l < net.layers().size(); l++) {
                    Mamba3State ms = (Mamba3State) st.mixerState(l);
                    String p = "layers." + l + ".";
                    assertClose(states.get(p + "ssm_state"), ms.ssmState(), false, name + " batch " + batch + " " + p + "ssm_state");
                    assertClose(states.get(p + "angle_state"), ms.angleState(), true, name + " " + p + "angle_state");
                    assertClose(states.get(p + "k_state"), ms.kState(), false, name + " " + p + "k_state");
                    assertClose(states.get(p + "v_state"), ms.vState(), false, name + " " + p + "v_state");
                }
            }
        }
    }

    private static void assertClose(Tensor expected, float[] actual, boolean angles, String what) {
        float[] e = Weights.toFloats(expected);
        assertEquals(e.length, actual.length, what + ": size");
        for (int i = 0; i < e.length; i++) {
            double d = Math.abs((double) e[i] - actual[i]);
            if (angles) {
                d = Math.min(d, 2 * Math.PI - d);
            }
            assertTrue(d <= TOL, what + "[" + i + "]: expected " + e[i] + ", got " + actual[i]);
        }
    }

    @Test
    void prefillEqualsDecodeAndStatesDoNotGrow() {
        Path dir = Mamba3Run.FIXTURES.resolve("mimo2_outnorm_heavytail_bf16");
        try (SafetensorsSource src = SafetensorsSource.open(dir); Parallel single = Parallel.create(1)) {
            Network net = Mamba3Run.build(src, Kernels.vector(), single);
            int[] tokens = new int[200];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (i * 37 + 11) % net.vocabSize();
            }
            int[] first = java.util.Arrays.copyOf(tokens, 40);
            float[][] prefill = Mamba3Run.logits(net, first, 40);
            float[][] decode = Mamba3Run.logits(net, first, 1);
            assertTrue(Mamba3Run.maxDiff(prefill, decode) < 1e-5, "prefill vs decode " + Mamba3Run.maxDiff(prefill, decode));
            Network.State st = net.newState(new SessionLimits(64, 400));
            net.forward(tokens, 0, 10, st);
            long after10 = st.cacheBytes();
            for (int t = 10; t < tokens.length; t += 64) {
                net.forward(tokens, t, Math.min(64, tokens.length - t), st);
            }
            assertEquals(200, st.position());
            assertEquals(after10, st.cacheBytes());
            // (H*S + H*P*N + R*H*N + H*P) floats per layer: 8*4 + 8*16*16 + 2*8*16 + 8*16 = 2464
            assertEquals(2L * 4 * 2464, after10);
            Mamba3State ms = (Mamba3State) st.mixerState(0);
            assertEquals(8 * 16 * 16, ms.ssmState().length);
        }
    }

    @Test
    void publicApiLoadsTheDirectoryAndItsSessionCacheDoesNotGrow() {
        Path dir = Mamba3Run.FIXTURES.resolve("siso_softplus_f32");
        try (Model model = Taipan.load(dir, LoadOptions.defaults().withThreads(1).withContextLength(1100))) {
            assertEquals(Mamba3Architecture.NAME, model.architecture());
            Session s = model.newSession(Sampling.greedy());
            ReferenceLogits.readBare(dir.resolve("logits.txt")).assertMatchesAbs(s.logits(Mamba3Run.tokens(dir)), TOL);
            s.reset();
            int[] tokens = new int[1000];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (i * 31 + 7) % model.vocabSize();
            }
            s.prefill(java.util.Arrays.copyOf(tokens, 10));
            long after10 = s.cacheBytes();
            s.prefill(java.util.Arrays.copyOfRange(tokens, 10, 1000));
            assertEquals(1000, s.position());
            assertEquals(after10, s.cacheBytes(), "cache bytes after 10 and after 1000 tokens");
            assertTrue(after10 > 0);
        }
    }

    @Test
    void scalarKernelsGiveTheSameLogits() {
        Path dir = Mamba3Run.FIXTURES.resolve("siso_heavytail_rope1_g2_f32");
        try (SafetensorsSource src = SafetensorsSource.open(dir)) {
            int[] tokens = Mamba3Run.tokens(dir);
            float[][] vec = Mamba3Run.logits(Mamba3Run.build(src, Kernels.vector(), PAR), tokens, tokens.length);
            float[][] sca = Mamba3Run.logits(Mamba3Run.build(src, Kernels.scalar(), PAR), tokens, tokens.length);
            assertTrue(Mamba3Run.maxDiff(vec, sca) < 1e-5, "vector vs scalar " + Mamba3Run.maxDiff(vec, sca));
        }
    }
}
