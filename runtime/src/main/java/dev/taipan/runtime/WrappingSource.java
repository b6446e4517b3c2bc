package dev.taipan.runtime;

import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import java.nio.file.Path;
import java.util.Set;

/**
 * A tensor source over another one (the files) that changes how some of its tensors are found
 * (offloaded to a device, repacked for decode) and serves everything else as is. Closing it frees
 * its own resources, then closes the files.
 */
abstract class WrappingSource implements TensorSource {

    protected final TensorSource files;

    WrappingSource(TensorSource files) {
        this.files = files;
    }

    /** Frees what this source made (device buffers, copies); the tensors it returned die with them. */
    abstract void closeOwn();

    @Override
    public final Path path() {
        return files.path();
    }

    @Override
    public final Metadata metadata() {
        return files.metadata();
    }

    @Override
    public final Set<String> names() {
        return files.names();
    }

    @Override
    public final void close() {
        try {
            closeOwn();
        } finally {
            files.close();
        }
    }
}
