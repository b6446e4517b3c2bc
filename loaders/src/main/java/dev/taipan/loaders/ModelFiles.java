package dev.taipan.loaders;

import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Opens a model by looking at what the path is: a GGUF file, or a safetensors checkpoint directory. */
public final class ModelFiles {
    private ModelFiles() {
    }

    /**
     * A {@code .gguf} file opens as a {@link GgufFile}; a directory with {@code config.json} and
     * {@code model.safetensors} or {@code model.safetensors.index.json} opens as a
     * {@link SafetensorsSource} (its {@link SafetensorsSource#config()} holds config.json).
     *
     * @throws ModelFormatException naming the path and what was expected for anything else
     */
    public static TensorSource open(Path path) {
        String name = String.valueOf(path.getFileName());
        if (Files.isRegularFile(path) && name.toLowerCase(Locale.ROOT).endsWith(".gguf")) {
            return GgufFile.open(path);
        }
        if (Files.isDirectory(path)) {
            boolean config = Files.isRegularFile(path.resolve(SafetensorsSource.CONFIG_FILE));
            boolean weights = Files.isRegularFile(path.resolve(SafetensorsSource.SINGLE_FILE))
                    || Files.isRegularFile(path.resolve(SafetensorsSource.INDEX_FILE));
            if (config && weights) {
                return SafetensorsSource.open(path);
            }
            throw new ModelFormatException(name + ": directory lacks " + (config ? "" : SafetensorsSource.CONFIG_FILE
                    + (weights ? "" : " and ")) + (weights ? "" : SafetensorsSource.SINGLE_FILE + " or "
                    + SafetensorsSource.INDEX_FILE) + "; expected a safetensors checkpoint directory (" + path + ")");
        }
        if (!Files.exists(path)) {
            throw new ModelFormatException(name + ": no such file or directory (" + path + ")");
        }
        throw new ModelFormatException(name + ": expected a .gguf file or a directory with config.json and "
                + SafetensorsSource.SINGLE_FILE + " or " + SafetensorsSource.INDEX_FILE + " (" + path + ")");
    }
}
