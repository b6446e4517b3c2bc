package dev.taipan.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * IEEE half-precision (F16, ggml type 1) weights, little-endian, over a memory segment. Values are
 * decoded to float on the fly ({@link HalfFloat#f16Vector}); {@link #dot} keeps four accumulators as
 * {@link F32Tensor#dot} does, {@link #dotScalar} decodes with {@link Float#float16ToFloat}.
 */
public final class F16Tensor extends AbstractTensor {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
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

    @Override
    public float dot(long row, float[] x, int xOff) {
        int n = cols();
        long base = row * 2L * n;
        FloatVector a0 = FloatVector.zero(HalfFloat.FLOATS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            long p = base + 2L * i;
            a0 = HalfFloat.f16Vector(data, p).fma(x(x, xOff + i), a0);
            a1 = HalfFloat.f16Vector(data, p + 2L * L).fma(x(x, xOff + i + L), a1);
            a2 = HalfFloat.f16Vector(data, p + 4L * L).fma(x(x, xOff + i + 2 * L), a2);
            a3 = HalfFloat.f16Vector(data, p + 6L * L).fma(x(x, xOff + i + 3 * L), a3);
        }
        for (; i <= n - L; i += L) {
            a0 = HalfFloat.f16Vector(data, base + 2L * i).fma(x(x, xOff + i), a0);
        }
        float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
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
}
