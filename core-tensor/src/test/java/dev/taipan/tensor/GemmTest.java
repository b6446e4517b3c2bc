package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * OpenBLAS {@code cblas_sgemm} against the pure-Java path and a double-precision reference on odd
 * sizes; F32Tensor.matmul above the native threshold against per-token dot. Tolerance: {@code 1e-6 *
 * k * sum |a_p b_p|} per output (float sums in different orders). OpenBLAS ships with the build
 * (linux-x86_64), so the native path is required to load here.
 */
class GemmTest {

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    @Test
    void openBlasLoadsOnLinuxX86() {
        if (System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").equals("amd64")) {
            assertTrue(Gemm.nativeAvailable(), "OpenBLAS natives for linux-x86_64 are on the class path");
        }
    }

    @Test
    void nativeMatchesJavaAndDoubleOnOddSizes() {
        Random rnd = new Random(21);
        for (int[] s : new int[][] {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {31, 129, 100}, {64, 3, 513}}) {
            Gemm.Dims d = new Gemm.Dims(s[0], s[1], s[2]);
            float[] a = random(rnd, d.m() * d.k());
            float[] b = random(rnd, d.n() * d.k());
            float[] viaNative = new float[d.m() * d.n()];
            float[] viaJava = new float[d.m() * d.n()];
            Gemm.multiplyTransposed(viaNative, a, b, d);
            Gemm.multiplyTransposedJava(viaJava, a, b, d);
            for (int i = 0; i < d.m(); i++) {
                for (int j = 0; j < d.n(); j++) {
                    double exact = 0;
                    double abs = 0;
                    for (int p = 0; p < d.k(); p++) {
                        double prod = (double) a[i * d.k() + p] * b[j * d.k() + p];
                        exact += prod;
                        abs += Math.abs(prod);
                    }
                    double tol = 1e-6 * d.k() * abs + 1e-30;
                    String what = d + " at (" + i + "," + j + ")";
                    assertEquals(exact, viaNative[i * d.n() + j], tol, "native " + what);
                    assertEquals(exact, viaJava[i * d.n() + j], tol, "java " + what);
                }
            }
        }
    }

    @Test
    void f32MatmulAboveThresholdMatchesDot() {
        Random rnd = new Random(22);
        int rows = 301;
        int cols = 257;
        int nTokens = 19;
        F32Tensor w = F32Tensor.of("w", Shape.of(rows, cols), random(rnd, rows * cols));
        float[] x = random(rnd, nTokens * cols);
        float[] out = new float[nTokens * rows];
        try (Parallel two = Parallel.create(2)) {
            w.matmul(out, x, nTokens, two);
        }
        for (int t = 0; t < nTokens; t++) {
            for (int r = 0; r < rows; r++) {
                double abs = 0;
                for (int p = 0; p < cols; p++) {
                    abs += Math.abs((double) w.get((long) r * cols + p) * x[t * cols + p]);
                }
                assertEquals(w.dot(r, x, t * cols), out[t * rows + r], 1e-6 * cols * abs, "token " + t + " row " + r);
            }
        }
    }

    @Test
    void tooSmallArraysAreRejected() {
        Gemm.Dims d = new Gemm.Dims(2, 3, 4);
        assertThrows(IllegalArgumentException.class, () -> Gemm.multiplyTransposed(new float[5], new float[8],
                new float[12], d));
        assertThrows(IllegalArgumentException.class, () -> new Gemm.Dims(-1, 1, 1));
    }
}
