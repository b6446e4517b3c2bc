package dev.taipan.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A typed, row-major view over a {@link MemorySegment} (heap, off-heap or memory-mapped). A row is
 * the contiguous last dimension; a 3-D tensor {@code (n, rows, cols)} has {@code n * rows} rows
 * and {@link #slice(long)} addresses its {@code n} matrices (e.g. MoE experts) without copying.
 *
 * <p>Implementations exist for F32, F16 and BF16 here and for the ggml block formats in
 * {@code quant}. Every implementation provides a Vector API {@link #dot} and its scalar twin
 * {@link #dotScalar}; no implementation ever materialises a dequantized copy of the matrix.
 * Activations are plain {@code float[]}.
 */
public interface Tensor {

    /** Name as stored in the file (for error messages). */
    String name();

    DType type();

    Shape shape();

    /** The raw bytes, exactly {@code type().byteSize(shape().elementCount())} long. */
    MemorySegment data();

    /** Number of rows: product of all dimensions but the last. */
    default long rows() {
        return shape().rows();
    }

    /** Length of one row (the contiguous dimension). */
    default int cols() {
        return Math.toIntExact(shape().cols());
    }

    /** Bytes of one row. */
    default long rowBytes() {
        return type().byteSize(shape().cols());
    }

    /** Dequantizes row {@code row} into {@code dst[dstOff .. dstOff + cols())}. */
    void row(long row, float[] dst, int dstOff);

    /** Element {@code index} of the flattened tensor (slow; for small tensors and tests). */
    float get(long index);

    /** Dot product of row {@code row} with {@code x[xOff .. xOff + cols())}, Vector API. */
    float dot(long row, float[] x, int xOff);

    /**
     * {@code out[outOff + i] = dot(first + i, x, xOff)} for {@code i < count}, the same floats as
     * {@link #dot}: one call per run of rows, so that formats with multi-row kernels stream several
     * rows against the same activations (one-token MoE experts and q/k/v rows use it). Like the
     * {@code Kernels} spans it takes (array, offset) pairs.
     */
    default void dotRows(long first, int count, float[] x, int xOff, float[] out, int outOff) {
        java.util.Objects.checkFromIndexSize(outOff, count, out.length);
        for (int i = 0; i < count; i++) {
            out[outOff + i] = dot(first + i, x, xOff);
        }
    }

    /** Scalar twin of {@link #dot}: the test oracle. */
    float dotScalar(long row, float[] x, int xOff);

    /** A view of matrix {@code index} along the outermost dimension, sharing this tensor's bytes. */
    Tensor slice(long index);

    /**
     * {@code out[r] = row r · x} for every row, rows split across {@code par}'s workers. Each
     * output is computed by the same code whatever the thread count (bit-identical results).
     */
    default void matvec(float[] out, float[] x, Parallel par) {
        Tensors.checkMatvec(this, out, x, 1);
        int n = Math.toIntExact(rows());
        par.forRange(n, (start, end) -> {
            for (int r = start; r < end; r++) {
                out[r] = dot(r, x, 0);
            }
        });
    }

    /**
     * Batched matvec for prefill: {@code x} holds {@code nTokens} rows of {@code cols()} values,
     * {@code out} receives {@code nTokens} rows of {@code rows()} values. Each weight row is
     * streamed once for the whole batch ({@link Tensors#matmulBlocked}: tiles of rows, every token
     * per tile), and each output equals {@code dot(r, x, t * cols())}.
     */
    default void matmul(float[] out, float[] x, int nTokens, Parallel par) {
        Tensors.checkMatvec(this, out, x, nTokens);
        Tensors.matmulBlocked(this, out, x, nTokens, par);
    }
}
