package dev.taipan.tensor.backend;

import dev.taipan.tensor.Tensor;

/** The host backend: tensors compute with their own Vector API kernels; nothing to free. */
final class CpuBackend implements Backend {
    static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {
    }

    @Override
    public String description() {
        return "cpu";
    }

    @Override
    public Tensor place(Tensor host) {
        return host;
    }

    @Override
    public void close() {
    }
}
