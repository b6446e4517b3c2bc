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

    /** Vector version of the inherited loop: {@code (q - 8) * d} per nibble, the same floats as {@link #dequantizeBlock}. */
    @Override
    void dequantizeRows(long row, int count, float[] dst) {
        checkRows(row, count, dst);
        long off = row * rowBytes;
        int blocks = count * blocksPerRow;
        for (int b = 0, di = 0; b < blocks; b++, off += 18, di += 32) {
            FloatVector d = FloatVector.broadcast(F, fp16(off));
            ByteVector qs = load16(off + 2);
            for (int p = 0; p < PARTS; p++) {
                IntVector q = unsigned(qs, p);
                toFloat(q.and(0x0F).sub(8)).mul(d).intoArray(dst, di + p * L);
                toFloat(q.lanewise(VectorOperators.LSHR, 4).sub(8)).mul(d).intoArray(dst, di + 16 + p * L);
            }
        }
    }

    @Override
    int minTileTokens() {
        return 2;
    }

    @Override
    public float dot(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        long off = row * rowBytes;
        FloatVector acc = FloatVector.zero(F);
        int xi = xOff;
        // per block: sum((q - 8) * x) in lanes, then times the block's scale d
        for (int b = 0; b < blocksPerRow; b++, off += 18, xi += 32) {
            acc = blockDot(off, x, xi).fma(FloatVector.broadcast(F, fp16(off)), acc);
        }
        return Lanes.sum(acc);
    }

    /**
     * Both rows stream against the same activation registers (two prefetch streams); each is
     * accumulated exactly as {@link #dot} does, so the results equal it bit for bit.
     */
    @Override
    void dotTwoRows(long row, float[] x, int xOff, float[] out, int o) {
        long offA = row * rowBytes;
        long offB = offA + rowBytes;
        FloatVector accA = FloatVector.zero(F);
        FloatVector accB = FloatVector.zero(F);
        for (int b = 0, xi = xOff; b < blocksPerRow; b++, offA += 18, offB += 18, xi += 32) {
            accA = blockDot(offA, x, xi).fma(FloatVector.broadcast(F, fp16(offA)), accA);
            accB = blockDot(offB, x, xi).fma(FloatVector.broadcast(F, fp16(offB)), accB);
        }
        if (L == 16) {
            // both rows' sums in one tree, written out (see Lanes.F512_8): equal to Lanes.sum each
            FloatVector s = accA.blend(accB, Lanes.F512_HIGH).add(accB.blend(accA, Lanes.F512_HIGH).rearrange(Lanes.F512_8));
            s = s.add(s.rearrange(Lanes.F512_4));
            s = s.add(s.rearrange(Lanes.F512_2));
            out[o] = s.lane(0) + s.lane(1);
            out[o + 1] = s.lane(8) + s.lane(9);
        } else {
            out[o] = Lanes.sum(accA);
            out[o + 1] = Lanes.sum(accB);
        }
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
