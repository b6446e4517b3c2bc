package dev.taipan.loaders.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import dev.taipan.loaders.HfConfig;
import dev.taipan.loaders.MapMetadata;
import dev.taipan.loaders.MappedFile;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.TensorViews;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tensors of a safetensors checkpoint: one {@code .safetensors} file, or a directory holding
 * {@code model.safetensors} or shards listed by {@code model.safetensors.index.json} (its
 * {@code weight_map}), plus the HF {@code config.json} when present ({@link #config()}). Every
 * file is memory-mapped once into a shared {@link Arena} released by {@link #close()}; headers are
 * validated by {@link SafetensorsHeader}.
 *
 * <p>Dtypes: F32, F16, BF16, F64, I8, U8, I16, I32, I64, BOOL, F8_E4M3, F8_E5M2 are all parsed and
 * described by {@link #tensorInfo} with their bytes available through {@link #tensorData}. Only
 * <b>F32, F16 and BF16</b> are usable as weights through {@link #find} / {@link #get} (a Tensor from
 * the quant module's {@code TensorFactory}); asking for another dtype there throws a
 * {@link ModelFormatException}. Shapes are row-major as stored. {@link #metadata()} holds the
 * {@code __metadata__} strings (of every shard; the first value wins).
 */
public final class SafetensorsSource implements TensorSource {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String CONFIG_FILE = "config.json";
    /** Dtypes {@link #find} turns into Tensors. */
    public static final Set<DType> WEIGHT_DTYPES =
            Collections.unmodifiableSet(EnumSet.of(DType.F32, DType.F16, DType.BF16));

    private record Shard(String origin, MemorySegment bytes, SafetensorsHeader.Parsed header) {
    }

    private final Path path;
    private final Arena arena;
    private final Map<String, SafetensorsTensorInfo> infos;
    private final Map<String, Shard> shardOf;
    private final Metadata metadata;
    private final HfConfig config;
    private final Map<String, Tensor> tensors = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private SafetensorsSource(Path path, Arena arena, List<Shard> shards, HfConfig config) {
        this.path = path;
        this.arena = arena;
        this.config = config;
        Map<String, SafetensorsTensorInfo> byName = new LinkedHashMap<>();
        Map<String, Shard> where = new LinkedHashMap<>();
        Map<String, Object> meta = new LinkedHashMap<>();
        for (Shard s : shards) {
            for (SafetensorsTensorInfo t : s.header().tensors()) {
                SafetensorsTensorInfo old = byName.putIfAbsent(t.name(), t);
                if (old != null) {
                    throw new ModelFormatException(path.getFileName() + ": tensor '" + t.name() + "' is in both "
                            + old.file() + " and " + t.file());
                }
                where.put(t.name(), s);
            }
            s.header().metadata().forEach(meta::putIfAbsent);
        }
        this.infos = Collections.unmodifiableMap(byName);
        this.shardOf = where;
        this.metadata = new MapMetadata(String.valueOf(path.getFileName()), meta);
    }

    /**
     * Opens a {@code .safetensors} file, or a directory with {@code model.safetensors} or a sharded
     * {@code model.safetensors.index.json} (and optionally {@code config.json}).
     *
     * @throws ModelFormatException when a file is invalid or the directory holds neither
     * @throws UncheckedIOException when a file cannot be read
     */
    public static SafetensorsSource open(Path path) {
        if (Files.isDirectory(path)) {
            return openDirectory(path);
        }
        Arena arena = Arena.ofShared();
        try {
            return new SafetensorsSource(path, arena, List.of(map(path, arena)), null);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * One safetensors file already in memory (tests, fuzzing). The segment is not copied and must
     * outlive the result.
     */
    public static SafetensorsSource of(String origin, MemorySegment bytes) {
        Shard s = new Shard(origin, bytes, SafetensorsHeader.parse(origin, bytes));
        return new SafetensorsSource(Path.of(origin), null, List.of(s), null);
    }

    private static SafetensorsSource openDirectory(Path dir) {
        String origin = String.valueOf(dir.getFileName());
        Path index = dir.resolve(INDEX_FILE);
        Path single = dir.resolve(SINGLE_FILE);
        Path configFile = dir.resolve(CONFIG_FILE);
        HfConfig config = Files.isRegularFile(configFile) ? HfConfig.read(configFile) : null;
        Arena arena = Arena.ofShared();
        try {
            List<Shard> shards = new ArrayList<>();
            if (Files.isRegularFile(index)) {
                Map<String, String> weightMap = weightMap(index);
                for (String file : new LinkedHashSet<>(weightMap.values())) {
                    shards.add(map(dir.resolve(file), arena));
                }
                checkWeightMap(INDEX_FILE, weightMap, shards);
            } else if (Files.isRegularFile(single)) {
                shards.add(map(single, arena));
            } else {
                throw new ModelFormatException(origin + ": directory has neither " + SINGLE_FILE + " nor "
                        + INDEX_FILE + " (" + dir + ")");
            }
            return new SafetensorsSource(dir, arena, shards, config);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The {@code weight_map} of an index file: tensor name to shard file name (a plain name in the same directory). */
    private static Map<String, String> weightMap(Path index) {
        HfConfig json = HfConfig.read(index);
        JsonNode map = json.json().get("weight_map");
        if (map == null || !map.isObject()) {
            throw new ModelFormatException(INDEX_FILE + ": 'weight_map' is missing or not an object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            JsonNode f = e.getValue();
            if (!f.isTextual()) {
                throw new ModelFormatException(INDEX_FILE + ": weight_map entry '" + e.getKey()
                        + "' is not a file name");
            }
            String file = f.textValue();
            if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.equals(".") || file.equals("..")
                    || file.indexOf('\0') >= 0) {
                throw new ModelFormatException(INDEX_FILE + ": weight_map entry '" + e.getKey() + "' names '" + file
                        + "', expected a file name in the same directory");
            }
            out.put(e.getKey(), file);
        }
        return out;
    }

    private static void checkWeightMap(String origin, Map<String, String> weightMap, List<Shard> shards) {
        for (Shard s : shards) {
            for (SafetensorsTensorInfo t : s.header().tensors()) {
                String listed = weightMap.get(t.name());
                if (!s.origin().equals(listed)) {
                    throw new ModelFormatException(origin + ": tensor '" + t.name() + "' is stored in " + s.origin()
                            + " but weight_map " + (listed == null ? "does not list it" : "says " + listed));
                }
            }
        }
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            Shard s = shards.stream().filter(x -> x.origin().equals(e.getValue())).findFirst().orElseThrow();
            if (s.header().tensors().stream().noneMatch(t -> t.name().equals(e.getKey()))) {
                throw new ModelFormatException(origin + ": weight_map puts tensor '" + e.getKey() + "' in "
                        + e.getValue() + ", which does not contain it");
            }
        }
    }

    private static Shard map(Path file, Arena arena) {
        String origin = String.valueOf(file.getFileName());
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(origin + ": not a regular file (" + file + ")");
        }
        try {
            MemorySegment seg = MappedFile.map(file, arena);
            return new Shard(origin, seg, SafetensorsHeader.parse(origin, seg));
        } catch (IOException e) {
            throw new UncheckedIOException(origin + ": cannot read: " + e.getMessage(), e);
        }
    }

    @Override
    public Path path() {
        return path;
    }

    /** The {@code __metadata__} strings. */
    @Override
    public Metadata metadata() {
        return metadata;
    }

    /** The directory's config.json, when it has one. */
    public Optional<HfConfig> config() {
        return Optional.ofNullable(config);
    }

    /** Tensor names: shards in index order, header order within a shard. */
    @Override
    public Set<String> names() {
        return infos.keySet();
    }

    public Optional<SafetensorsTensorInfo> tensorInfo(String name) {
        return Optional.ofNullable(infos.get(name));
    }

    public List<SafetensorsTensorInfo> tensorInfos() {
        return List.copyOf(infos.values());
    }

    /** The raw little-endian bytes of a tensor of any dtype (a slice of the mapping). */
    public Optional<MemorySegment> tensorData(String name) {
        checkOpen();
        SafetensorsTensorInfo t = infos.get(name);
        if (t == null) {
            return Optional.empty();
        }
        Shard s = shardOf.get(name);
        return Optional.of(s.bytes().asSlice(s.header().dataStart() + t.begin(), t.byteSize()));
    }

    /**
     * The tensor as a view of the mapped bytes.
     *
     * @throws ModelFormatException when its dtype is not one of {@link #WEIGHT_DTYPES}
     */
    @Override
    public Optional<Tensor> find(String name) {
        checkOpen();
        SafetensorsTensorInfo t = infos.get(name);
        if (t == null) {
            return Optional.empty();
        }
        if (!WEIGHT_DTYPES.contains(t.dtype())) {
            throw new ModelFormatException(t.file() + ": tensor '" + name + "' has dtype " + t.dtype()
                    + ", not usable as a weight (only " + WEIGHT_DTYPES + "); read its bytes with tensorData()");
        }
        return Optional.of(tensors.computeIfAbsent(name,
                n -> TensorViews.create(t.file(), n, t.dtype(), t.shape(), tensorData(n).orElseThrow())));
    }

    /** Unmaps every file; tensors obtained from this source must not be used afterwards. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && arena != null) {
            arena.close();
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException(path.getFileName() + ": closed");
        }
    }

    @Override
    public String toString() {
        return "SafetensorsSource[" + path.getFileName() + ", " + infos.size() + " tensors]";
    }
}
