package dev.taipan.quant;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_0: blocks of 32 weights, {@code w = d * (q - 8)} with an fp16 scale and 4-bit {@code q}
 * (ggml {@code block_q4_0}, {@code dequantize_row_q4_0}). Block layout, 18 bytes: {@code d} fp16
 * at 0, {@code qs[16]} at 2; byte {@code j} holds weight {@code j} in its low nibble and weight
 * {@code j + 16} in its high nibble.
 */
public final class Q4_0Tensor extends QuantizedTensor {

    public Q4_0Tensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.Q4_0, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new Q4_0Tensor(viewName, viewShape, bytes);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float d = fp16(offset);
        for (int j = 0; j < 16; j++) {
            int q = u8(offset + 2 + j);
            dst[dstOff + j] = ((q & 0x0F) - 8) * d;
            dst[dstOff + j + 16] = ((q >> 4) - 8) * d;
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
        // Two blocks per step, each into its own accumulator: sum((q - 8) * x) per block, then times d.
        for (; b + 1 < blocksPerRow; b += 2, off += 36, xi += 64) {
            acc0 = blockDot(off, x, xi).fma(FloatVector.broadcast(F, fp16(off)), acc0);
            acc1 = blockDot(off + 18, x, xi + 32).fma(FloatVector.broadcast(F, fp16(off + 18)), acc1);
        }
        if (b < blocksPerRow) {
            acc0 = blockDot(off, x, xi).fma(FloatVector.broadcast(F, fp16(off)), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** Lane-wise partial sums of {@code (q[i] - 8) * x[xi + i]} over one block at {@code off}. */
    private FloatVector blockDot(long off, float[] x, int xi) {
        ByteVector qs = load16(off + 2);
        FloatVector s = FloatVector.zero(F);
        for (int p = 0; p < PARTS; p++) {
            IntVector q = unsigned(qs, p);
            FloatVector lo = toFloat(q.and(0x0F).sub(8));
            FloatVector hi = toFloat(q.lanewise(VectorOperators.LSHR, 4).sub(8));
            s = lo.fma(FloatVector.fromArray(F, x, xi + p * L), s);
            s = hi.fma(FloatVector.fromArray(F, x, xi + 16 + p * L), s);
        }
        return s;
    }
}
