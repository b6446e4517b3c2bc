package dev.taipan.loaders;

import dev.taipan.quant.TensorFactory;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Turns a tensor's validated bytes into a {@link Tensor} through the quant module's factory. */
public final class TensorViews {
    private TensorViews() {
    }

    /**
     * A tensor over {@code data}, which the caller has checked to be exactly the bytes of
     * {@code type} and {@code shape}.
     *
     * @throws ModelFormatException naming {@code origin} and the tensor when no Tensor
     *     implementation exists for the type or the factory refuses the tensor
     */
    public static Tensor create(String origin, String name, DType type, Shape shape, MemorySegment data) {
        try {
            return TensorFactory.create(name, type, shape, data);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ModelFormatException(origin + ": tensor '" + name + "' (" + type + " " + shape
                    + ") cannot be used: " + e.getMessage(), e);
        }
    }
}
