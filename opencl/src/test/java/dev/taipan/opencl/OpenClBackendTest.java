package dev.taipan.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taipan.quant.Quantizer;
import dev.taipan.quant.TensorFactory;
import dev.taipan.tensor.BF16Tensor;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.F16Tensor;
import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The OpenCL kernels against the host tensors' own dot products (the CPU backend), per stored
 * format, on odd row counts, rows shorter and longer than a work-group, batches and expert slices.
 * Runs for real on any OpenCL platform (PoCL in CI); skips, saying why, where none is installed.
 */
class OpenClBackendTest {
    private static OpenClBackend backend;
    private static final Parallel PAR = Parallel.create(1);

    private static final OpenClDevices.Probe PROBE = OpenClDevices.probe();

    @BeforeAll
    static void open() {
        if (PROBE.available()) {
            backend = OpenClBackend.open(-1);
        }
    }

    @BeforeEach
    void needsOpenCl() {
        assumeTrue(PROBE.available(), () -> "skipped: no OpenCL platform (" + PROBE.reason() + ")");
    }

    @AfterAll
    static void close() {
        if (backend != null) {
            backend.close();
        }
    }

    static Tensor hostTensor(DType type, Shape shape, long seed) {
        Random rnd = new Random(seed);
        float[] v = new float[Math.toIntExact(shape.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return switch (type) {
            case F32 -> F32Tensor.of("w", shape, v);
            case F16 -> F16Tensor.of("w", shape, v);
            default -> TensorFactory.create("w", type, shape, MemorySegment.ofArray(Quantizer.quantize(type, v)));
        };
    }

    static float[] randomVector(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    /** |device - host| within float rounding of a length-cols sum: 1e-5 * sum |w_i x_i|, at least 1e-6. */
    static void assertClose(Tensor host, long row, float[] x, int xOff, float actual) {
        float[] w = new float[host.cols()];
        host.row(row, w, 0);
        double mag = 0;
        for (int i = 0; i < w.length; i++) {
            mag += Math.abs((double) w[i] * x[xOff + i]);
        }
        float expected = host.dot(row, x, xOff);
        assertEquals(expected, actual, Math.max(1e-6, 1e-5 * mag), host.name() + " row " + row);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "Q8_0", "Q4_0"})
    void matvecEqualsHostDotOnOddShapes(DType type) {
        int[] rowCounts = {1, 7, 33};
        int[] colCounts = type.blockSize() == 1 ? new int[] {37, 64, 333} : new int[] {32, 96, 32 * 67};
        long seed = 1;
        for (int rows : rowCounts) {
            for (int cols : colCounts) {
                Tensor host = hostTensor(type, Shape.of(rows, cols), seed++);
                Tensor dev = backend.place(host);
                assertInstanceOf(OpenClTensor.class, dev);
                float[] x = randomVector(cols, seed++);
                float[] out = new float[rows];
                dev.matvec(out, x, PAR);
                for (int r = 0; r < rows; r++) {
                    assertClose(host, r, x, 0, out[r]);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "Q8_0", "Q4_0"})
    void matmulEqualsHostDotPerToken(DType type) {
        int rows = 19;
        int cols = 160;
        Tensor host = hostTensor(type, Shape.of(rows, cols), 42);
        Tensor dev = backend.place(host);
        // within one token tile, and two full tiles plus a partial one
        for (int nTokens : new int[] {5, 19}) {
            float[] x = randomVector(nTokens * cols, 43 + nTokens);
            float[] out = new float[nTokens * rows];
            dev.matmul(out, x, nTokens, PAR);
            for (int t = 0; t < nTokens; t++) {
                for (int r = 0; r < rows; r++) {
                    assertClose(host, r, x, t * cols, out[t * rows + r]);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "Q8_0", "Q4_0"})
    void expertSlicesReadTheirOwnBytes(DType type) {
        int nExpert = 5;
        int rows = 7;
        int cols = 64;
        Tensor host = hostTensor(type, Shape.of(nExpert, rows, cols), 7);
        Tensor dev = backend.place(host);
        float[] x = randomVector(cols, 8);
        for (int e = nExpert - 1; e >= 0; e--) {
            Tensor slice = dev.slice(e);
            float[] out = new float[rows];
            slice.matvec(out, x, PAR);
            for (int r = 0; r < rows; r++) {
                assertClose(host.slice(e), r, x, 0, out[r]);
            }
        }
    }

    @Test
    void rowAccessDelegatesToTheHost() {
        Tensor host = hostTensor(DType.Q8_0, Shape.of(3, 64), 9);
        Tensor dev = backend.place(host);
        float[] x = randomVector(64, 10);
        assertEquals(host.dot(2, x, 0), dev.dot(2, x, 0));
        assertEquals(host.dotScalar(1, x, 0), dev.dotScalar(1, x, 0));
        assertEquals(host.get(70), dev.get(70));
        assertEquals(host.shape(), dev.shape());
        assertEquals(host.type(), dev.type());
    }

    @Test
    void unsupportedTensorsStayOnTheHost() {
        Tensor vector = hostTensor(DType.F32, Shape.of(64), 11);
        assertSame(vector, backend.place(vector));
        Tensor bf16 = BF16Tensor.of("bf16", Shape.of(2, 64), randomVector(128, 12));
        assertSame(bf16, backend.place(bf16));
    }

    @Test
    void badKernelSourceFailsWithTheBuildLog() {
        String bad = "__kernel void matvec_f32(__global float* o) { o[0] = undeclared_thing; }";
        OpenClException e = assertThrows(OpenClException.class, () -> OpenClBackend.open(-1, bad));
        assertTrue(e.getMessage().contains("clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE"), e.getMessage());
        assertTrue(e.getMessage().contains("undeclared_thing"), "build log in the message: " + e.getMessage());
    }

    @Test
    void missingDeviceIndexIsNamed() {
        OpenClException e = assertThrows(OpenClException.class, () -> OpenClBackend.open(1000));
        assertTrue(e.getMessage().contains("no OpenCL device 1000"), e.getMessage());
    }

    @Test
    void closeReleasesEveryBufferAndLaterUseFails() {
        int before = OpenClBackend.liveBuffers();
        Tensor dev;
        try (OpenClBackend b = OpenClBackend.open(-1)) {
            dev = b.place(hostTensor(DType.Q4_0, Shape.of(4, 3, 64), 13));
            b.place(hostTensor(DType.F16, Shape.of(5, 64), 14));
            dev.slice(1).matvec(new float[3], randomVector(64, 15), PAR);
            assertEquals(before + 4, OpenClBackend.liveBuffers(), "2 weights + activation and output buffers");
        }
        assertEquals(before, OpenClBackend.liveBuffers());
        assertThrows(IllegalStateException.class, () -> dev.matvec(new float[4 * 3], new float[64], PAR));
    }
}
