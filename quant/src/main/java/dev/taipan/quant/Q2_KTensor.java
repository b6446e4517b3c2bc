package dev.taipan.quant;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q2_K: super-blocks of 256 weights in 16 groups of 16, {@code w = d * sc[g] * q - dmin * m[g]}
 * with fp16 {@code d}, {@code dmin}, 4-bit group scales and mins and 2-bit {@code q} (ggml
 * {@code block_q2_K}, {@code dequantize_row_q2_K}). Layout, 84 bytes: {@code scales[16]} at 0
 * (scale in the low nibble, min in the high), {@code qs[64]} at 16, {@code d} at 80, {@code dmin}
 * at 82. In half {@code c} and quarter {@code j}, weight {@code 128c + 32j + l} is bits
 * {@code 2j..2j+1} of {@code qs[32c + l]}, in group {@code 8c + 2j + l / 16}.
 */
public final class Q2_KTensor extends QuantizedTensor {

    public Q2_KTensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.Q2_K, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new Q2_KTensor(viewName, viewShape, bytes);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float d = fp16(offset + 80);
        float min = fp16(offset + 82);
        int y = dstOff;
        int is = 0;
        for (int c = 0; c < 2; c++) {
            long q = offset + 16 + 32L * c;
            for (int j = 0; j < 4; j++) {
                int shift = 2 * j;
                int sc = u8(offset + is++);
                float dl = d * (sc & 0x0F);
                float ml = min * (sc >> 4);
                for (int l = 0; l < 16; l++) {
                    dst[y++] = dl * ((u8(q + l) >> shift) & 3) - ml;
                }
                sc = u8(offset + is++);
                dl = d * (sc & 0x0F);
                ml = min * (sc >> 4);
                for (int l = 16; l < 32; l++) {
                    dst[y++] = dl * ((u8(q + l) >> shift) & 3) - ml;
                }
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
        for (int b = 0; b < blocksPerRow; b++, off += 84, xb += 256) {
            float d = fp16(off + 80);
            float min = fp16(off + 82);
            for (int c = 0; c < 2; c++) {
                ByteVector qa = load16(off + 16 + 32L * c);
                ByteVector qb = load16(off + 32 + 32L * c);
                for (int j = 0; j < 4; j++) {
                    int scA = u8(off + 8 * c + 2 * j);
                    int scB = u8(off + 8 * c + 2 * j + 1);
                    FloatVector da = FloatVector.broadcast(F, d * (scA & 0x0F));
                    FloatVector ma = FloatVector.broadcast(F, min * (scA >> 4));
                    FloatVector db = FloatVector.broadcast(F, d * (scB & 0x0F));
                    FloatVector mb = FloatVector.broadcast(F, min * (scB >> 4));
                    ByteVector wa = qa.lanewise(VectorOperators.LSHR, 2 * j).and((byte) 3);
                    ByteVector wb = qb.lanewise(VectorOperators.LSHR, 2 * j).and((byte) 3);
                    int xi = xb + 128 * c + 32 * j;
                    for (int p = 0; p < PARTS; p++) {
                        int xp = xi + p * L;
                        acc0 = widen(wa, p).mul(da).sub(ma).fma(FloatVector.fromArray(F, x, xp), acc0);
                        acc1 = widen(wb, p).mul(db).sub(mb).fma(FloatVector.fromArray(F, x, xp + 16), acc1);
                    }
                }
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
}
