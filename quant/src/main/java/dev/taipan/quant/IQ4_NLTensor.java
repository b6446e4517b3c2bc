package dev.taipan.quant;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Lanes;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * IQ4_NL: blocks of 32 weights, {@code w = d * K[q]} with an fp16 scale and a 4-bit index into
 * the non-linear table {@code K = kvalues_iq4nl} (ggml {@code block_iq4_nl},
 * {@code dequantize_row_iq4_nl}). Block layout, 18 bytes: {@code d} at 0, {@code qs[16]} at 2
 * (low nibble weight {@code j}, high nibble weight {@code j + 16}).
 */
public final class IQ4_NLTensor extends QuantizedTensor {
    /** ggml-common.h {@code kvalues_iq4nl}. */
    static final byte[] VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    private static final ByteVector TABLE = ByteVector.fromArray(B16, VALUES, 0);

    public IQ4_NLTensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.IQ4_NL, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new IQ4_NLTensor(viewName, viewShape, bytes);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float d = fp16(offset);
        for (int j = 0; j < 16; j++) {
            int q = u8(offset + 2 + j);
            dst[dstOff + j] = d * VALUES[q & 0x0F];
            dst[dstOff + j + 16] = d * VALUES[q >> 4];
        }
    }

    @Override
    public float dot(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        long off = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int xi = xOff;
        for (int b = 0; b < blocksPerRow; b++, off += 18, xi += 32) {
            FloatVector d = FloatVector.broadcast(F, fp16(off));
            ByteVector q = load16(off + 2);
            ByteVector lo = q.and((byte) 0x0F).selectFrom(TABLE);
            ByteVector hi = highNibbles(q).selectFrom(TABLE);
            for (int p = 0; p < PARTS; p++) {
                FloatVector w0 = widen(lo, p).mul(d);
                FloatVector w1 = widen(hi, p).mul(d);
                acc0 = w0.fma(FloatVector.fromArray(F, x, xi + p * L), acc0);
                acc1 = w1.fma(FloatVector.fromArray(F, x, xi + 16 + p * L), acc1);
            }
        }
        return Lanes.sum(acc0.add(acc1));
    }
}
