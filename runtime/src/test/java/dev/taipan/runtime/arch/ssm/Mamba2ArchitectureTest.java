package dev.taipan.runtime.arch.ssm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.Network;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** tiny-mamba2 (2 Mamba-2 layers, 8 heads x 16, 2 groups) against llama.cpp's logits. */
class Mamba2ArchitectureTest {

    @ParameterizedTest(name = "{0} vs {1}, batch {2}")
    @CsvSource({
        "tiny-mamba2-f32.gguf, tiny-mamba2-f32.logits.txt, 32",
        "tiny-mamba2-f32.gguf, tiny-mamba2-f32.logits.txt, 1",
        "tiny-mamba2-q8_0.gguf, tiny-mamba2-q8_0.deq-logits.txt, 32",
        "tiny-mamba2-q8_0.gguf, tiny-mamba2-q8_0.deq-logits.txt, 1",
    })
    void logitsMatchLlamaCpp(String gguf, String reference, int batch) {
        FixtureRun.check(new Mamba2Architecture(), gguf, reference, batch, Kernels.vector());
    }

    @Test
    void scalarKernelsMatchToo() {
        FixtureRun.check(new Mamba2Architecture(), "tiny-mamba2-f32.gguf", "tiny-mamba2-f32.logits.txt", 7,
                Kernels.scalar());
    }

    @Test
    void layersAreMamba2AndCacheDoesNotGrow() {
        try (GgufFile file = GgufFile.open(FixtureRun.fixture("tiny-mamba2-f32.gguf"));
             Parallel par = Parallel.create(2)) {
            Network net = new Mamba2Architecture().build(file, new BuildContext(Kernels.vector(), par));
            assertEquals(2, net.layers().size());
            for (var layer : net.layers()) {
                assertEquals(LayerKind.Mixer.MAMBA2, layer.kind().mixer());
            }
            Network.State st = net.newState(new SessionLimits(16, 2000));
            int[] tokens = new int[16];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (i * 37) % 262;
            }
            net.forward(tokens, 0, 10, st);
            long after10 = st.cacheBytes();
            // conv (d_conv-1) x (128 + 2*2*16) + ssm 8 x 16 x 16, per layer, floats
            assertEquals(2L * 4 * (3 * 192 + 8 * 16 * 16), after10);
            for (int t = 10; t < 1000; t += 16) {
                net.forward(tokens, 0, Math.min(16, 1000 - t), st);
            }
            assertEquals(1000, st.position());
            assertEquals(after10, st.cacheBytes());
            assertTrue(st.mixerState(0).cacheBytes() > 0);
        }
    }
}
