package dev.taipan.moe;

import dev.taipan.tensor.AbstractTensor;
import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * An F32 tensor that counts, per expert slice, the matvec/matmul calls and row dot products made
 * on it: shows which experts a forward call touched and how often their weights were streamed.
 */
final class CountingTensor extends AbstractTensor {
    private final F32Tensor delegate;
    private final int index;
    final int[] products; // per slice: matvec + matmul calls
    final int[] dots;     // per slice: row dot products

    CountingTensor(F32Tensor delegate, int nSlices) {
        this(delegate, -1, new int[nSlices], new int[nSlices]);
    }

    private CountingTensor(F32Tensor delegate, int index, int[] products, int[] dots) {
        super(delegate.name(), delegate.type(), delegate.shape(), delegate.data());
        this.delegate = delegate;
        this.index = index;
        this.products = products;
        this.dots = dots;
    }

    void clear() {
        Arrays.fill(products, 0);
        Arrays.fill(dots, 0);
    }

    @Override
    protected Tensor view(String viewName, Shape viewShape, MemorySegment bytes) {
        throw new UnsupportedOperationException("use slice");
    }

    @Override
    public Tensor slice(long i) {
        return new CountingTensor((F32Tensor) delegate.slice(i), (int) i, products, dots);
    }

    @Override
    public void row(long row, float[] dst, int dstOff) {
        delegate.row(row, dst, dstOff);
    }

    @Override
    public float get(long i) {
        return delegate.get(i);
    }

    @Override
    public float dot(long row, float[] x, int xOff) {
        synchronized (dots) {
            dots[index]++;
        }
        return delegate.dot(row, x, xOff);
    }

    @Override
    public float dotScalar(long row, float[] x, int xOff) {
        return delegate.dotScalar(row, x, xOff);
    }

    @Override
    public void matvec(float[] out, float[] x, Parallel par) {
        products[index]++;
        super.matvec(out, x, par);
    }

    @Override
    public void matmul(float[] out, float[] x, int nTokens, Parallel par) {
        products[index]++;
        super.matmul(out, x, nTokens, par);
    }
}
