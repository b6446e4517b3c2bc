package dev.taipan.tensor;

/** Vector API kernels. */
final class VectorKernels {
    static final Kernels INSTANCE = ScalarKernels.INSTANCE; // TODO(core-tensor agent): real Vector API implementation

    private VectorKernels() {
    }
}
