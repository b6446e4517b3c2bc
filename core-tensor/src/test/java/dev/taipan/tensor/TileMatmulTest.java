package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The tile kernel against its scalar twin and float64, on odd sizes, tails and output strides. */
class TileMatmulTest {

    @Test
    void vectorEqualsScalarTwinAndFloat64OnOddSizes() {
        Random rnd = new Random(5);
        for (int rows : new int[] {1, 3, 4, 5, 8, 11}) {
            for (int cols : new int[] {1, 7, 16, 33, 100}) {
                for (int nTokens : new int[] {1, 2, 3, 4, 7, TileMatmul.LANES + 1, 2 * TileMatmul.LANES + 3}) {
                    int stride = rows + 3;
                    int off = 2;
                    float[] w = gaussian(rnd, rows * cols);
                    float[] x = gaussian(rnd, nTokens * cols);
                    float[] vec = new float[nTokens * stride + off];
                    float[] sca = new float[vec.length];
                    TileMatmul.Dims d = new TileMatmul.Dims(rows, cols, nTokens, stride, off);
                    TileMatmul.multiply(vec, w, x, d);
                    TileMatmul.multiplyScalar(sca, w, x, d);
                    for (int t = 0; t < nTokens; t++) {
                        for (int r = 0; r < rows; r++) {
                            double exact = 0;
                            double mag = 0;
                            for (int c = 0; c < cols; c++) {
                                exact += (double) w[r * cols + c] * x[t * cols + c];
                                mag += Math.abs((double) w[r * cols + c] * x[t * cols + c]);
                            }
                            int o = t * stride + off + r;
                            String where = rows + "x" + cols + " tokens " + nTokens + " row " + r + " token " + t;
                            assertEquals(exact, vec[o], 1e-6 * mag + 1e-30, "vector " + where);
                            assertEquals(exact, sca[o], 1e-6 * mag + 1e-30, "scalar " + where);
                            assertEquals(sca[o], vec[o], "vector equals its scalar twin bit for bit, " + where);
                        }
                    }
                    // the gaps between token rows and before the tile are left alone
                    for (int t = 0; t < nTokens; t++) {
                        for (int g = rows; g < stride; g++) {
                            if (t * stride + off + g < vec.length) {
                                assertEquals(0f, vec[t * stride + off + g]);
                            }
                        }
                    }
                    assertEquals(0f, vec[0]);
                }
            }
        }
    }

    @Test
    void blockingDoesNotChangeResults() {
        // a row computed in a 4x3 block equals the same row computed alone
        Random rnd = new Random(6);
        int rows = 8;
        int cols = 70;
        int nTokens = 6;
        float[] w = gaussian(rnd, rows * cols);
        float[] x = gaussian(rnd, nTokens * cols);
        float[] all = new float[nTokens * rows];
        TileMatmul.multiply(all, w, x, new TileMatmul.Dims(rows, cols, nTokens, rows, 0));
        for (int r = 0; r < rows; r++) {
            float[] wr = java.util.Arrays.copyOfRange(w, r * cols, (r + 1) * cols);
            for (int t = 0; t < nTokens; t++) {
                float[] xt = java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
                float[] one = new float[1];
                TileMatmul.multiply(one, wr, xt, new TileMatmul.Dims(1, cols, 1, 1, 0));
                assertEquals(one[0], all[t * rows + r], "row " + r + " token " + t);
            }
        }
    }

    @Test
    void sizesThatDoNotFitAreRejected() {
        TileMatmul.Dims d = new TileMatmul.Dims(4, 8, 2, 4, 0);
        assertThrows(IllegalArgumentException.class, () -> TileMatmul.multiply(new float[8], new float[31], new float[16], d));
        assertThrows(IllegalArgumentException.class, () -> TileMatmul.multiply(new float[7], new float[32], new float[16], d));
        assertThrows(IllegalArgumentException.class, () -> TileMatmul.multiply(new float[8], new float[32], new float[15], d));
        assertThrows(IllegalArgumentException.class, () -> new TileMatmul.Dims(4, 8, 2, 3, 0));
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }
}
