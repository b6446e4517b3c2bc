package dev.taipan.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * IEEE half-precision (F16, ggml type 1) weights, little-endian, over a memory segment. Values are
 * decoded to float on the fly ({@link HalfFloat#f16Vector}); {@link #dot} decodes one vector per step into two
 * alternating accumulators, {@link #dotScalar} decodes with {@link Float#float16ToFloat}.
 */
public final class F16Tensor extends AbstractTensor {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int L = HalfFloat.LANES;

    public F16Tensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.F16, shape, data);
    }

    /** A heap-backed F16 tensor of {@code values} rounded to half precision (tests). */
    public static F16Tensor of(String name, Shape shape, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 2]);
        for (int i = 0; i < values.length; i++) {
            seg.set(LE_SHORT, 2L * i, Float.floatToFloat16(values[i]));
        }
        return new F16Tensor(name, shape, seg);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new F16Tensor(viewName, viewShape, bytes);
    }

    @Override
    public float get(long index) {
        return Float.float16ToFloat(data.get(LE_SHORT, index * 2));
    }

    @Override
    public void row(long row, float[] dst, int dstOff) {
        int n = cols();
        long base = row * 2L * n;
        int i = 0;
        for (; i <= n - L; i += L) {
            HalfFloat.f16Vector(data, base + 2L * i).intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) {
            dst[dstOff + i] = Float.float16ToFloat(data.get(LE_SHORT, base + 2L * i));
        }
    }

    /**
     * Vector dot product. The F16 decoding of {@link HalfFloat#f16Vector} is written out here: C2
     * does not inline that helper into a hot loop (its body is past the inlining size limits), and a
     * vector crossing a call is boxed, which costs about 5x. Two accumulators take alternate blocks.
     */
    @Override
    public float dot(long row, float[] x, int xOff) {
        int n = cols();
        long base = row * 2L * n;
        FloatVector a0 = FloatVector.zero(HalfFloat.FLOATS);
        FloatVector a1 = a0;
        int i = 0;
        for (; i <= n - L; i += L) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(HalfFloat.SHORTS, data, base + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, HalfFloat.INTS, 0);
            IntVector t = bits.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
            IntVector normal = t.add(HalfFloat.REBIAS)
                    .add(HalfFloat.REBIAS, t.compare(VectorOperators.GE, HalfFloat.F16_INF_NAN))
                    .lanewise(VectorOperators.OR, HalfFloat.QUIET_NAN, t.compare(VectorOperators.GT, HalfFloat.F16_INF_NAN));
            IntVector small = t.add(HalfFloat.REBIAS + HalfFloat.MIN_NORMAL_BITS).reinterpretAsFloats()
                    .sub(HalfFloat.TWO_POW_MINUS_14).reinterpretAsInts();
            FloatVector w = normal.blend(small, t.compare(VectorOperators.LT, HalfFloat.MIN_NORMAL_BITS))
                    .or(bits.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
            FloatVector next = w.fma(x(x, xOff + i), a0);
            a0 = a1;
            a1 = next;
        }
        float sum = Lanes.sum(a0.add(a1));
        for (; i < n; i++) {
            sum += Float.float16ToFloat(data.get(LE_SHORT, base + 2L * i)) * x[xOff + i];
        }
        return sum;
    }

    private static FloatVector x(float[] x, int off) {
        return FloatVector.fromArray(HalfFloat.FLOATS, x, off);
    }

    @Override
    public float dotScalar(long row, float[] x, int xOff) {
        int n = cols();
        long base = row * 2L * n;
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += Float.float16ToFloat(data.get(LE_SHORT, base + 2L * i)) * x[xOff + i];
        }
        return sum;
    }

    /**
     * Batched matvec for prefill: from 2 tokens on, tiles of rows decoded once ({@link #row}) and
     * multiplied by every token ({@link TiledMatmul}; decoding F16 costs about 13 vector operations per 16 values, so tiles pay from 2 tokens on), else the per-token dots.
     */
    @Override
    public void matmul(float[] out, float[] x, int nTokens, Parallel par) {
        if (nTokens >= 2) {
            TiledMatmul.multiply(this, TiledMatmul.byRows(this), out, x, nTokens, par);
        } else {
            Tensors.checkMatvec(this, out, x, nTokens);
            Tensors.matmulBlocked(this, out, x, nTokens, par);
        }
    }
}
