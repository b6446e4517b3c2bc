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
 * Q5_0: blocks of 32 weights, {@code w = d * (q - 16)} with an fp16 scale and 5-bit {@code q}
 * (ggml {@code block_q5_0}, {@code dequantize_row_q5_0}). Block layout, 22 bytes: {@code d} at 0,
 * {@code qh} (u32 LE, bit {@code j} = fifth bit of weight {@code j}) at 2, {@code qs[16]} at 6
 * (low nibble weight {@code j}, high nibble weight {@code j + 16}).
 */
public final class Q5_0Tensor extends QuantizedTensor {

    public Q5_0Tensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.Q5_0, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new Q5_0Tensor(viewName, viewShape, bytes);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float d = fp16(offset);
        int qh = data.get(LE_INT, offset + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(offset + 6 + j);
            int h0 = ((qh >>> j) << 4) & 0x10;
            int h1 = (qh >>> (j + 12)) & 0x10;
            dst[dstOff + j] = (((q & 0x0F) | h0) - 16) * d;
            dst[dstOff + j + 16] = (((q >> 4) | h1) - 16) * d;
        }
    }

    @Override
    public float dot(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        long off = row * rowBytes;
        FloatVector acc = FloatVector.zero(F);
        int xi = xOff;
        for (int b = 0; b < blocksPerRow; b++, off += 22, xi += 32) {
            IntVector qh = IntVector.broadcast(I, data.get(LE_INT, off + 2));
            ByteVector qs = load16(off + 6);
            // sum((q - 16) * x) over the block, then times d
            FloatVector s = FloatVector.zero(F);
            for (int p = 0; p < PARTS; p++) {
                IntVector q = unsigned(qs, p);
                // fifth bit of weight j is bit j of qh
                IntVector h0 = qh.lanewise(VectorOperators.LSHR, IOTA.add(p * L)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector h1 = qh.lanewise(VectorOperators.LSHR, IOTA.add(16 + p * L)).and(1).lanewise(VectorOperators.LSHL, 4);
                FloatVector lo = toFloat(q.and(0x0F).or(h0).sub(16));
                FloatVector hi = toFloat(q.lanewise(VectorOperators.LSHR, 4).or(h1).sub(16));
                s = lo.fma(FloatVector.fromArray(F, x, xi + p * L), s);
                s = hi.fma(FloatVector.fromArray(F, x, xi + 16 + p * L), s);
            }
            acc = s.fma(FloatVector.broadcast(F, fp16(off)), acc);
        }
        return Lanes.sum(acc);
    }
}
