package dev.taipan.loaders;

import dev.taipan.tensor.Tensor;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * Named tensors and metadata of one model, memory-mapped from GGUF or safetensors files. Closing
 * it unmaps the files: tensors obtained from it must not be used afterwards.
 */
public interface TensorSource extends AutoCloseable {

    /** The file or directory this was opened from. */
    Path path();

    /**
     * Metadata: GGUF key/values, or safetensors {@code __metadata__} (config.json is read by
     * {@code SafetensorsSource.config()}).
     */
    Metadata metadata();

    /** Every tensor name. */
    Set<String> names();

    /** The tensor, or empty when there is none of that name. */
    Optional<Tensor> find(String name);

    /**
     * The tensor of that name.
     *
     * @throws ModelFormatException naming the tensor and file when it is missing
     */
    default Tensor get(String name) {
        return find(name).orElseThrow(() -> new ModelFormatException(path() + ": missing tensor '" + name + "'"));
    }

    @Override
    void close();
}
