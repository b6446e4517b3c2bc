package dev.taipan.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.fail;

import dev.taipan.loaders.ModelFiles;
import dev.taipan.loaders.TensorSource;
import dev.taipan.opencl.OpenClDevices;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The offload policy without a device: when nothing is offloaded the files are bound as they are. */
class OffloadSourceTest {
    private static final Path MODEL = Path.of("src/test/resources/fixtures/gguf/tiny-granitehybrid-q8_0.gguf");

    @Test
    void zeroGpuLayersNeverProbes() {
        try (TensorSource files = ModelFiles.open(MODEL)) {
            assertSame(files, OffloadSource.wrap(files, LoadOptions.Offload.NONE,
                    () -> fail("no probe for --gpu-layers 0")));
        }
    }

    @Test
    void noPlatformFallsBackToTheCpu() {
        OpenClDevices.Probe none = new OpenClDevices.Probe(List.of(), "test: no platform");
        try (TensorSource files = ModelFiles.open(MODEL)) {
            assertSame(files, OffloadSource.wrap(files, new LoadOptions.Offload(99, -1), () -> none));
        }
    }

    @Test
    void layerCountIsOneMoreThanTheLargestBlockIndex() {
        assertEquals(4, OffloadSource.layerCount(Set.of("blk.0.attn_q.weight", "blk.3.ffn_up.weight",
                "blk.10x", "output.weight", "token_embd.weight")));
        assertEquals(0, OffloadSource.layerCount(Set.of("output.weight")));
    }

    @Test
    void offloadOptionsRejectNegatives() {
        try {
            new LoadOptions.Offload(-1, -1);
            fail("negative gpuLayers accepted");
        } catch (IllegalArgumentException e) {
            assertEquals("gpuLayers must be >= 0 and device >= -1, got -1 and -1", e.getMessage());
        }
        assertEquals(new LoadOptions.Offload(3, 1), LoadOptions.defaults().withGpuLayers(3).withDevice(1).offload());
    }
}
