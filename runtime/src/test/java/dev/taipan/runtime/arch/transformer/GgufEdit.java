package dev.taipan.runtime.arch.transformer;

import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.gguf.GgufKv;
import dev.taipan.loaders.gguf.GgufTensorInfo;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Rewrites a fixture GGUF with edits (architecture renamed, keys set or removed, tensors dropped,
 * replaced or added) into an in-memory GGUF, for tests of bindings and of load errors.
 */
final class GgufEdit {
    private record Entry(DType type, Shape shape, MemorySegment data) {
    }

    private final Map<String, GgufKv> kvs = new LinkedHashMap<>();
    private final Map<String, Entry> tensors = new LinkedHashMap<>();

    private GgufEdit(Path file) {
        // the fixtures are small: copy everything to the heap so the file can be closed
        try (GgufFile f = GgufFile.open(file)) {
            for (GgufKv kv : f.kvs()) {
                kvs.put(kv.key(), kv);
            }
            for (GgufTensorInfo t : f.tensorInfos()) {
                MemorySegment copy = MemorySegment.ofArray(new byte[Math.toIntExact(t.byteSize())]);
                copy.copyFrom(f.tensorData(t.name()).orElseThrow());
                tensors.put(t.name(), new Entry(t.type(), t.shape(), copy));
            }
        }
    }

    static GgufEdit of(Path file) {
        return new GgufEdit(file);
    }

    /** Renames {@code general.architecture} and every {@code <old>.} key prefix. */
    GgufEdit renameArch(String arch) {
        String old = (String) kvs.get("general.architecture").value();
        Map<String, GgufKv> renamed = new LinkedHashMap<>();
        for (GgufKv kv : kvs.values()) {
            String key = kv.key().startsWith(old + ".") ? arch + kv.key().substring(old.length()) : kv.key();
            Object value = kv.key().equals("general.architecture") ? arch : kv.value();
            renamed.put(key, new GgufKv(key, kv.type(), value));
        }
        kvs.clear();
        kvs.putAll(renamed);
        return this;
    }

    GgufEdit set(String key, GgufValueType type, Object value) {
        kvs.put(key, new GgufKv(key, type, value));
        return this;
    }

    GgufEdit remove(String key) {
        kvs.remove(key);
        return this;
    }

    GgufEdit dropTensor(String name) {
        if (tensors.remove(name) == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        return this;
    }

    /** Adds (or replaces) an F32 tensor of row-major {@code shape}. */
    GgufEdit putF32(String name, Shape shape, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 4]);
        MemorySegment.copy(values, 0, seg, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED
                .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, values.length);
        tensors.put(name, new Entry(DType.F32, shape, seg));
        return this;
    }

    /** Replaces the values of an F32 tensor, keeping its shape. */
    GgufEdit mapF32(String name, UnaryOperator<float[]> f) {
        Entry e = tensors.get(name);
        if (e == null || e.type() != DType.F32) {
            throw new IllegalArgumentException("no F32 tensor " + name);
        }
        float[] v = e.data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED
                .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN));
        return putF32(name, e.shape(), f.apply(v));
    }

    /** Renames a tensor, keeping its data. */
    GgufEdit renameTensor(String from, String to) {
        Entry e = tensors.remove(from);
        if (e == null) {
            throw new IllegalArgumentException("no tensor " + from);
        }
        tensors.put(to, e);
        return this;
    }

    /** The edited file, parsed from memory. */
    GgufFile open(String origin) {
        GgufWriter w = new GgufWriter();
        for (GgufKv kv : kvs.values()) {
            w.put(kv.key(), kv.type(), kv.value());
        }
        for (Map.Entry<String, Entry> t : tensors.entrySet()) {
            w.addTensor(t.getKey(), t.getValue().type(), t.getValue().shape(), t.getValue().data());
        }
        return GgufFile.of(origin, MemorySegment.ofArray(w.toBytes()));
    }
}
