package dev.taipan.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * F32 weights (little-endian) over a memory segment. {@link #dot} keeps four vector accumulators
 * (lanes i, i+L, i+2L, i+3L of each 4L block), adds them as (a0+a1)+(a2+a3), then the scalar tail;
 * {@link #matvec} computes four rows per pass with exactly that arithmetic per row, so every output
 * equals {@code dot(row)} bit for bit whatever the thread count or the row's place in a pass.
 * Large batches go to {@link Gemm} (OpenBLAS when it loads).
 */
public final class F32Tensor extends AbstractTensor {
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Rows per pass of {@link #matvec}. */
    private static final int ROWS_PER_PASS = 4;

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
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            long p = base + 4L * i;
            a0 = w(p).fma(FloatVector.fromArray(S, x, xOff + i), a0);
            a1 = w(p + 4L * L).fma(FloatVector.fromArray(S, x, xOff + i + L), a1);
            a2 = w(p + 8L * L).fma(FloatVector.fromArray(S, x, xOff + i + 2 * L), a2);
            a3 = w(p + 12L * L).fma(FloatVector.fromArray(S, x, xOff + i + 3 * L), a3);
        }
        for (; i <= n - L; i += L) {
            a0 = w(base + 4L * i).fma(FloatVector.fromArray(S, x, xOff + i), a0);
        }
        return tail(Lanes.sum(a0.add(a1).add(a2.add(a3))), base, x, xOff, i, n);
    }

    private FloatVector w(long byteOff) {
        return FloatVector.fromMemorySegment(S, data, byteOff, LE);
    }

    private float tail(float sum, long base, float[] x, int xOff, int from, int n) {
        for (int i = from; i < n; i++) {
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

    @Override
    public void matvec(float[] out, float[] x, Parallel par) {
        Tensors.checkMatvec(this, out, x, 1);
        int n = Math.toIntExact(rows());
        int passes = (n + ROWS_PER_PASS - 1) / ROWS_PER_PASS;
        par.forRange(passes, (start, end) -> {
            int r = start * ROWS_PER_PASS;
            int last = Math.min(n, end * ROWS_PER_PASS);
            for (; r <= last - ROWS_PER_PASS; r += ROWS_PER_PASS) {
                dot4(out, r, r, x, 0);
            }
            for (; r < last; r++) {
                out[r] = dot(r, x, 0);
            }
        });
    }

    /**
     * Rows {@code [first, first + count)} by {@link #dot}'s arithmetic, four rows at a time sharing
     * each load of x ({@link #dot4}) as {@link #matvec} computes them: the same floats as
     * {@link #dot} row by row.
     */
    @Override
    public void dotRows(long first, int count, float[] x, int xOff, float[] out, int outOff) {
        java.util.Objects.checkFromIndexSize(outOff, count, out.length);
        java.util.Objects.checkFromIndexSize(first, count, rows());
        java.util.Objects.checkFromIndexSize(xOff, cols(), x.length);
        int i = 0;
        for (; i <= count - ROWS_PER_PASS; i += ROWS_PER_PASS) {
            dot4(out, outOff + i, first + i, x, xOff);
        }
        for (; i < count; i++) {
            out[outOff + i] = dot(first + i, x, xOff);
        }
    }

    /**
     * {@code out[o..o+4) = dot(r..r+4, x[xOff ..])}: each row with the arithmetic of {@link #dot},
     * x loaded once.
     */
    private void dot4(float[] out, int o, long r, float[] x, int xOff) {
        int n = cols();
        long rb = 4L * n;
        long b0 = r * rb;
        long b1 = b0 + rb;
        long b2 = b1 + rb;
        long b3 = b2 + rb;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            long p = 4L * i;
            FloatVector x0 = FloatVector.fromArray(S, x, xOff + i);
            FloatVector x1 = FloatVector.fromArray(S, x, xOff + i + L);
            FloatVector x2 = FloatVector.fromArray(S, x, xOff + i + 2 * L);
            FloatVector x3 = FloatVector.fromArray(S, x, xOff + i + 3 * L);
            a00 = w(b0 + p).fma(x0, a00);
            a01 = w(b0 + p + 4L * L).fma(x1, a01);
            a02 = w(b0 + p + 8L * L).fma(x2, a02);
            a03 = w(b0 + p + 12L * L).fma(x3, a03);
            a10 = w(b1 + p).fma(x0, a10);
            a11 = w(b1 + p + 4L * L).fma(x1, a11);
            a12 = w(b1 + p + 8L * L).fma(x2, a12);
            a13 = w(b1 + p + 12L * L).fma(x3, a13);
            a20 = w(b2 + p).fma(x0, a20);
            a21 = w(b2 + p + 4L * L).fma(x1, a21);
            a22 = w(b2 + p + 8L * L).fma(x2, a22);
            a23 = w(b2 + p + 12L * L).fma(x3, a23);
            a30 = w(b3 + p).fma(x0, a30);
            a31 = w(b3 + p + 4L * L).fma(x1, a31);
            a32 = w(b3 + p + 8L * L).fma(x2, a32);
            a33 = w(b3 + p + 12L * L).fma(x3, a33);
        }
        for (; i <= n - L; i += L) {
            long p = 4L * i;
            FloatVector x0 = FloatVector.fromArray(S, x, xOff + i);
            a00 = w(b0 + p).fma(x0, a00);
            a10 = w(b1 + p).fma(x0, a10);
            a20 = w(b2 + p).fma(x0, a20);
            a30 = w(b3 + p).fma(x0, a30);
        }
        out[o] = tail(Lanes.sum(a00.add(a01).add(a02.add(a03))), b0, x, xOff, i, n);
        out[o + 1] = tail(Lanes.sum(a10.add(a11).add(a12.add(a13))), b1, x, xOff, i, n);
        out[o + 2] = tail(Lanes.sum(a20.add(a21).add(a22.add(a23))), b2, x, xOff, i, n);
        out[o + 3] = tail(Lanes.sum(a30.add(a31).add(a32.add(a33))), b3, x, xOff, i, n);
    }

    /** Batched matvec: OpenBLAS {@link Gemm} for large batches when it is loaded, else blocked Java. */
    @Override
    public void matmul(float[] out, float[] x, int nTokens, Parallel par) {
        Tensors.checkMatvec(this, out, x, nTokens);
        if (Gemm.worthIt(nTokens, rows(), cols()) && Gemm.nativeAvailable()) {
            Gemm.matmulWeights(out, x, nTokens, this, par);
        } else {
            Tensors.matmulBlocked(this, out, x, nTokens, par);
        }
    }
}
