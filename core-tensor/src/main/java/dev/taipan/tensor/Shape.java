package dev.taipan.tensor;

import java.util.Arrays;

/**
 * A row-major tensor shape: {@code dims[0]} is the outermost dimension, the last one is contiguous.
 * GGUF lists dimensions the other way round (ggml's {@code ne[0]} is contiguous); use
 * {@link #fromGgml(long...)} for those.
 */
public final class Shape {
    private final long[] dims;
    private final long elementCount;

    private Shape(long[] dims) {
        this.dims = dims;
        long n = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
            }
            n = Math.multiplyExact(n, d);
        }
        this.elementCount = n;
    }

    /** Row-major dimensions, outermost first. @throws ArithmeticException when the product overflows */
    public static Shape of(long... dims) {
        return new Shape(dims.clone());
    }

    /** From ggml's {@code ne[]} order (contiguous dimension first). */
    public static Shape fromGgml(long... ne) {
        long[] d = new long[ne.length];
        for (int i = 0; i < ne.length; i++) {
            d[i] = ne[ne.length - 1 - i];
        }
        return new Shape(d);
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int i) {
        return dims[i];
    }

    /** Dimensions in ggml order: {@code ne[0]} is the contiguous one. */
    public long ne(int i) {
        return dims[dims.length - 1 - i];
    }

    public long[] dims() {
        return dims.clone();
    }

    public long elementCount() {
        return elementCount;
    }

    /** Length of the contiguous (last) dimension; 1 for a scalar. */
    public long cols() {
        return dims.length == 0 ? 1 : dims[dims.length - 1];
    }

    /** Product of all dimensions but the last. */
    public long rows() {
        long c = cols();
        return c == 0 ? 0 : elementCount / c;
    }

    /** The shape without its outermost dimension (a slice along dim 0). */
    public Shape dropFirst() {
        return new Shape(Arrays.copyOfRange(dims, 1, dims.length));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
