package dev.taipan.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * bfloat16 (BF16, ggml type 30) weights, little-endian, over a memory segment. Values are
 * decoded to float on the fly ({@link HalfFloat#bf16Vector}); {@link #dot} keeps four accumulators,
 * {@link #dotScalar} decodes with {@link HalfFloat#bf16ToFloat}. {@link #matvec} runs two rows per
 * pass (two memory streams keep more loads in flight) with the arithmetic of {@link #dot} per row,
 * so its outputs equal {@code dot} bit for bit.
 */
public final class BF16Tensor extends AbstractTensor {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int L = HalfFloat.LANES;

    public BF16Tensor(String name, Shape shape, MemorySegment data) {
        super(name, DType.BF16, shape, data);
    }

    /** A heap-backed BF16 tensor of {@code values} rounded to nearest-even bfloat16 (tests). */
    public static BF16Tensor of(String name, Shape shape, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 2]);
        for (int i = 0; i < values.length; i++) {
            seg.set(LE_SHORT, 2L * i, HalfFloat.floatToBf16(values[i]));
        }
        return new BF16Tensor(name, shape, seg);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        return new BF16Tensor(viewName, viewShape, bytes);
    }

    @Override
    public float get(long index) {
        return HalfFloat.bf16ToFloat(data.get(LE_SHORT, index * 2));
    }

    @Override
    public void row(long row, float[] dst, int dstOff) {
        int n = cols();
        long base = row * 2L * n;
        int i = 0;
        for (; i <= n - L; i += L) {
            HalfFloat.bf16Vector(data, base + 2L * i).intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) {
            dst[dstOff + i] = HalfFloat.bf16ToFloat(data.get(LE_SHORT, base + 2L * i));
        }
    }

    /**
     * Vector dot product, four accumulators. The decoding (widen to int, shift left 16) is written
     * out rather than calling {@link HalfFloat#bf16Vector}, so that no vector crosses a call that C2
     * might not inline.
     */
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
            a0 = bits(p).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x(x, xOff + i), a0);
            a1 = bits(p + 2L * L).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x(x, xOff + i + L), a1);
            a2 = bits(p + 4L * L).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(x(x, xOff + i + 2 * L), a2);
            a3 = bits(p + 6L * L).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(x(x, xOff + i + 3 * L), a3);
        }
        for (; i <= n - L; i += L) {
            a0 = bits(base + 2L * i).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x(x, xOff + i), a0);
        }
        float sum = Lanes.sum(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) {
            sum += HalfFloat.bf16ToFloat(data.get(LE_SHORT, base + 2L * i)) * x[xOff + i];
        }
        return sum;
    }

    @Override
    public void matvec(float[] out, float[] x, Parallel par) {
        Tensors.checkMatvec(this, out, x, 1);
        int n = Math.toIntExact(rows());
        par.forRange((n + 1) / 2, (start, end) -> {
            int r = start * 2;
            int last = Math.min(n, end * 2);
            for (; r <= last - 2; r += 2) {
                dot2(out, r, x);
            }
            for (; r < last; r++) {
                out[r] = dot(r, x, 0);
            }
        });
    }

    /**
     * {@code out[r..r+2) = dot(r..r+2, x)}, each row with exactly the arithmetic of {@link #dot}.
     * Two rows, not four: a larger body passes C2's node-count limit for inlining the Vector API.
     */
    private void dot2(float[] out, int r, float[] x) {
        int n = cols();
        long rb = 2L * n;
        long b0 = r * rb;
        FloatVector a00 = FloatVector.zero(HalfFloat.FLOATS), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            long p = b0 + 2L * i;
            FloatVector x0 = x(x, i);
            FloatVector x1 = x(x, i + L);
            FloatVector x2 = x(x, i + 2 * L);
            FloatVector x3 = x(x, i + 3 * L);
            a00 = w(p).fma(x0, a00);
            a01 = w(p + 2L * L).fma(x1, a01);
            a02 = w(p + 4L * L).fma(x2, a02);
            a03 = w(p + 6L * L).fma(x3, a03);
            a10 = w(p + rb).fma(x0, a10);
            a11 = w(p + rb + 2L * L).fma(x1, a11);
            a12 = w(p + rb + 4L * L).fma(x2, a12);
            a13 = w(p + rb + 6L * L).fma(x3, a13);
        }
        for (; i <= n - L; i += L) {
            long p = b0 + 2L * i;
            FloatVector x0 = x(x, i);
            a00 = w(p).fma(x0, a00);
            a10 = w(p + rb).fma(x0, a10);
        }
        out[r] = tail(Lanes.sum(a00.add(a01).add(a02.add(a03))), b0, x, i, n);
        out[r + 1] = tail(Lanes.sum(a10.add(a11).add(a12.add(a13))), b0 + rb, x, i, n);
    }

    private float tail(float sum, long base, float[] x, int from, int n) {
        for (int i = from; i < n; i++) {
            sum += HalfFloat.bf16ToFloat(data.get(LE_SHORT, base + 2L * i)) * x[i];
        }
        return sum;
    }

    /** {@link HalfFloat#LANES} BF16 weights at {@code byteOff} as floats (small enough to inline). */
    private FloatVector w(long byteOff) {
        return bits(byteOff).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** {@link HalfFloat#LANES} raw 16-bit values at {@code byteOff}, widened to ints (small enough to inline). */
    private IntVector bits(long byteOff) {
        return (IntVector) ShortVector.fromMemorySegment(HalfFloat.SHORTS, data, byteOff, LE)
                .convertShape(VectorOperators.S2I, HalfFloat.INTS, 0);
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
            sum += HalfFloat.bf16ToFloat(data.get(LE_SHORT, base + 2L * i)) * x[xOff + i];
        }
        return sum;
    }
}
