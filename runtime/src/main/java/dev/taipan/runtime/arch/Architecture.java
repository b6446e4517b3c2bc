package dev.taipan.runtime.arch;

import dev.taipan.loaders.TensorSource;
import java.util.Set;

/**
 * One model family: reads its config from metadata, binds its weights by name with shapes
 * checked (a missing or misshaped tensor fails at load, naming it) and builds the layer stack.
 * Registered in {@link ArchitectureRegistry}.
 */
public interface Architecture {

    /** The {@code general.architecture} (GGUF) or {@code model_type} (config.json) values handled. */
    Set<String> names();

    /**
     * Builds the network.
     *
     * @throws dev.taipan.loaders.ModelFormatException naming the key or tensor when the model is
     *         incomplete or inconsistent
     */
    Network build(TensorSource source, BuildContext ctx);
}
