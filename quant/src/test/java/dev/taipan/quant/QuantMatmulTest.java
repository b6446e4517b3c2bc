package dev.taipan.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import dev.taipan.tensor.TiledMatmul;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Prefill by dequantized tiles ({@link TiledMatmul}): every output against a float64 dot of the
 * exact dequantized row (bound {@code 1e-6 * sum|w * x|}), for batch sizes on both sides of each
 * format's threshold, row counts that leave partial tiles, 1 and 3 threads; and the vectorized
 * {@code dequantizeRows} of Q8_0/Q4_0 equal to the scalar per-block dequantization bit for bit.
 */
class QuantMatmulTest {

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
            "IQ4_NL", "MXFP4"})
    void matmulEqualsFloat64DotsOfTheDequantizedRows(DType type) {
        Random rnd = new Random(type.ordinal() * 17L + 3);
        int cols = 3 * type.blockSize();
        int rows = TiledMatmul.tileRows(cols) * 2 + 5; // two whole tiles and a partial one
        try (Arena arena = Arena.ofShared(); Parallel one = Parallel.create(1); Parallel three = Parallel.create(3)) {
            Tensor w = TensorFactory.create("w", type, Shape.of(rows, cols),
                    VectorScalarTwinTest.randomBlocks(type, (long) rows * 3, rnd, arena));
            float[] dq = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                w.row(r, dq, r * cols);
            }
            for (int nTokens : new int[] {1, 2, 3, 7, 8, 13}) {
                float[] x = new float[nTokens * cols];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                float[] out1 = new float[nTokens * rows];
                float[] out3 = new float[nTokens * rows];
                w.matmul(out1, x, nTokens, one);
                w.matmul(out3, x, nTokens, three);
                assertArrayEquals(out1, out3, type + " " + nTokens + " tokens: thread count changed the result");
                for (int t = 0; t < nTokens; t++) {
                    for (int r = 0; r < rows; r++) {
                        double exact = 0;
                        double mag = 0;
                        for (int c = 0; c < cols; c++) {
                            double p = (double) dq[r * cols + c] * x[t * cols + c];
                            exact += p;
                            mag += Math.abs(p);
                        }
                        float got = out1[t * rows + r];
                        assertTrue(Math.abs(got - exact) <= 1e-6 * mag + Double.MIN_NORMAL,
                                type + " " + nTokens + " tokens, row " + r + " token " + t + ": " + got + " vs " + exact);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void vectorDequantizationEqualsTheScalarOne(DType type) {
        Random rnd = new Random(11);
        int cols = 5 * type.blockSize();
        int rows = 9;
        try (Arena arena = Arena.ofConfined()) {
            QuantizedTensor w = (QuantizedTensor) TensorFactory.create("w", type, Shape.of(rows, cols),
                    VectorScalarTwinTest.randomBlocks(type, (long) rows * 5, rnd, arena));
            for (int first = 0; first < rows; first += 4) {
                int count = Math.min(4, rows - first);
                float[] vec = new float[count * cols];
                float[] scalar = new float[count * cols];
                w.dequantizeRows(first, count, vec);
                for (int i = 0; i < count; i++) {
                    w.row(first + i, scalar, i * cols);
                }
                assertArrayEquals(scalar, vec, type + " rows " + first + ".." + (first + count));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_K"})
    void dotRowsEqualsDotBitForBit(DType type) {
        Random rnd = new Random(13);
        int cols = 4 * type.blockSize();
        int rows = 11;
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = TensorFactory.create("w", type, Shape.of(rows, cols),
                    VectorScalarTwinTest.randomBlocks(type, (long) rows * 4, rnd, arena));
            int xOff = 3;
            float[] x = new float[xOff + cols + 2];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            for (int first = 0; first < rows; first++) {
                for (int count = 0; first + count <= rows; count++) {
                    float[] out = new float[count + 5];
                    w.dotRows(first, count, x, xOff, out, 2);
                    for (int i = 0; i < count; i++) {
                        assertEquals(w.dot(first + i, x, xOff), out[2 + i], type + " rows " + first + "+" + count + " at " + i);
                    }
                    assertEquals(0f, out[0]);
                    assertEquals(0f, out[1]);
                }
            }
            assertThrows(IndexOutOfBoundsException.class, () -> w.dotRows(rows - 1, 2, x, xOff, new float[4], 0));
        }
    }
}
