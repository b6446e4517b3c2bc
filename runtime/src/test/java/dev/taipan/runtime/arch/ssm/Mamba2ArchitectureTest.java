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
    void layersAreMamba2WithFixedCache() {
        try (GgufFile file = GgufFile.open(FixtureRun.fixture("tiny-mamba2-f32.gguf"));
             Parallel par = Parallel.create(2)) {
            Network net = new Mamba2Architecture().build(file, new BuildContext(Kernels.vector(), par));
            assertEquals(2, net.layers().size());
            for (var layer : net.layers()) {
                assertEquals(LayerKind.Mixer.MAMBA2, layer.kind().mixer());
                assertEquals(LayerKind.Ffn.NONE, layer.kind().ffn());
            }
            Network.State st = net.newState(new SessionLimits(16, 64));
            // conv (d_conv-1) x (128 + 2*2*16) + ssm 8 x 16 x 16, per layer, floats; growth: SsmPublicApiTest
            assertEquals(2L * 4 * (3 * 192 + 8 * 16 * 16), st.cacheBytes());
            assertTrue(st.mixerState(0).cacheBytes() > 0);
        }
    }
}
