package dev.taipan.runtime.arch.transformer;

import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.runtime.arch.ArchitectureRegistry;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.testing.PositionLogits;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import java.nio.file.Path;

/**
 * Runs a fixture model through {@link Network} directly: logits of every position, with the
 * tokens prefilled as one batch or fed one at a time.
 */
final class FixtureRun implements AutoCloseable {

    /** How the tokens go in. */
    enum Feed { BATCH, ONE_BY_ONE }

    static final Path FIXTURES = Path.of("src/test/resources/fixtures");

    private final TensorSource source;
    private final Parallel parallel;
    private final Network net;

    FixtureRun(Path file) {
        this(GgufFile.open(file), 2);
    }

    /** The network of {@code file} on {@code threads} threads. */
    FixtureRun(Path file, int threads) {
        this(GgufFile.open(file), threads);
    }

    /** Builds the network of {@code source}, which this run closes, on 2 threads. */
    FixtureRun(TensorSource source) {
        this(source, 2);
    }

    private FixtureRun(TensorSource source, int threads) {
        this.source = source;
        this.parallel = Parallel.create(threads);
        try {
            String arch = source.metadata().getString(MetaKey.GENERAL_ARCHITECTURE.key(""));
            this.net = ArchitectureRegistry.get(arch, source.path().toString())
                    .build(source, new BuildContext(Kernels.vector(), parallel));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    Network network() {
        return net;
    }

    /** Logits (positions, vocab) after each of {@code tokens}, from an empty state. */
    float[][] logits(int[] tokens, Feed feed) {
        int n = tokens.length;
        int batch = feed == Feed.BATCH ? n : 1;
        return PositionLogits.of(net, net.newState(new SessionLimits(batch, Math.max(n, 8))), tokens, batch);
    }

    @Override
    public void close() {
        parallel.close();
        source.close();
    }
}
