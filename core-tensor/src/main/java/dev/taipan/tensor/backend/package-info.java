/**
 * The {@link dev.taipan.tensor.backend.Backend} seam: where matvec/matmul of a weight run. The
 * CPU implementation lives here; the OpenCL one in the {@code opencl} module (FFM downcalls).
 */
package dev.taipan.tensor.backend;
