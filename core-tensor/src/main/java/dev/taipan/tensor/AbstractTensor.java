package dev.taipan.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Common state of a tensor: name, type, shape and its bytes, checked to agree on construction.
 * Subclasses implement the per-format row access and dot products, and {@link #view} to make a
 * tensor of their own kind over part of the bytes.
 */
public abstract class AbstractTensor implements Tensor {
    protected final String name;
    protected final DType type;
    protected final Shape shape;
    protected final MemorySegment data;

    protected AbstractTensor(String name, DType type, Shape shape, MemorySegment data) {
        this.name = name;
        this.type = type;
        this.shape = shape;
        this.data = data;
        if (shape.cols() % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': row length " + shape.cols()
                    + " is not a multiple of the " + type + " block size " + type.blockSize());
        }
        long expected = type.byteSize(shape.elementCount());
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "': " + type + " " + shape + " needs "
                    + expected + " bytes, got " + data.byteSize());
        }
    }

    /** A tensor of this subclass's format over {@code bytes} with the given shape. */
    protected abstract Tensor view(String viewName, Shape viewShape, MemorySegment bytes);

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final DType type() {
        return type;
    }

    @Override
    public final Shape shape() {
        return shape;
    }

    @Override
    public final MemorySegment data() {
        return data;
    }

    @Override
    public Tensor slice(long index) {
        if (shape.rank() < 2) {
            throw new IllegalArgumentException("tensor '" + name + "': cannot slice a tensor of rank " + shape.rank());
        }
        long n = shape.dim(0);
        if (index < 0 || index >= n) {
            throw new IndexOutOfBoundsException("tensor '" + name + "': slice " + index + " outside [0, " + n + ")");
        }
        Shape inner = shape.dropFirst();
        long bytes = type.byteSize(inner.elementCount());
        return view(name + "[" + index + "]", inner, data.asSlice(index * bytes, bytes));
    }

    @Override
    public String toString() {
        return name + " " + type + " " + shape;
    }
}
