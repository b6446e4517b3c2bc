package dev.taipan.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Vector API {@code dot} against its scalar twin and against a float64 dot of the dequantized
 * row, on random valid blocks: rows of 1, 2, 3 and 7 blocks, several rows, activation offsets,
 * 3-D slices, and matvec/matmul with 1 and 3 threads.
 */
class VectorScalarTwinTest {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Byte offsets of the fp16 scale fields inside one block of each format. */
    static int[] fp16Fields(DType type) {
        return switch (type) {
            case Q8_0, Q4_0, Q5_0, IQ4_NL -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            case MXFP4 -> new int[0];
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    /** Random bytes with finite, moderate scales (fp16 in about [-2, 2], MXFP4 exponents near 1). */
    static MemorySegment randomBlocks(DType type, long blocks, Random rnd, Arena arena) {
        int bb = type.blockBytes();
        MemorySegment seg = arena.allocate(blocks * bb);
        byte[] block = new byte[bb];
        for (long b = 0; b < blocks; b++) {
            rnd.nextBytes(block);
            MemorySegment.copy(MemorySegment.ofArray(block), 0, seg, b * bb, bb);
            for (int f : fp16Fields(type)) {
                seg.set(LE_SHORT, b * bb + f, Float.floatToFloat16((float) rnd.nextGaussian()));
            }
            if (type == DType.MXFP4) {
                seg.set(ValueLayout.JAVA_BYTE, b * bb, (byte) (120 + rnd.nextInt(12)));
            }
        }
        return seg;
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
            "IQ4_NL", "MXFP4"})
    void vectorDotMatchesScalarTwinOnTails(DType type) {
        Random rnd = new Random(type.ordinal() * 31L + 7);
        try (Arena arena = Arena.ofConfined()) {
            for (int blocksPerRow : List.of(1, 2, 3, 7)) {
                int rows = 5;
                int cols = blocksPerRow * type.blockSize();
                Tensor t = TensorFactory.create("rnd", type, Shape.of(rows, cols),
                        randomBlocks(type, (long) rows * blocksPerRow, rnd, arena));
                int xOff = 5;
                float[] x = new float[cols + xOff + 3];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                float[] w = new float[cols];
                for (int r = 0; r < rows; r++) {
                    t.row(r, w, 0);
                    double exact = 0;
                    double scale = 0;
                    for (int c = 0; c < cols; c++) {
                        exact += (double) w[c] * x[xOff + c];
                        scale += Math.abs((double) w[c] * x[xOff + c]);
                    }
                    double bound = 1e-6 * scale + Double.MIN_NORMAL;
                    float vec = t.dot(r, x, xOff);
                    float scalar = t.dotScalar(r, x, xOff);
                    String where = type + " " + blocksPerRow + " blocks, row " + r;
                    assertTrue(Math.abs(vec - exact) <= bound, where + ": vector " + vec + " vs " + exact);
                    assertTrue(Math.abs(scalar - exact) <= bound, where + ": scalar " + scalar + " vs " + exact);
                    assertTrue(Math.abs(vec - scalar) <= bound, where + ": vector " + vec + " vs scalar " + scalar);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_K", "Q6_K", "MXFP4", "Q3_K"})
    void slicesMatvecAndMatmulAgreeWithDot(DType type) {
        Random rnd = new Random(99);
        try (Arena arena = Arena.ofShared(); Parallel three = Parallel.create(3)) {
            int experts = 3;
            int rows = 7;
            int cols = 2 * type.blockSize();
            Tensor t = TensorFactory.create("experts", type, Shape.of(experts, rows, cols),
                    randomBlocks(type, (long) experts * rows * 2, rnd, arena));
            int nTokens = 3;
            float[] x = new float[nTokens * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            for (int e = 0; e < experts; e++) {
                Tensor s = t.slice(e);
                assertEquals(type, s.type());
                assertEquals(Shape.of(rows, cols), s.shape());
                float[] out = new float[rows];
                s.matvec(out, x, three);
                float[] outBatch = new float[nTokens * rows];
                s.matmul(outBatch, x, nTokens, three);
                for (int r = 0; r < rows; r++) {
                    assertEquals(t.dot((long) e * rows + r, x, 0), out[r], type + " expert " + e + " row " + r);
                    for (int tok = 0; tok < nTokens; tok++) {
                        // matmul may dequantize tiles (TiledMatmul): same products, other sum order
                        float dot = s.dot(r, x, tok * cols);
                        assertEquals(dot, outBatch[tok * rows + r], 1e-5f * (1f + Math.abs(dot)),
                                type + " expert " + e + " row " + r + " token " + tok);
                    }
                }
            }
        }
    }
}
