package dev.taipan.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** F32 weights (little-endian) over a memory segment. */
public final class F32Tensor extends AbstractTensor {
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    public F32Tensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.F32, shape, data);
    }

    /** A heap-backed F32 tensor holding a copy of {@code values} (tests, small derived tensors). */
    public static F32Tensor of(String name, Shape shape, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 4]);
        MemorySegment.copy(values, 0, seg, LE_FLOAT, 0, values.length);
        return new F32Tensor(name, shape, seg);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new F32Tensor(viewName, viewShape, bytes);
    }

    @Override
    public float get(long index) {
        return data.get(LE_FLOAT, index * 4);
    }

    @Override
    public void row(long row, float[] dst, int dstOff) {
        MemorySegment.copy(data, LE_FLOAT, row * rowBytes(), dst, dstOff, cols());
    }

    @Override
    public float dot(long row, float[] x, int xOff) {
        int n = cols();
        long base = row * 4L * n;
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += S.length()) {
            FloatVector w = FloatVector.fromMemorySegment(S, data, base + 4L * i, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(S, x, xOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += data.get(LE_FLOAT, base + 4L * i) * x[xOff + i];
        }
        return sum;
    }

    @Override
    public float dotScalar(long row, float[] x, int xOff) {
        int n = cols();
        long base = row * 4L * n;
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += data.get(LE_FLOAT, base + 4L * i) * x[xOff + i];
        }
        return sum;
    }
}
