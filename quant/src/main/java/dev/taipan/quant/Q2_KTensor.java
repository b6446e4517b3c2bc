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
        // The source keeps few vector operations per loop body: C2 inlines every Vector API
        // call, and a body with many of them exceeds its node budget and leaves vectors boxed.
        for (int b = 0; b < blocksPerRow; b++, off += 84, xb += 256) {
            float d = fp16(off + 80);
            float min = fp16(off + 82);
            for (int c = 0; c < 2; c++) {
                long scales = i64(off + 8L * c);
                for (int k = 0; k < 2; k++) {
                    ByteVector qs = load16(off + 16 + 32L * c + 16L * k);
                    for (int p = 0; p < PARTS; p++) {
                        IntVector q = unsigned(qs, p);
                        for (int j = 0; j < 4; j++) {
                            // weights 128c + 32j + 16k + l: bits 2j of qs[32c + 16k + l], group 8c + 2j + k
                            int sc = byteOf(scales, 2 * j + k);
                            FloatVector dl = FloatVector.broadcast(F, d * (sc & 0x0F));
                            FloatVector ml = FloatVector.broadcast(F, -(min * (sc >> 4)));
                            FloatVector w = toFloat(q.lanewise(VectorOperators.LSHR, 2 * j).and(3)).fma(dl, ml);
                            int xp = xb + 128 * c + 32 * j + 16 * k + p * L;
                            if ((j & 1) == 0) {
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
