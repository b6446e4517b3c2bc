package dev.taipan.examples.cli;

import dev.taipan.loaders.ModelFiles;
import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.loaders.tokenizer.Tokenizers;
import dev.taipan.runtime.arch.ArchitectureRegistry;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import java.nio.file.Path;

/**
 * A model opened for the CLI: its files, the network its architecture builds, the tokenizer and
 * the worker pool, closed together.
 */
final class CliModel implements AutoCloseable {
    private final Path path;
    private final TensorSource source;
    private final Parallel parallel;
    private final Network network;
    private Tokenizer tokenizer;

    private CliModel(Path path, TensorSource source, Parallel parallel, Network network) {
        this.path = path;
        this.source = source;
        this.parallel = parallel;
        this.network = network;
    }

    static CliModel open(ModelOptions options) {
        Path path = options.model();
        TensorSource source = ModelFiles.open(path);
        Parallel parallel = Parallel.create(options.threads());
        try {
            String arch = source.metadata().getString(MetaKey.GENERAL_ARCHITECTURE.key(""));
            Network net = ArchitectureRegistry.get(arch, String.valueOf(path.getFileName()))
                    .build(source, new BuildContext(Kernels.vector(), parallel));
            return new CliModel(path, source, parallel, net);
        } catch (RuntimeException e) {
            parallel.close();
            source.close();
            throw e;
        }
    }

    /** File name, for headers and messages. */
    String name() {
        return String.valueOf(path.getFileName());
    }

    Network network() {
        return network;
    }

    int vocabSize() {
        return network.vocabSize();
    }

    /** Tokens a session can hold: the trained context length when the file gives one. */
    int contextLength() {
        String key = MetaKey.CONTEXT_LENGTH.key(network.archName());
        return source.metadata().getInt(key, Integer.MAX_VALUE);
    }

    /** The tokenizer from the file's metadata (read on first use). */
    Tokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = Tokenizers.fromMetadata(source.metadata());
        }
        return tokenizer;
    }

    /** A fresh session state for batches of up to {@code maxBatch} tokens and {@code context} in all. */
    Network.State newState(int maxBatch, int context) {
        return network.newState(new SessionLimits(maxBatch, context));
    }

    @Override
    public void close() {
        parallel.close();
        source.close();
    }
}
