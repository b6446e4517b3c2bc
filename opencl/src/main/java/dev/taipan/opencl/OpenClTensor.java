package dev.taipan.opencl;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import dev.taipan.tensor.Tensors;
import java.lang.foreign.MemorySegment;

/**
 * A host tensor whose bytes also live in a device buffer (uploaded once, in their stored format).
 * {@link #matvec} and {@link #matmul} run on the device; everything else ({@link #dot},
 * {@link #dotScalar}, {@link #row}, {@link #get}) is answered by the host tensor, so a layer that
 * reads single rows stays exact. {@link #slice} of a 3-D expert tensor is a view at a byte offset
 * into the same buffer: MoE layers compute only the experts they select.
 */
public final class OpenClTensor implements Tensor {
    private final Tensor host;
    private final OpenClBackend backend;
    private final MemorySegment buffer;
    private final long byteOffset;

    OpenClTensor(Tensor host, OpenClBackend backend, MemorySegment buffer, long byteOffset) {
        this.host = host;
        this.backend = backend;
        this.buffer = buffer;
        this.byteOffset = byteOffset;
    }

    /** The host tensor this mirrors. */
    public Tensor host() {
        return host;
    }

    MemorySegment buffer() {
        return buffer;
    }

    long byteOffset() {
        return byteOffset;
    }

    @Override
    public String name() {
        return host.name();
    }

    @Override
    public DType type() {
        return host.type();
    }

    @Override
    public Shape shape() {
        return host.shape();
    }

    @Override
    public MemorySegment data() {
        return host.data();
    }

    @Override
    public void row(long row, float[] dst, int dstOff) {
        host.row(row, dst, dstOff);
    }

    @Override
    public float get(long index) {
        return host.get(index);
    }

    @Override
    public float dot(long row, float[] x, int xOff) {
        return host.dot(row, x, xOff);
    }

    @Override
    public float dotScalar(long row, float[] x, int xOff) {
        return host.dotScalar(row, x, xOff);
    }

    @Override
    public Tensor slice(long index) {
        Tensor inner = host.slice(index);
        return new OpenClTensor(inner, backend, buffer, byteOffset + index * inner.data().byteSize());
    }

    @Override
    public void matvec(float[] out, float[] x, Parallel par) {
        Tensors.checkMatvec(this, out, x, 1);
        backend.matmul(this, out, x, 1);
    }

    @Override
    public void matmul(float[] out, float[] x, int nTokens, Parallel par) {
        Tensors.checkMatvec(this, out, x, nTokens);
        if (nTokens > 0) {
            backend.matmul(this, out, x, nTokens);
        }
    }

    @Override
    public String toString() {
        return host + " @ " + backend.description();
    }
}
