package dev.taipan.quant;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Lanes;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_1: blocks of 32 weights, {@code w = d * q + m} with fp16 {@code d}, {@code m} and 4-bit
 * {@code q} (ggml {@code block_q4_1}, {@code dequantize_row_q4_1}). Block layout, 20 bytes:
 * {@code d} at 0, {@code m} at 2, {@code qs[16]} at 4 (low nibble weight {@code j}, high nibble
 * weight {@code j + 16}).
 */
public final class Q4_1Tensor extends QuantizedTensor {

    public Q4_1Tensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.Q4_1, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new Q4_1Tensor(viewName, viewShape, bytes);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float d = fp16(offset);
        float m = fp16(offset + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(offset + 4 + j);
            dst[dstOff + j] = (q & 0x0F) * d + m;
            dst[dstOff + j + 16] = (q >> 4) * d + m;
        }
    }

    @Override
    public float dot(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        long off = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int xi = xOff;
        for (int b = 0; b < blocksPerRow; b++, off += 20, xi += 32) {
            FloatVector d = FloatVector.broadcast(F, fp16(off));
            FloatVector m = FloatVector.broadcast(F, fp16(off + 2));
            ByteVector qs = load16(off + 4);
            for (int p = 0; p < PARTS; p++) {
                IntVector q = unsigned(qs, p);
                FloatVector w0 = toFloat(q.and(0x0F)).mul(d).add(m);
                FloatVector w1 = toFloat(q.lanewise(VectorOperators.LSHR, 4)).mul(d).add(m);
                acc0 = w0.fma(FloatVector.fromArray(F, x, xi + p * L), acc0);
                acc1 = w1.fma(FloatVector.fromArray(F, x, xi + 16 + p * L), acc1);
            }
        }
        return Lanes.sum(acc0.add(acc1));
    }
}
