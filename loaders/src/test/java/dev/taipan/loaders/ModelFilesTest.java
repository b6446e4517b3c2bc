package dev.taipan.loaders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFilesTest {
    @TempDir
    Path dir;

    @Test
    void opensGgufFiles() {
        try (TensorSource src = ModelFiles.open(Resources.path("real/stories260K.gguf"))) {
            assertInstanceOf(GgufFile.class, src);
            assertEquals("llama", src.metadata().getString("general.architecture"));
        }
    }

    @Test
    void opensSafetensorsDirectories() {
        try (TensorSource src = ModelFiles.open(Resources.path("mamba3/mimo2_outnorm_heavytail_bf16"))) {
            SafetensorsSource st = assertInstanceOf(SafetensorsSource.class, src);
            assertEquals(64, st.config().orElseThrow().getInt("hidden_size"));
            assertTrue(src.names().contains("backbone.norm_f.weight"));
        }
    }

    @Test
    void refusesAnythingElseSayingWhatWasExpected() throws IOException {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFiles.open(dir));
        assertTrue(e.getMessage().contains("lacks config.json and model.safetensors or model.safetensors.index.json"),
                e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{}");
        e = assertThrows(ModelFormatException.class, () -> ModelFiles.open(dir));
        assertTrue(e.getMessage().contains("lacks model.safetensors or model.safetensors.index.json"), e.getMessage());
        Path txt = Files.writeString(dir.resolve("model.bin"), "x");
        e = assertThrows(ModelFormatException.class, () -> ModelFiles.open(txt));
        assertTrue(e.getMessage().startsWith("model.bin: expected a .gguf file or a directory"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> ModelFiles.open(dir.resolve("nope.gguf")));
        assertTrue(e.getMessage().startsWith("nope.gguf: no such file or directory"), e.getMessage());
        Path fake = Files.writeString(dir.resolve("fake.gguf"), "not gguf at all");
        e = assertThrows(ModelFormatException.class, () -> ModelFiles.open(fake));
        assertTrue(e.getMessage().startsWith("fake.gguf: not a GGUF file"), e.getMessage());
    }
}
