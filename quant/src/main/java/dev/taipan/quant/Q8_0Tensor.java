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
        for (int b = 0; b < blocksPerRow; b++, off += 34, xi += 32) {
            FloatVector d = FloatVector.broadcast(F, fp16(off));
            ByteVector q0 = load16(off + 2);
            ByteVector q1 = load16(off + 18);
            for (int p = 0; p < PARTS; p++) {
                FloatVector w0 = widen(q0, p).mul(d);
                FloatVector w1 = widen(q1, p).mul(d);
                acc0 = w0.fma(FloatVector.fromArray(F, x, xi + p * L), acc0);
                acc1 = w1.fma(FloatVector.fromArray(F, x, xi + 16 + p * L), acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
}
