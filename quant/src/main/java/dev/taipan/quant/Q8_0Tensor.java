package dev.taipan.quant;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Lanes;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

/**
 * Q8_0: blocks of 32 weights, {@code w = d * q} with an fp16 scale {@code d} and int8 {@code q}
 * (ggml {@code block_q8_0}, {@code dequantize_row_q8_0}). Block layout, 34 bytes:
 * {@code d} fp16 at 0, {@code q[32]} at 2.
 */
public final class Q8_0Tensor extends QuantizedTensor {

    public Q8_0Tensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.Q8_0, shape, data);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new Q8_0Tensor(viewName, viewShape, bytes);
    }

    @Override
    void dequantizeBlock(long offset, float[] dst, int dstOff) {
        float d = fp16(offset);
        for (int j = 0; j < 32; j++) {
            dst[dstOff + j] = i8(offset + 2 + j) * d;
        }
    }

    /** Vector version of the inherited loop: {@code q * d} per block, the same floats as {@link #dequantizeBlock}. */
    @Override
    void dequantizeRows(long row, int count, float[] dst) {
        checkRows(row, count, dst);
        long off = row * rowBytes;
        int blocks = count * blocksPerRow;
        for (int b = 0, di = 0; b < blocks; b++, off += 34, di += 32) {
            FloatVector d = FloatVector.broadcast(F, fp16(off));
            ByteVector q0 = load16(off + 2);
            ByteVector q1 = load16(off + 18);
            for (int p = 0; p < PARTS; p++) {
                widen(q0, p).mul(d).intoArray(dst, di + p * L);
                widen(q1, p).mul(d).intoArray(dst, di + 16 + p * L);
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
        // per block: sum(q * x) in lanes, then times the block's scale d
        for (int b = 0; b < blocksPerRow; b++, off += 34, xi += 32) {
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
        for (int b = 0, xi = xOff; b < blocksPerRow; b++, offA += 34, offB += 34, xi += 32) {
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

    /** Lane-wise partial sums of {@code q[i] * x[xi + i]} over one block at {@code off}. */
    private FloatVector blockDot(long off, float[] x, int xi) {
        ByteVector q0 = load16(off + 2);
        ByteVector q1 = load16(off + 18);
        FloatVector s = widen(q0, 0).mul(FloatVector.fromArray(F, x, xi));
        s = widen(q1, 0).fma(FloatVector.fromArray(F, x, xi + 16), s);
        for (int p = 1; p < PARTS; p++) {
            s = widen(q0, p).fma(FloatVector.fromArray(F, x, xi + p * L), s);
            s = widen(q1, p).fma(FloatVector.fromArray(F, x, xi + 16 + p * L), s);
        }
        return s;
    }
}
