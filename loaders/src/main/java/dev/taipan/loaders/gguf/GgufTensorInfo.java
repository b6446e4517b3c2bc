package dev.taipan.loaders.gguf;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import java.util.Arrays;

/**
 * One entry of a GGUF tensor table: name, ggml type, dimensions in ggml order ({@code ne[0]} is the
 * contiguous one), and where the bytes are: {@code offset} is relative to the start of the data
 * section (as stored in the file), {@code byteSize} follows from type and dimensions.
 */
public record GgufTensorInfo(String name, DType type, long[] ne, long offset, long byteSize) {

    public GgufTensorInfo {
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    /** Number of dimensions stored in the file (1 to 4). */
    public int nDims() {
        return ne.length;
    }

    /** Row-major shape (the reverse of {@code ne}). */
    public Shape shape() {
        return Shape.fromGgml(ne);
    }

    public long elementCount() {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && type == t.type && Arrays.equals(ne, t.ne)
                && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(ne);
    }

    @Override
    public String toString() {
        return name + " " + type + " ne=" + Arrays.toString(ne) + " offset=" + offset + " bytes=" + byteSize;
    }
}
