package dev.taipan.quant;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q6_K: super-blocks of 256 weights in 16 groups of 16, {@code w = d * sc[g] * (q - 32)} with an
 * fp16 {@code d}, int8 group scales and 6-bit {@code q} (ggml {@code block_q6_K},
 * {@code dequantize_row_q6_K}). Layout, 210 bytes: {@code ql[128]} (low 4 bits) at 0,
 * {@code qh[64]} (high 2 bits) at 128, {@code scales[16]} at 192, {@code d} at 208. Each half
 * {@code n} of 128 weights uses {@code ql[64n ..]}, {@code qh[32n ..]}, {@code scales[8n ..]}:
 * for {@code l < 32}, weights {@code l, l+32, l+64, l+96} take the low nibble of {@code ql[l]},
 * of {@code ql[l+32]}, the high nibble of {@code ql[l]}, of {@code ql[l+32]}, and bits
 * {@code 0-1, 2-3, 4-5, 6-7} of {@code qh[l]}.
 */
public final class Q6_KTensor extends QuantizedTensor {

    public Q6_KTensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.Q6_K, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new Q6_KTensor(viewName, viewShape, bytes);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float d = fp16(offset + 208);
        for (int n = 0; n < 2; n++) {
            long ql = offset + 64L * n;
            long qh = offset + 128 + 32L * n;
            long sc = offset + 192 + 8L * n;
            int y = dstOff + 128 * n;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = u8(qh + l);
                int q1 = ((u8(ql + l) & 0x0F) | ((h & 3) << 4)) - 32;
                int q2 = ((u8(ql + l + 32) & 0x0F) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = ((u8(ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = ((u8(ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                dst[y + l] = d * i8(sc + is) * q1;
                dst[y + l + 32] = d * i8(sc + is + 2) * q2;
                dst[y + l + 64] = d * i8(sc + is + 4) * q3;
                dst[y + l + 96] = d * i8(sc + is + 6) * q4;
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
        for (int b = 0; b < blocksPerRow; b++, off += 210, xb += 256) {
            float d = fp16(off + 208);
            for (int n = 0; n < 2; n++) {
                long sc = off + 192 + 8L * n;
                for (int half = 0; half < 2; half++) {
                    long ql = off + 64L * n + 16L * half;
                    ByteVector lowA = load16(ql);
                    ByteVector lowB = load16(ql + 32);
                    ByteVector h = load16(off + 128 + 32L * n + 16L * half);
                    ByteVector q1 = lowA.and((byte) 0x0F).or(high(h, 0)).sub((byte) 32);
                    ByteVector q2 = lowB.and((byte) 0x0F).or(high(h, 2)).sub((byte) 32);
                    ByteVector q3 = lowA.lanewise(VectorOperators.LSHR, 4).or(high(h, 4)).sub((byte) 32);
                    ByteVector q4 = lowB.lanewise(VectorOperators.LSHR, 4).or(high(h, 6)).sub((byte) 32);
                    FloatVector s1 = FloatVector.broadcast(F, d * i8(sc + half));
                    FloatVector s2 = FloatVector.broadcast(F, d * i8(sc + half + 2));
                    FloatVector s3 = FloatVector.broadcast(F, d * i8(sc + half + 4));
                    FloatVector s4 = FloatVector.broadcast(F, d * i8(sc + half + 6));
                    int xi = xb + 128 * n + 16 * half;
                    for (int p = 0; p < PARTS; p++) {
                        int xp = xi + p * L;
                        acc0 = widen(q1, p).mul(s1).fma(FloatVector.fromArray(F, x, xp), acc0);
                        acc1 = widen(q2, p).mul(s2).fma(FloatVector.fromArray(F, x, xp + 32), acc1);
                        acc0 = widen(q3, p).mul(s3).fma(FloatVector.fromArray(F, x, xp + 64), acc0);
                        acc1 = widen(q4, p).mul(s4).fma(FloatVector.fromArray(F, x, xp + 96), acc1);
                    }
                }
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** Bits {@code shift, shift+1} of each byte of {@code qh}, moved to bits 4-5. */
    private static ByteVector high(ByteVector qh, int shift) {
        return qh.lanewise(VectorOperators.LSHR, shift).and((byte) 3).lanewise(VectorOperators.LSHL, 4);
    }
}
