package dev.taipan.runtime;

import dev.taipan.loaders.ModelFiles;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.loaders.tokenizer.Tokenizers;
import dev.taipan.runtime.arch.ArchitectureRegistry;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.tensor.JitLimits;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Entry point of the embedding API.
 * <pre>{@code
 * try (Model model = Taipan.load(Path.of("model.gguf"))) {
 *     Session chat = model.newSession(Sampling.temperature(0.7).topP(0.9).seed(42));
 *     chat.generate("Why is the sky blue?", 256, piece -> System.out.print(piece));
 * }
 * }</pre>
 */
public final class Taipan {
    private static final System.Logger LOG = System.getLogger(Taipan.class.getName());
    private static final AtomicBoolean JIT_HINT_GIVEN = new AtomicBoolean();

    private Taipan() {
    }

    /** Loads a GGUF file or a safetensors directory with default options. */
    public static Model load(Path path) {
        return load(path, LoadOptions.defaults());
    }

    /**
     * Loads a model: memory-maps its files, picks the architecture from its metadata, binds and
     * checks every weight, and reads its tokenizer when it has one.
     *
     * @throws ModelFormatException naming the file and the problem when the model cannot be used
     */
    public static Model load(Path path, LoadOptions options) {
        if (!JitLimits.raised() && JIT_HINT_GIVEN.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.INFO, "JVM started without " + String.join(" ", JitLimits.OPTIONS)
                    + ": decode speed will vary from run to run (see dev.taipan.tensor.JitLimits)");
        }
        TensorSource source = ModelFiles.open(path);
        Parallel parallel = null;
        try {
            String arch = architectureOf(source);
            source = OffloadSource.wrap(source, options.offload());
            source = RepackSource.wrap(source, options.weights());
            parallel = Parallel.create(options.threads());
            Kernels kernels = options.kernels() == LoadOptions.KernelChoice.SCALAR ? Kernels.scalar() : Kernels.vector();
            Network network = ArchitectureRegistry.get(arch, source.path().toString())
                    .build(source, new BuildContext(kernels, parallel));
            Tokenizer tokenizer = tokenizerOf(source);
            int context = contextLength(source, arch, options);
            return new Model(new Model.Parts(source, network, tokenizer), parallel,
                    new SessionLimits(Math.min(options.maxBatch(), context), context));
        } catch (RuntimeException | Error e) {
            if (parallel != null) {
                parallel.close();
            }
            source.close();
            throw e;
        }
    }

    /** {@code general.architecture} of a GGUF file, or {@code model_type} of a config.json. */
    static String architectureOf(TensorSource source) {
        String key = MetaKey.GENERAL_ARCHITECTURE.key("");
        if (source.metadata().has(key)) {
            return source.metadata().getString(key);
        }
        if (source instanceof SafetensorsSource st && st.config().isPresent()) {
            return st.config().get().modelType();
        }
        throw new ModelFormatException(source.path() + ": no '" + key
                + "' metadata and no config.json model_type: cannot tell the architecture");
    }

    /** The GGUF tokenizer, or a safetensors directory's tokenizer.json; null when there is none. */
    private static Tokenizer tokenizerOf(TensorSource source) {
        if (source.metadata().has("tokenizer.ggml.model")) {
            return Tokenizers.fromMetadata(source.metadata());
        }
        if (source instanceof SafetensorsSource && Files.isDirectory(source.path())) {
            Path json = source.path().resolve("tokenizer.json");
            return Files.isRegularFile(json) ? Tokenizers.fromTokenizerJson(json) : null;
        }
        return null;
    }

    private static int contextLength(TensorSource source, String arch, LoadOptions options) {
        if (options.contextLength() > 0) {
            return options.contextLength();
        }
        String key = MetaKey.CONTEXT_LENGTH.key(arch);
        int trained = source.metadata().has(key) ? source.metadata().getInt(key) : 0;
        return trained > 0 ? Math.min(trained, LoadOptions.DEFAULT_CONTEXT_CAP) : LoadOptions.DEFAULT_CONTEXT_CAP;
    }
}
