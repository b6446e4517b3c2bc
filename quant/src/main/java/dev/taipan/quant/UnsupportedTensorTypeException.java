package dev.taipan.quant;

import dev.taipan.tensor.DType;

/** A tensor's element type has no Tensor implementation (no row access, no dot product). */
public final class UnsupportedTensorTypeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String tensorName;
    private final DType type;

    public UnsupportedTensorTypeException(String tensorName, DType type) {
        super("tensor '" + tensorName + "': element type " + type + " is not supported for computation"
                + " (supported: " + TensorFactory.supportedTypes() + ")");
        this.tensorName = tensorName;
        this.type = type;
    }

    public String tensorName() {
        return tensorName;
    }

    public DType type() {
        return type;
    }
}
