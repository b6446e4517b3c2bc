package dev.taipan.quant;

import dev.taipan.tensor.BF16Tensor;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.F16Tensor;
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
    private static final Set<DType> SUPPORTED = EnumSet.of(DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0, DType.Q4_1,
            DType.Q5_0, DType.Q5_1, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.IQ4_NL,
            DType.MXFP4);

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
            case F16 -> new F16Tensor(name, shape, data);
            case BF16 -> new BF16Tensor(name, shape, data);
            case Q8_0 -> new Q8_0Tensor(name, shape, data);
            case Q4_0 -> new Q4_0Tensor(name, shape, data);
            case Q4_1 -> new Q4_1Tensor(name, shape, data);
            case Q5_0 -> new Q5_0Tensor(name, shape, data);
            case Q5_1 -> new Q5_1Tensor(name, shape, data);
            case Q2_K -> new Q2_KTensor(name, shape, data);
            case Q3_K -> new Q3_KTensor(name, shape, data);
            case Q4_K -> new Q4_KTensor(name, shape, data);
            case Q5_K -> new Q5_KTensor(name, shape, data);
            case Q6_K -> new Q6_KTensor(name, shape, data);
            case IQ4_NL -> new IQ4_NLTensor(name, shape, data);
            case MXFP4 -> new MXFP4Tensor(name, shape, data);
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
