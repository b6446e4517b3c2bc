package dev.taipan.tensor.backend;

import dev.taipan.tensor.Tensor;

/**
 * Where the matrix work of a weight runs. A backend {@link #place places} a host tensor: the CPU
 * backend returns it unchanged; an offload backend (the {@code opencl} module) returns a tensor
 * whose {@code matvec}/{@code matmul} run on its device over a copy of the weight uploaded once in
 * its stored format. Layers never see the difference: they call the {@link Tensor} methods.
 *
 * <p>Closing a backend frees everything it holds on its device; tensors it placed must not be
 * used afterwards. See ARCHITECTURE.md ("Backend").
 */
public interface Backend extends AutoCloseable {

    /** One line for logs and {@code taipan info}: kind and device. */
    String description();

    /**
     * The tensor layers should compute with for {@code host}: {@code host} itself when this
     * backend leaves it on the CPU (unsupported type, rank 1), otherwise a device-backed tensor
     * with the same name, type, shape and bytes.
     */
    Tensor place(Tensor host);

    @Override
    void close();

    /** The CPU backend: every tensor stays where it is (today's behaviour). */
    static Backend cpu() {
        return CpuBackend.INSTANCE;
    }
}
