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
 * Q4_K: super-blocks of 256 weights in 8 sub-blocks of 32, {@code w = d * sc[s] * q - dmin * m[s]}
 * with fp16 {@code d}, {@code dmin}, 6-bit sub-block scales and mins and 4-bit {@code q}
 * (ggml {@code block_q4_K}, {@code dequantize_row_q4_K}). Layout, 144 bytes: {@code d} at 0,
 * {@code dmin} at 2, packed {@code scales[12]} at 4, {@code qs[128]} at 16. Each 32 bytes of
 * {@code qs} hold 64 weights: sub-block {@code 2c} in the low nibbles, {@code 2c + 1} in the high.
 */
public final class Q4_KTensor extends QuantizedTensor {

    public Q4_KTensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.Q4_K, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new Q4_KTensor(viewName, viewShape, bytes);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float d = fp16(offset);
        float min = fp16(offset + 2);
        long s = offset + 4;
        for (int c = 0; c < 4; c++) {
            float d1 = d * k4Scale(s, 2 * c);
            float m1 = min * k4Min(s, 2 * c);
            float d2 = d * k4Scale(s, 2 * c + 1);
            float m2 = min * k4Min(s, 2 * c + 1);
            long q = offset + 16 + 32L * c;
            int y = dstOff + 64 * c;
            for (int l = 0; l < 32; l++) {
                dst[y + l] = d1 * (u8(q + l) & 0x0F) - m1;
            }
            for (int l = 0; l < 32; l++) {
                dst[y + 32 + l] = d2 * (u8(q + l) >> 4) - m2;
            }
        }
    }

    @Override
    public float dot(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        long off = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int xb = xOff;
        // The source keeps few vector operations per loop body: C2 inlines every Vector API
        // call, and a body with many of them exceeds its node budget and leaves vectors boxed.
        for (int b = 0; b < blocksPerRow; b++, off += 144, xb += 256) {
            float d = fp16(off);
            float min = fp16(off + 2);
            long scales = k4Scales(off + 4);
            long mins = k4Mins(off + 4);
            for (int c = 0; c < 4; c++) {
                FloatVector d1 = FloatVector.broadcast(F, d * byteOf(scales, 2 * c));
                FloatVector m1 = FloatVector.broadcast(F, -(min * byteOf(mins, 2 * c)));
                FloatVector d2 = FloatVector.broadcast(F, d * byteOf(scales, 2 * c + 1));
                FloatVector m2 = FloatVector.broadcast(F, -(min * byteOf(mins, 2 * c + 1)));
                for (int k = 0; k < 2; k++) {
                    ByteVector qs = load16(off + 16 + 32L * c + 16L * k);
                    for (int p = 0; p < PARTS; p++) {
                        IntVector q = unsigned(qs, p);
                        int xp = xb + 64 * c + 16 * k + p * L;
                        // weights 64c + [0, 32): low nibbles, scale 2c; [32, 64): high nibbles, scale 2c + 1
                        acc0 = toFloat(q.and(0x0F)).fma(d1, m1).fma(FloatVector.fromArray(F, x, xp), acc0);
                        acc1 = toFloat(q.lanewise(VectorOperators.LSHR, 4)).fma(d2, m2)
                                .fma(FloatVector.fromArray(F, x, xp + 32), acc1);
                    }
                }
            }
        }
        return Lanes.sum(acc0.add(acc1));
    }
}
