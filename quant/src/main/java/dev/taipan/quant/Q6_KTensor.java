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
        // The source keeps few vector operations per loop body: C2 inlines every Vector API
        // call, and a body with many of them exceeds its node budget and leaves vectors boxed.
        for (int b = 0; b < blocksPerRow; b++, off += 210, xb += 256) {
            float d = fp16(off + 208);
            for (int n = 0; n < 2; n++) {
                long sc = i64(off + 192 + 8L * n);
                for (int half = 0; half < 2; half++) {
                    ByteVector high = load16(off + 128 + 32L * n + 16L * half);
                    // j: which 16 ql bytes; nib: which nibble. Quarter k = j + 2 nib holds weights
                    // 32k + l, with the high bits 2k, 2k + 1 of qh[l] and the scale half + 2k.
                    for (int j = 0; j < 2; j++) {
                        ByteVector low = load16(off + 64L * n + 16L * half + 32L * j);
                        for (int nib = 0; nib < 2; nib++) {
                            int k = j + 2 * nib;
                            float scale = d * (byte) byteOf(sc, half + 2 * k);
                            FloatVector s = FloatVector.broadcast(F, scale);
                            FloatVector bias = FloatVector.broadcast(F, -32 * scale);
                            for (int p = 0; p < PARTS; p++) {
                                IntVector lo = unsigned(low, p).lanewise(VectorOperators.LSHR, 4 * nib).and(0x0F);
                                IntVector hi = unsigned(high, p).lanewise(VectorOperators.LSHR, 2 * k).and(3);
                                // (q - 32) * scale as q * scale - 32 * scale, one rounding
                                FloatVector w = toFloat(lo.or(hi.lanewise(VectorOperators.LSHL, 4))).fma(s, bias);
                                int xp = xb + 128 * n + 16 * half + 32 * k + p * L;
                                if (nib == 0) {
                                    acc0 = w.fma(FloatVector.fromArray(F, x, xp), acc0);
                                } else {
                                    acc1 = w.fma(FloatVector.fromArray(F, x, xp), acc1);
                                }
                            }
                        }
                    }
                }
            }
        }
        return Lanes.sum(acc0.add(acc1));
    }
}
