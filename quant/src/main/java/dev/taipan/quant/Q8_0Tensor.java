package dev.taipan.quant;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0: blocks of 32 weights, {@code w = d * q} with an fp16 scale {@code d} and int8 {@code q}
 * (ggml {@code block_q8_0}, {@code dequantize_row_q8_0}). Block layout, 34 bytes:
 * {@code d} fp16 at 0, {@code q[32]} at 2.
 */
public final class Q8_0Tensor extends QuantizedTensor {

    public Q8_0Tensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.Q8_0, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new Q8_0Tensor(viewName, viewShape, bytes);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float d = fp16(offset);
        for (int j = 0; j < 32; j++) {
            dst[dstOff + j] = i8(offset + 2 + j) * d;
        }
    }

    @Override
    public float dot(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        long off = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int xi = xOff;
        int b = 0;
        // Two blocks per step, each into its own accumulator: sum(q * x) per block, then times d.
        for (; b + 1 < blocksPerRow; b += 2, off += 68, xi += 64) {
            acc0 = blockDot(off, x, xi).fma(FloatVector.broadcast(F, fp16(off)), acc0);
            acc1 = blockDot(off + 34, x, xi + 32).fma(FloatVector.broadcast(F, fp16(off + 34)), acc1);
        }
        if (b < blocksPerRow) {
            acc0 = blockDot(off, x, xi).fma(FloatVector.broadcast(F, fp16(off)), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** Lane-wise partial sums of {@code q[i] * x[xi + i]} over one block at {@code off}. */
    private FloatVector blockDot(long off, float[] x, int xi) {
        ByteVector q0 = load16(off + 2);
        ByteVector q1 = load16(off + 18);
        FloatVector s = widen(q0, 0).mul(FloatVector.fromArray(F, x, xi));
        s = widen(q1, 0).fma(FloatVector.fromArray(F, x, xi + 16), s);
        for (int p = 1; p < PARTS; p++) {
            s = widen(q0, p).fma(FloatVector.fromArray(F, x, xi + p * L), s);
            s = widen(q1, p).fma(FloatVector.fromArray(F, x, xi + 16 + p * L), s);
        }
        return s;
    }
}
