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
 * Q3_K: super-blocks of 256 weights in 16 groups of 16, {@code w = d * (sc[g] - 32) * q} with an
 * fp16 {@code d}, 6-bit group scales and 3-bit signed {@code q} in -4..3 (ggml {@code block_q3_K},
 * {@code dequantize_row_q3_K}). Layout, 110 bytes: {@code hmask[32]} at 0, {@code qs[64]} at 32,
 * packed {@code scales[12]} at 96, {@code d} at 108. In half {@code c} (128 weights) and quarter
 * {@code j}, weight {@code 128c + 32j + l} is bits {@code 2j..2j+1} of {@code qs[32c + l]}, minus
 * 4 unless bit {@code 4c + j} of {@code hmask[l]} is set; its scale is {@code sc[8c + 2j + l / 16]}.
 */
public final class Q3_KTensor extends QuantizedTensor {
    private static final int KMASK1 = 0x03030303;
    private static final int KMASK2 = 0x0f0f0f0f;

    public Q3_KTensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.Q3_K, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new Q3_KTensor(viewName, viewShape, bytes);
    }

    /**
     * Group scale {@code g} (0..15) minus 32: ggml unpacks the 12 bytes into 16 6-bit values
     * through four little-endian words (the {@code kmask1}/{@code kmask2} shuffle).
     */
    private int scale(long block, int g) {
        int a0 = data.get(LE_INT, block + 96);
        int a1 = data.get(LE_INT, block + 100);
        int tmp = data.get(LE_INT, block + 104);
        int word = switch (g >> 2) {
            case 0 -> (a0 & KMASK2) | (((tmp >>> 0) & KMASK1) << 4);
            case 1 -> (a1 & KMASK2) | (((tmp >>> 2) & KMASK1) << 4);
            case 2 -> ((a0 >>> 4) & KMASK2) | (((tmp >>> 4) & KMASK1) << 4);
            default -> ((a1 >>> 4) & KMASK2) | (((tmp >>> 6) & KMASK1) << 4);
        };
        return (byte) (word >>> (8 * (g & 3))) - 32;
    }

    /**
     * Group scales {@code 8 * half ..} (raw 6-bit values, before subtracting 32) packed one per
     * byte: the same unpacking as {@link #scale}, for eight groups at once.
     */
    private long scales(long block, int half) {
        int a0 = data.get(LE_INT, block + 96);
        int a1 = data.get(LE_INT, block + 100);
        int tmp = data.get(LE_INT, block + 104);
        int shift = 4 * half;
        int w0 = ((a0 >>> shift) & KMASK2) | (((tmp >>> (shift + 0)) & KMASK1) << 4);
        int w1 = ((a1 >>> shift) & KMASK2) | (((tmp >>> (shift + 2)) & KMASK1) << 4);
        return (w0 & 0xFFFFFFFFL) | ((long) w1 << 32);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float dAll = fp16(offset + 108);
        int y = dstOff;
        for (int c = 0; c < 2; c++) {
            long q = offset + 32 + 32L * c;
            for (int j = 0; j < 4; j++) {
                int shift = 2 * j;
                int m = 1 << (4 * c + j);
                float dl = dAll * scale(offset, 8 * c + 2 * j);
                for (int l = 0; l < 16; l++) {
                    dst[y++] = dl * (((u8(q + l) >> shift) & 3) - ((u8(offset + l) & m) != 0 ? 0 : 4));
                }
                dl = dAll * scale(offset, 8 * c + 2 * j + 1);
                for (int l = 16; l < 32; l++) {
                    dst[y++] = dl * (((u8(q + l) >> shift) & 3) - ((u8(offset + l) & m) != 0 ? 0 : 4));
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
        for (int b = 0; b < blocksPerRow; b++, off += 110, xb += 256) {
            float dAll = fp16(off + 108);
            for (int c = 0; c < 2; c++) {
                long scales = scales(off, c);
                for (int k = 0; k < 2; k++) {
                    ByteVector qs = load16(off + 32 + 32L * c + 16L * k);
                    ByteVector hm = load16(off + 16L * k);
                    for (int p = 0; p < PARTS; p++) {
                        IntVector q = unsigned(qs, p);
                        IntVector h = unsigned(hm, p).lanewise(VectorOperators.LSHR, 4 * c);
                        for (int j = 0; j < 4; j++) {
                            // weights 128c + 32j + 16k + l: bits 2j of qs plus 4 * hmask bit 4c + j, minus 4
                            IntVector v = q.lanewise(VectorOperators.LSHR, 2 * j).and(3)
                                    .or(h.lanewise(VectorOperators.LSHR, j).and(1).lanewise(VectorOperators.LSHL, 2));
                            float dl = dAll * (byteOf(scales, 2 * j + k) - 32);
                            FloatVector w = toFloat(v).fma(FloatVector.broadcast(F, dl), FloatVector.broadcast(F, -4 * dl));
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
