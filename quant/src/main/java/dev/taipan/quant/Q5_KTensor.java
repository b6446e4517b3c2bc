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
 * Q5_K: super-blocks of 256 weights in 8 sub-blocks of 32, {@code w = d * sc[s] * q - dmin * m[s]}
 * with 5-bit {@code q} (ggml {@code block_q5_K}, {@code dequantize_row_q5_K}). Layout, 176 bytes:
 * {@code d} at 0, {@code dmin} at 2, packed {@code scales[12]} at 4 (as Q4_K), {@code qh[32]} at
 * 16, {@code qs[128]} at 48. For the 64 weights of chunk {@code c}, byte {@code l} of the chunk's
 * 32 {@code qs} bytes holds weight {@code l} (low nibble) and {@code 32 + l} (high nibble); their
 * fifth bits are bits {@code 2c} and {@code 2c + 1} of {@code qh[l]}.
 */
public final class Q5_KTensor extends QuantizedTensor {

    public Q5_KTensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.Q5_K, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new Q5_KTensor(viewName, viewShape, bytes);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float d = fp16(offset);
        float min = fp16(offset + 2);
        long s = offset + 4;
        long qh = offset + 16;
        for (int c = 0; c < 4; c++) {
            float d1 = d * k4Scale(s, 2 * c);
            float m1 = min * k4Min(s, 2 * c);
            float d2 = d * k4Scale(s, 2 * c + 1);
            float m2 = min * k4Min(s, 2 * c + 1);
            long ql = offset + 48 + 32L * c;
            int u1 = 1 << (2 * c);
            int u2 = 2 << (2 * c);
            int y = dstOff + 64 * c;
            for (int l = 0; l < 32; l++) {
                dst[y + l] = d1 * ((u8(ql + l) & 0x0F) + ((u8(qh + l) & u1) != 0 ? 16 : 0)) - m1;
            }
            for (int l = 0; l < 32; l++) {
                dst[y + 32 + l] = d2 * ((u8(ql + l) >> 4) + ((u8(qh + l) & u2) != 0 ? 16 : 0)) - m2;
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
        for (int b = 0; b < blocksPerRow; b++, off += 176, xb += 256) {
            float d = fp16(off);
            float min = fp16(off + 2);
            long scales = k4Scales(off + 4);
            long mins = k4Mins(off + 4);
            for (int c = 0; c < 4; c++) {
                for (int k = 0; k < 2; k++) {
                    ByteVector qs = load16(off + 48 + 32L * c + 16L * k);
                    ByteVector qhs = load16(off + 16 + 16L * k);
                    // half 0: low nibbles, sub-block 2c; half 1: high nibbles, sub-block 2c + 1
                    for (int half = 0; half < 2; half++) {
                        FloatVector dl = FloatVector.broadcast(F, d * byteOf(scales, 2 * c + half));
                        FloatVector ml = FloatVector.broadcast(F, -(min * byteOf(mins, 2 * c + half)));
                        for (int p = 0; p < PARTS; p++) {
                            IntVector q = unsigned(qs, p).lanewise(VectorOperators.LSHR, 4 * half).and(0x0F);
                            IntVector h = unsigned(qhs, p).lanewise(VectorOperators.LSHR, 2 * c + half).and(1);
                            FloatVector w = toFloat(q.or(h.lanewise(VectorOperators.LSHL, 4))).fma(dl, ml);
                            int xp = xb + 64 * c + 32 * half + 16 * k + p * L;
                            if (half == 0) {
                                acc0 = w.fma(FloatVector.fromArray(F, x, xp), acc0);
                            } else {
                                acc1 = w.fma(FloatVector.fromArray(F, x, xp), acc1);
                            }
                        }
                    }
                }
            }
        }
        return Lanes.sum(acc0.add(acc1));
    }
}
