package dev.taipan.runtime.arch;

import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.TensorSource;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Binds weights by name with their shapes checked, as llama.cpp's create_tensor does: a missing
 * or misshaped tensor fails at load naming it; {@link #checkAllUsed()} rejects files that hold
 * tensors the architecture does not know. Shapes are given in ggml order ({@code ne[0]} first,
 * the contiguous dimension), as in the GGUF listings.
 */
public final class Weights {
    private final TensorSource source;
    private final Set<String> used = new HashSet<>();

    public Weights(TensorSource source) {
        this.source = source;
    }

    public TensorSource source() {
        return source;
    }

    /** The tensor {@code name} with exactly the ggml dimensions {@code ne}. */
    public Tensor get(String name, long... ne) {
        return find(name, ne).orElseThrow(() ->
                new ModelFormatException(source.path() + ": missing tensor '" + name + "'"));
    }

    /** The tensor if present; when present its shape must be {@code ne}. */
    public Optional<Tensor> find(String name, long... ne) {
        Optional<Tensor> t = source.find(name);
        t.ifPresent(tensor -> {
            Shape expected = Shape.fromGgml(trimOnes(ne));
            Shape actual = Shape.fromGgml(trimOnes(ggmlOrder(tensor.shape())));
            if (!expected.equals(actual)) {
                throw new ModelFormatException(source.path() + ": tensor '" + name + "' has ne "
                        + Arrays.toString(ggmlOrder(tensor.shape())) + ", expected " + Arrays.toString(ne));
            }
            used.add(name);
        });
        return t;
    }

    /** A 1-D F32-convertible vector of n values (norm weights, biases), copied to the heap. */
    public float[] vector(String name, long n) {
        return toFloats(get(name, n));
    }

    /** As {@link #vector} but null when the tensor is absent. */
    public float[] optionalVector(String name, long n) {
        return find(name, n).map(Weights::toFloats).orElse(null);
    }

    /** All elements of a (small) tensor as floats. */
    public static float[] toFloats(Tensor t) {
        long count = t.shape().elementCount();
        float[] out = new float[Math.toIntExact(count)];
        int cols = t.cols();
        for (long r = 0; r < t.rows(); r++) {
            t.row(r, out, Math.toIntExact(r * cols));
        }
        return out;
    }

    /** Whether a binding has asked for tensor {@code name}. */
    public boolean isUsed(String name) {
        return used.contains(name);
    }

    /** Fails naming the tensors of the file that no binding asked for. */
    public void checkAllUsed() {
        Set<String> extra = new TreeSet<>(source.names());
        extra.removeAll(used);
        if (!extra.isEmpty()) {
            throw new ModelFormatException(source.path() + ": " + extra.size()
                    + " unexpected tensor(s) for this architecture: " + String.join(", ", extra));
        }
    }

    private static long[] ggmlOrder(Shape s) {
        long[] ne = new long[s.rank()];
        for (int i = 0; i < ne.length; i++) {
            ne[i] = s.ne(i);
        }
        return ne;
    }

    // trailing ne of 1 are not significant (ggml pads to 4 dims)
    private static long[] trimOnes(long[] ne) {
        int n = ne.length;
        while (n > 1 && ne[n - 1] == 1) {
            n--;
        }
        return Arrays.copyOf(ne, n);
    }
}
