package dev.taipan.loaders;

import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.gguf.GgufKv;
import dev.taipan.loaders.gguf.GgufTensorInfo;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import dev.taipan.loaders.safetensors.SafetensorsTensorInfo;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The fuzz property of both parsers: any input either parses, and then everything it describes
 * can be read within bounds, or it throws {@link ModelFormatException}; no other exception, no
 * crash, no hang.
 */
public final class FuzzTargets {
    private FuzzTargets() {
    }

    public static void gguf(byte[] data) {
        try (GgufFile f = GgufFile.of("fuzz.gguf", MemorySegment.ofArray(data))) {
            for (GgufKv kv : f.kvs()) {
                check(f.metadata().require(kv.key()).equals(kv.value()), "metadata value of " + kv.key());
                check(!kv.value().toString().isEmpty() || kv.value() instanceof String, "value text");
            }
            for (GgufTensorInfo t : f.tensorInfos()) {
                MemorySegment bytes = f.tensorData(t.name()).orElseThrow();
                check(bytes.byteSize() == t.byteSize(), "byte size of " + t.name());
                check(f.dataOffset() + t.offset() + t.byteSize() <= data.length, "bounds of " + t.name());
                touch(() -> f.get(t.name()));
            }
        } catch (ModelFormatException expected) {
            // the only allowed failure
        }
    }

    public static void safetensors(byte[] data) {
        try (SafetensorsSource s = SafetensorsSource.of("fuzz.safetensors", MemorySegment.ofArray(data))) {
            for (String key : s.metadata().keys()) {
                s.metadata().getString(key);
            }
            for (SafetensorsTensorInfo t : s.tensorInfos()) {
                MemorySegment bytes = s.tensorData(t.name()).orElseThrow();
                check(bytes.byteSize() == t.byteSize(), "byte size of " + t.name());
                touch(() -> s.get(t.name()));
            }
        } catch (ModelFormatException expected) {
            // the only allowed failure
        }
    }

    private interface TensorGetter {
        Tensor get();
    }

    /** Makes the tensor (a refused type is a ModelFormatException) and reads its first and last element. */
    private static void touch(TensorGetter getter) {
        Tensor t;
        try {
            t = getter.get();
        } catch (ModelFormatException refusedType) {
            return;
        }
        long n = t.shape().elementCount();
        if (n > 0 && !t.type().isBlockFormat()) {
            t.get(0);
            t.get(n - 1);
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError("fuzz property violated: " + what);
        }
    }
}
