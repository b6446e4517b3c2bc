package dev.taipan.runtime.arch.mamba3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Inconsistent Mamba-3 checkpoints fail at load with the key or tensor (GGUF and FLA names) at fault. */
class Mamba3ErrorsTest {
    private static final Parallel PAR = Parallel.create(1);
    private static final Path FIXTURE = Mamba3Run.FIXTURES.resolve("siso_softplus_f32");

    @TempDir
    Path tmp;

    @AfterAll
    static void close() {
        PAR.close();
    }

    private ModelFormatException loadWithConfig(String from, String to) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("ckpt"));
        Files.copy(FIXTURE.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        String config = Files.readString(FIXTURE.resolve("config.json"));
        assertTrue(config.contains(from), from);
        Files.writeString(dir.resolve("config.json"), config.replace(from, to));
        try (SafetensorsSource src = SafetensorsSource.open(dir)) {
            return assertThrows(ModelFormatException.class, () -> Mamba3Run.build(src, Kernels.scalar(), PAR));
        }
    }

    @Test
    void wrongStateSizeNamesTheMisshapedTensorInBothNamings() throws IOException {
        ModelFormatException e = loadWithConfig("\"state_size\": 16", "\"state_size\": 32");
        assertTrue(e.getMessage().contains("'blk.0.ssm_in.weight'"), e.getMessage());
        assertTrue(e.getMessage().contains("'backbone.layers.0.mixer.in_proj.weight'"), e.getMessage());
    }

    @Test
    void mimoConfigWithoutMimoTensorsNamesTheMissingOne() throws IOException {
        ModelFormatException e = loadWithConfig("\"is_mimo\": false", "\"is_mimo\": true");
        assertTrue(e.getMessage().contains("blk.0."), e.getMessage());
    }

    @Test
    void unknownActivationAndHybridConfigsAreRejectedByKey() throws IOException {
        ModelFormatException e = loadWithConfig("\"a_activation\": \"softplus\"", "\"a_activation\": \"relu\"");
        assertTrue(e.getMessage().contains("a_activation") && e.getMessage().contains("relu"), e.getMessage());
        Files.walk(tmp).sorted(java.util.Comparator.reverseOrder()).filter(p -> !p.equals(tmp)).forEach(p -> p.toFile().delete());
        ModelFormatException h = loadWithConfig("\"n_groups\": 1,", "\"n_groups\": 1, \"attn_layer_idx\": [1],");
        assertTrue(h.getMessage().contains("attn_layer_idx"), h.getMessage());
    }

    @Test
    void flaNamesRoundTrip() {
        assertEquals("backbone.layers.7.mixer.B_bias", FlaMamba3Source.flaName("blk.7.ssm_b_bias"));
        assertEquals("blk.7.ssm_b_bias", FlaMamba3Source.ggufName("backbone.layers.7.mixer.B_bias"));
        assertEquals("lm_head.weight", FlaMamba3Source.flaName("output.weight"));
        assertEquals("something.else", FlaMamba3Source.ggufName("something.else"));
    }
}
