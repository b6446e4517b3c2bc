package dev.taipan.loaders.gguf;

import dev.taipan.loaders.MapMetadata;
import dev.taipan.loaders.MappedFile;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.TensorViews;
import dev.taipan.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A GGUF file (versions 2 and 3), memory-mapped once into a {@link MemorySegment} owned by a shared
 * {@link Arena}, so its tensors can be read from any thread until {@link #close()} unmaps it. The
 * whole header is parsed and validated by {@link #open} (see {@link GgufParser}); tensors are views
 * of the mapped bytes made on first request through the quant module's {@code TensorFactory}.
 *
 * <p>Format: llama.cpp docs/gguf.md and ggml/src/gguf.cpp (commit 34af94cd). Offsets are longs:
 * files larger than 2 GiB work.
 */
public final class GgufFile implements TensorSource {
    private final Path path;
    private final String origin;
    private final Arena arena;
    private final MemorySegment file;
    private final GgufParser.Layout layout;
    private final Map<String, GgufTensorInfo> infos;
    private final Metadata metadata;
    private final Map<String, Tensor> tensors = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private GgufFile(Path path, String origin, Arena arena, MemorySegment file, GgufParser.Layout layout) {
        this.path = path;
        this.origin = origin;
        this.arena = arena;
        this.file = file;
        this.layout = layout;
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (GgufTensorInfo t : layout.tensors()) {
            byName.put(t.name(), t);
        }
        this.infos = Collections.unmodifiableMap(byName);
        Map<String, Object> values = new LinkedHashMap<>();
        for (GgufKv kv : layout.kvs()) {
            values.put(kv.key(), kv.value());
        }
        this.metadata = new MapMetadata(origin, values);
    }

    /**
     * Maps and parses a GGUF file.
     *
     * @throws ModelFormatException when the file is not a valid GGUF v2/v3 file (the message names
     *     the file and the field at fault)
     * @throws UncheckedIOException when the file cannot be read
     */
    public static GgufFile open(Path path) {
        String origin = String.valueOf(path.getFileName());
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(origin + ": not a regular file (" + path + ")");
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = MappedFile.map(path, arena);
            return new GgufFile(path, origin, arena, seg, GgufParser.parse(origin, seg));
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException(origin + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Parses GGUF bytes already in memory (tests, fuzzing, embedded files). The segment is not
     * copied and must stay valid while the result is used; {@link #close()} does not free it.
     */
    public static GgufFile of(String origin, MemorySegment bytes) {
        return new GgufFile(Path.of(origin), origin, null, bytes, GgufParser.parse(origin, bytes));
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public Metadata metadata() {
        return metadata;
    }

    /** The GGUF version (2 or 3). */
    public int version() {
        return layout.version();
    }

    /** Alignment of tensor data ({@code general.alignment}, 32 by default). */
    public int alignment() {
        return layout.alignment();
    }

    /** File offset where the data section starts; tensor offsets are relative to it. */
    public long dataOffset() {
        return layout.dataOffset();
    }

    /** Size of the file in bytes. */
    public long fileSize() {
        return file.byteSize();
    }

    /** Every metadata key/value with its stored type, in file order. */
    public List<GgufKv> kvs() {
        return layout.kvs();
    }

    /** The tensor table in file order. */
    public List<GgufTensorInfo> tensorInfos() {
        return layout.tensors();
    }

    public Optional<GgufTensorInfo> tensorInfo(String name) {
        return Optional.ofNullable(infos.get(name));
    }

    /** Tensor names in file order. */
    @Override
    public Set<String> names() {
        return infos.keySet();
    }

    /**
     * The raw bytes of a tensor (a slice of the mapping), for every ggml type including those
     * without a {@link Tensor} implementation.
     */
    public Optional<MemorySegment> tensorData(String name) {
        checkOpen();
        GgufTensorInfo t = infos.get(name);
        return t == null ? Optional.empty() : Optional.of(file.asSlice(layout.dataOffset() + t.offset(), t.byteSize()));
    }

    /**
     * The tensor as a view of the mapped bytes.
     *
     * @throws ModelFormatException when its type has no Tensor implementation
     */
    @Override
    public Optional<Tensor> find(String name) {
        checkOpen();
        GgufTensorInfo t = infos.get(name);
        if (t == null) {
            return Optional.empty();
        }
        return Optional.of(tensors.computeIfAbsent(name, n -> TensorViews.create(origin, n, t.type(), t.shape(),
                file.asSlice(layout.dataOffset() + t.offset(), t.byteSize()))));
    }

    /** Unmaps the file; tensors obtained from it must not be used afterwards. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && arena != null) {
            arena.close();
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException(origin + ": closed");
        }
    }

    @Override
    public String toString() {
        return "GgufFile[" + origin + ", v" + version() + ", " + infos.size() + " tensors, "
                + layout.kvs().size() + " keys]";
    }
}
