package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * F32, F16 and BF16 tensors: Vector API {@code dot} against {@code dotScalar} and a double-precision
 * reference on every row length 1 … 3×lanes+7; decoding of every F16 bit pattern; matvec
 * bit-identical for 1 and 2 threads and equal to per-row dot; matmul equal to per-token matvec.
 * Tolerance of a dot: {@code 1e-6 * cols * sum |w_i x_i|} (float summation, different order).
 */
class DenseTensorTest {
    private static final int LANES = HalfFloat.LANES;
    private static final int MAX_N = 3 * LANES + 7;

    private enum Kind { F32, F16, BF16 }

    private static Tensor make(Kind kind, Shape shape, float[] v) {
        return switch (kind) {
            case F32 -> F32Tensor.of("w", shape, v);
            case F16 -> F16Tensor.of("w", shape, v);
            case BF16 -> BF16Tensor.of("w", shape, v);
        };
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    @Test
    void dotMatchesScalarTwinAndDoubleReference() {
        Random rnd = new Random(11);
        for (Kind kind : Kind.values()) {
            for (int n = 1; n <= MAX_N; n++) {
                int rows = 3;
                Tensor w = make(kind, Shape.of(rows, n), random(rnd, rows * n));
                float[] x = random(rnd, n + 5);
                for (int r = 0; r < rows; r++) {
                    double exact = 0;
                    double abs = 0;
                    for (int i = 0; i < n; i++) {
                        double p = (double) w.get((long) r * n + i) * x[5 + i];
                        exact += p;
                        abs += Math.abs(p);
                    }
                    double tol = 1e-6 * n * abs + 1e-30;
                    String what = kind + " n=" + n + " row=" + r;
                    assertEquals(exact, w.dot(r, x, 5), tol, what);
                    assertEquals(exact, w.dotScalar(r, x, 5), tol, what);
                }
            }
        }
    }

    @Test
    void rowAndGetDecodeEveryF16AndBf16Pattern() {
        int n = 1 << 16;
        MemorySegment seg = MemorySegment.ofArray(new byte[2 * n]);
        for (int i = 0; i < n; i++) {
            seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i, (short) i);
        }
        Tensor f16 = new F16Tensor("f16", Shape.of(n / 64, 64), seg);
        Tensor bf16 = new BF16Tensor("bf16", Shape.of(n / 64, 64), seg);
        float[] a = new float[64];
        float[] b = new float[64];
        for (int r = 0; r < n / 64; r++) {
            f16.row(r, a, 0);
            bf16.row(r, b, 0);
            for (int c = 0; c < 64; c++) {
                short bits = (short) (r * 64 + c);
                assertEquals(Float.floatToRawIntBits(Float.float16ToFloat(bits)), Float.floatToRawIntBits(a[c]),
                        "f16 bits " + Integer.toHexString(bits & 0xffff));
                assertEquals(Float.floatToRawIntBits(Float.float16ToFloat(bits)),
                        Float.floatToRawIntBits(f16.get(r * 64L + c)));
                assertEquals(Float.intBitsToFloat((bits & 0xffff) << 16), b[c]);
            }
        }
        assertEquals(1f, HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(1f)));
        assertEquals(1.0078125f, HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(1.01f)));
    }

    @Test
    void matvecIsBitIdenticalForOneAndTwoThreadsAndEqualsDot() {
        Random rnd = new Random(12);
        try (Parallel one = Parallel.create(1); Parallel two = Parallel.create(2); Parallel three = Parallel.create(3)) {
            for (Kind kind : Kind.values()) {
                for (int[] shape : new int[][] {{1, 7}, {5, 3 * LANES + 7}, {37, 4 * LANES + 1}, {64, 256}, {9, 2}}) {
                    int rows = shape[0];
                    int cols = shape[1];
                    Tensor w = make(kind, Shape.of(rows, cols), random(rnd, rows * cols));
                    float[] x = random(rnd, cols);
                    float[] o1 = new float[rows];
                    float[] o2 = new float[rows];
                    float[] o3 = new float[rows];
                    w.matvec(o1, x, one);
                    w.matvec(o2, x, two);
                    w.matvec(o3, x, three);
                    assertArrayEquals(o1, o2, kind + " 1 vs 2 threads " + rows + "x" + cols);
                    assertArrayEquals(o1, o3, kind + " 1 vs 3 threads " + rows + "x" + cols);
                    for (int r = 0; r < rows; r++) {
                        assertEquals(w.dot(r, x, 0), o1[r], kind + " matvec row " + r + " != dot");
                    }
                    // a range of rows (four at a time and a tail), x and out at offsets
                    float[] xs = new float[cols + 3];
                    System.arraycopy(x, 0, xs, 3, cols);
                    int first = rows > 1 ? 1 : 0;
                    float[] part = new float[rows + 2];
                    w.dotRows(first, rows - first, xs, 3, part, 2);
                    for (int r = first; r < rows; r++) {
                        assertEquals(o1[r], part[2 + r - first], kind + " dotRows row " + r + " != dot");
                    }
                }
            }
        }
    }

    @Test
    void matmulEqualsPerTokenMatvec() {
        Random rnd = new Random(13);
        try (Parallel two = Parallel.create(2)) {
            for (Kind kind : Kind.values()) {
                int rows = 67;
                int cols = 2 * LANES + 5;
                int nTokens = 5;
                Tensor w = make(kind, Shape.of(rows, cols), random(rnd, rows * cols));
                float[] x = random(rnd, nTokens * cols);
                float[] out = new float[nTokens * rows];
                w.matmul(out, x, nTokens, two);
                float[] xt = new float[cols];
                float[] ot = new float[rows];
                for (int t = 0; t < nTokens; t++) {
                    System.arraycopy(x, t * cols, xt, 0, cols);
                    w.matvec(ot, xt, two);
                    for (int r = 0; r < rows; r++) {
                        // F16/BF16 prefill multiplies decoded tiles (TiledMatmul): other sum order
                        double mag = 0;
                        for (int c = 0; c < cols; c++) {
                            mag += Math.abs((double) w.get((long) r * cols + c) * xt[c]);
                        }
                        assertEquals(ot[r], out[t * rows + r], 1e-6 * mag, kind + " token " + t + " row " + r);
                    }
                }
            }
        }
    }

    @Test
    void offHeapSliceAndViews() {
        Random rnd = new Random(14);
        int n = 3;
        int rows = 4;
        int cols = LANES + 3;
        float[] v = random(rnd, n * rows * cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4L * v.length, 64);
            MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0,
                    v.length);
            Tensor w = new F32Tensor("experts", Shape.of(n, rows, cols), seg);
            Tensor e2 = w.slice(2);
            assertEquals(Shape.of(rows, cols), e2.shape());
            assertEquals("experts[2]", e2.name());
            float[] row = new float[cols];
            e2.row(1, row, 0);
            for (int c = 0; c < cols; c++) {
                assertEquals(v[(2 * rows + 1) * cols + c], row[c]);
            }
            float[] x = random(rnd, cols);
            assertEquals(w.dot(2L * rows + 3, x, 0), e2.dot(3, x, 0));
        }
    }

    @Test
    void badArgumentsNameTheTensor() {
        Tensor w = F32Tensor.of("blk.0.ffn_up.weight", Shape.of(4, 8), new float[32]);
        try (Parallel one = Parallel.create(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> w.matvec(new float[4], new float[7], one));
            assertTrue(e.getMessage().contains("blk.0.ffn_up.weight"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> w.matmul(new float[7], new float[16], 2, one));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new F16Tensor("tok_embd", Shape.of(2, 3), MemorySegment.ofArray(new byte[10])));
        assertTrue(e.getMessage().contains("tok_embd"), e.getMessage());
    }
}
