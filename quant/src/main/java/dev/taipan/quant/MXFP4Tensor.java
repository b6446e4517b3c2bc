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
 * MXFP4 (OCP microscaling FP4): blocks of 32 E2M1 weights sharing an E8M0 exponent
 * (ggml {@code block_mxfp4}, {@code dequantize_row_mxfp4}). ggml stores the E2M1 values doubled
 * ({@code kvalues_mxfp4}) and halves the scale, so {@code w = K[q] * 2^(e - 128)}. Block layout,
 * 17 bytes: {@code e} at 0, {@code qs[16]} at 1 (low nibble weight {@code j}, high nibble weight
 * {@code j + 16}).
 */
public final class MXFP4Tensor extends QuantizedTensor {
    /** ggml-common.h {@code kvalues_mxfp4}: E2M1 values times two. */
    static final byte[] VALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    private static final ByteVector TABLE = ByteVector.fromArray(B16, VALUES, 0);

    public MXFP4Tensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.MXFP4, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new MXFP4Tensor(viewName, viewShape, bytes);
    }

    /** ggml {@code ggml_e8m0_to_fp32_half}: {@code 2^(e - 128)}, subnormal for e below 2. */
    static float e8m0Half(int e) {
        int bits = e < 2 ? 0x00200000 << e : (e - 1) << 23;
        return Float.intBitsToFloat(bits);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float d = e8m0Half(u8(offset));
        for (int j = 0; j < 16; j++) {
            int q = u8(offset + 1 + j);
            dst[dstOff + j] = VALUES[q & 0x0F] * d;
            dst[dstOff + j + 16] = VALUES[q >> 4] * d;
        }
    }

    @Override
    public float dot(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        long off = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int xi = xOff;
        for (int b = 0; b < blocksPerRow; b++, off += 17, xi += 32) {
            FloatVector d = FloatVector.broadcast(F, e8m0Half(u8(off)));
            ByteVector q = load16(off + 1);
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
