package dev.taipan.quant;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;

/**
 * Makes the {@link Tensor} implementation for a stored element type: the one place where a loader
 * turns (name, type, shape, bytes) into something layers can compute with. The bytes are viewed,
 * never copied.
 */
public final class TensorFactory {
    private static final Set<DType> SUPPORTED = EnumSet.of(DType.F32);

    private TensorFactory() {
    }

    /**
     * A tensor over {@code data} (little-endian, ggml layout for block formats).
     *
     * @throws UnsupportedTensorTypeException when {@code type} cannot be computed with
     * @throws IllegalArgumentException when the byte size does not match type and shape
     */
    public static Tensor create(String name, DType type, Shape shape, MemorySegment data) {
        return switch (type) {
            case F32 -> new F32Tensor(name, shape, data);
            default -> throw new UnsupportedTensorTypeException(name, type);
        };
    }

    /** Whether {@link #create} accepts {@code type}. */
    public static boolean isSupported(DType type) {
        return SUPPORTED.contains(type);
    }

    /** The types {@link #create} accepts, in declaration order. */
    public static Set<DType> supportedTypes() {
        return EnumSet.copyOf(SUPPORTED);
    }
}
