package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.function.IntFunction;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * Every {@link Kernels} method: the Vector API version against its scalar twin on every size
 * 1 … 3×lanes+7 and at odd offsets (so each tail length is hit), random data from a fixed seed.
 * Tolerances, per kernel: exact (bit-identical) where both round the same float operations
 * (add, mul, scale, axpy, relu², rope, argmax, topK, and silu, siluMul and gelu through {@link Exp});
 * 2 ulp-scale where only a double-precision sum differs (norms, softmax); a bound proportional to
 * {@code sum |a_i b_i|} for dot (a different summation order). Independent references in double
 * precision check the scalar twin itself.
 */
class KernelsTest {
    private static final int LANES = FloatVector.SPECIES_PREFERRED.length();
    private static final int MAX_N = 3 * LANES + 7;
    private static final int[] OFFSETS = {0, 1, 3};
    private static final Kernels VEC = Kernels.vector();
    private static final Kernels REF = Kernels.scalar();

    private static float[] random(Random rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * scale);
        }
        return a;
    }

    /** Relative-or-absolute closeness: |v - r| <= rel * max(|r|, floor). */
    private static void assertClose(float[] expected, float[] actual, float rel, float floor, String what) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            float tol = rel * Math.max(Math.abs(expected[i]), floor);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    what + " at " + i + ": expected " + expected[i] + " got " + actual[i] + " (tol " + tol + ")");
        }
    }

    /** Runs an in-place unary kernel on both implementations for every size and offset. */
    private void checkUnary(String what, float scale, float rel, float floor, UnaryKernel op) {
        Random rnd = new Random(42);
        for (int off : OFFSETS) {
            for (int n = 1; n <= MAX_N; n++) {
                float[] x = random(rnd, off + n + 2, scale);
                float[] v = x.clone();
                float[] s = x.clone();
                op.apply(VEC, v, off, n);
                op.apply(REF, s, off, n);
                if (rel == 0f) {
                    assertArrayEquals(s, v, what + " n=" + n + " off=" + off);
                } else {
                    assertClose(s, v, rel, floor, what + " n=" + n + " off=" + off);
                }
                assertEquals(x[off + n], v[off + n], what + ": wrote past the end");
                assertEquals(x[off + n + 1], v[off + n + 1], what + ": wrote past the end");
                if (off > 0) {
                    assertEquals(x[off - 1], v[off - 1], what + ": wrote before the start");
                }
            }
        }
    }

    @FunctionalInterface
    private interface UnaryKernel {
        void apply(Kernels k, float[] x, int off, int n);
    }

    /** {@code got} within {@code 1e-6 * n * sum|a_i b_i|} of the double-precision dot of the spans. */
    private static void assertCloseToDoubleDot(float[] a, int aOff, float[] b, int bOff, int n, float got, String what) {
        double exact = 0;
        double absSum = 0;
        for (int i = 0; i < n; i++) {
            exact += (double) a[aOff + i] * b[bOff + i];
            absSum += Math.abs((double) a[aOff + i] * b[bOff + i]);
        }
        assertEquals(exact, got, 1e-6 * n * absSum + 1e-30, what);
    }

    @Test
    void dotMatchesScalarAndDouble() {
        Random rnd = new Random(1);
        for (int off : OFFSETS) {
            for (int n = 1; n <= MAX_N; n++) {
                float[] a = random(rnd, n + off, 1f);
                float[] b = random(rnd, n + 2 * off, 1f);
                float v = VEC.dot(a, off, b, 2 * off, n);
                float s = REF.dot(a, off, b, 2 * off, n);
                assertCloseToDoubleDot(a, off, b, 2 * off, n, v, "vector dot n=" + n);
                assertCloseToDoubleDot(a, off, b, 2 * off, n, s, "scalar dot n=" + n);
            }
        }
    }

    /**
     * The fused scan step: the state equals scale then axpy bit for bit in both kernels, the
     * vector read-out equals the vector {@code dot} of the new state bit for bit, and both
     * read-outs are close to a double dot.
     */
    @Test
    void decayAxpyDotIsScaleAxpyDotInOnePass() {
        Random rnd = new Random(11);
        for (int off : OFFSETS) {
            for (int n = 1; n <= MAX_N; n++) {
                float[] h = random(rnd, n + off, 1f);
                float[] b = random(rnd, n + 2 * off, 1f);
                float[] c = random(rnd, n + 3 * off, 1f);
                for (Kernels k : new Kernels[] {VEC, REF}) {
                    String what = (k == VEC ? "vector" : "scalar") + " n=" + n + " off=" + off;
                    float[] want = h.clone();
                    k.scale(want, off, n, 0.83f);
                    k.axpy(want, off, -0.7f, b, 2 * off, n);
                    float[] got = h.clone();
                    float y = k.decayAxpyDot(got, off, 0.83f, -0.7f, b, 2 * off, c, 3 * off, n);
                    assertArrayEquals(want, got, what + ": state");
                    if (k == VEC) {
                        assertEquals(VEC.dot(want, off, c, 3 * off, n), y, what + ": read-out vs dot");
                    }
                    assertCloseToDoubleDot(want, off, c, 3 * off, n, y, what + ": read-out vs double");
                }
            }
        }
    }

    /**
     * axpyRows gives the floats of axpy called row by row (vector and scalar, odd widths and row
     * counts for the lanes, the 8-vector blocks and the tails), and the vector results are close to
     * the scalar ones.
     */
    @Test
    void axpyRowsIsAxpyRowByRow() {
        Random rnd = new Random(12);
        for (int n : new int[] {1, 3, 8, 15, 16, 17, 31, 64, 127, 128, 129, 200}) {
            for (int rows : new int[] {0, 1, 2, 5, 33}) {
                int off = 3;
                float[] m = random(rnd, 2 * off + rows * n, 1f);
                float[] p = random(rnd, off + rows, 1f);
                float[] y0 = random(rnd, off + n + 2, 1f);
                float[][] ys = new float[2][];
                for (Kernels k : new Kernels[] {VEC, REF}) {
                    String what = (k == VEC ? "vector" : "scalar") + " n=" + n + " rows=" + rows;
                    float[] wantY = y0.clone();
                    for (int r = 0; r < rows; r++) {
                        k.axpy(wantY, off, p[off + r], m, 2 * off + r * n, n);
                    }
                    float[] gotY = y0.clone();
                    k.axpyRows(gotY, off, p, off, m, 2 * off, rows, n);
                    assertArrayEquals(wantY, gotY, what + ": axpyRows");
                    ys[k == VEC ? 0 : 1] = gotY;
                }
                assertClose(ys[1], ys[0], 1e-4f, 1f, "axpyRows vector vs scalar n=" + n);
            }
        }
    }

    /**
     * scoreTiles, vector and scalar, equals the FMA chain over the row-major keys the tiles were
     * made from, bit for bit: odd widths, head counts, first positions and counts, so that partial
     * tiles at both ends, whole and partial blocks of four vectors, and the blocks' unused vectors
     * are all hit; nothing outside the requested scores is written.
     */
    @Test
    void scoreTilesAreTheFmaChainOverTheTiledKeys() {
        Random rnd = new Random(13);
        int tile = Kernels.KEY_TILE;
        int[][] ranges = {{0, 1}, {0, 16}, {5, 11}, {3, 60}, {17, 100}, {31, 1}, {0, 129}, {64, 64}};
        for (int n : new int[] {1, 3, 16, 17, 64, 128, 130}) {
            for (int heads : new int[] {1, 3, 8, 9}) {
                for (int[] range : ranges) {
                    int first = range[0];
                    int count = range[1];
                    int tiles = (first + count + tile - 1) / tile;
                    float[] keys = random(rnd, tiles * tile * n, 1f);
                    int ktOff = 5;
                    float[] kt = new float[ktOff + tiles * tile * n];
                    for (int p = 0; p < tiles * tile; p++) {
                        for (int d = 0; d < n; d++) {
                            kt[ktOff + (p / tile) * n * tile + d * tile + p % tile] = keys[p * n + d];
                        }
                    }
                    float[] q = random(rnd, 2 + heads * n, 1f);
                    int stride = count + 3;
                    int outOff = 4;
                    float[] want = new float[outOff + heads * stride + 1];
                    Arrays.fill(want, 7f);
                    for (int h = 0; h < heads; h++) {
                        for (int j = 0; j < count; j++) {
                            float acc = 0f;
                            for (int d = 0; d < n; d++) {
                                acc = Math.fma(q[2 + h * n + d], keys[(first + j) * n + d], acc);
                            }
                            want[outOff + h * stride + j] = acc * 0.125f;
                        }
                    }
                    for (Kernels k : new Kernels[] {VEC, REF}) {
                        float[] got = new float[want.length];
                        Arrays.fill(got, 7f);
                        k.scoreTiles(q, 2, heads, kt, ktOff, first, count, n, 0.125f, got, outOff, stride);
                        assertArrayEquals(want, got, (k == VEC ? "vector" : "scalar") + " n=" + n + " heads=" + heads
                                + " first=" + first + " count=" + count);
                    }
                }
            }
        }
        for (Kernels k : new Kernels[] {VEC, REF}) {
            float[] kt = new float[2 * tile * 4];
            float[] q = new float[8];
            float[] out = new float[64];
            // the last tile read (positions 32..47) is not in kt
            assertThrows(IndexOutOfBoundsException.class, () -> k.scoreTiles(q, 0, 2, kt, 0, 30, 3, 4, 1f, out, 0, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> k.scoreTiles(q, 1, 2, kt, 0, 0, 3, 4, 1f, out, 0, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> k.scoreTiles(q, 0, 2, kt, 0, 0, 3, 4, 1f, out, 62, 3));
            assertThrows(IllegalArgumentException.class, () -> k.scoreTiles(q, 0, 2, kt, 0, 0, 3, 4, 1f, out, 0, 2));
        }
    }

    @Test
    void rmsnormMatchesScalarAndDouble() {
        Random rnd = new Random(2);
        for (int off : OFFSETS) {
            for (int n = 1; n <= MAX_N; n++) {
                float[] x = random(rnd, off + n, 3f);
                float[] w = random(rnd, n, 1f);
                float[] v = x.clone();
                float[] s = x.clone();
                VEC.rmsnorm(v, off, w, 1e-5f);
                REF.rmsnorm(s, off, w, 1e-5f);
                assertClose(Arrays.copyOfRange(s, off, off + n), Arrays.copyOfRange(v, off, off + n),
                        4e-7f, 1e-3f, "rmsnorm n=" + n);
                double ss = 0;
                for (int i = 0; i < n; i++) {
                    ss += (double) x[off + i] * x[off + i];
                }
                double inv = 1 / Math.sqrt(ss / n + 1e-5);
                for (int i = 0; i < n; i++) {
                    assertEquals(x[off + i] * inv * w[i], s[off + i], 1e-6 * Math.max(1, Math.abs(s[off + i])));
                }
            }
        }
        checkUnary("rmsnormPlain", 2f, 4e-7f, 1e-3f, (k, x, off, n) -> k.rmsnormPlain(x, off, n, 1e-6f));
    }

    @Test
    void layernormMatchesScalarAndDouble() {
        Random rnd = new Random(3);
        for (int off : OFFSETS) {
            for (int n = 1; n <= MAX_N; n++) {
                float[] x = random(rnd, off + n, 2f);
                for (int i = 0; i < n; i++) {
                    x[off + i] += 1.5f;
                }
                float[] w = random(rnd, n, 1f);
                float[] bias = n % 2 == 0 ? random(rnd, n, 1f) : null;
                Kernels.LayerNormParams p = new Kernels.LayerNormParams(w, bias, 1e-5f);
                float[] v = x.clone();
                float[] s = x.clone();
                VEC.layernorm(v, off, p);
                REF.layernorm(s, off, p);
                assertClose(Arrays.copyOfRange(s, off, off + n), Arrays.copyOfRange(v, off, off + n),
                        1e-6f, 1e-2f, "layernorm n=" + n);
                double mean = 0;
                for (int i = 0; i < n; i++) {
                    mean += x[off + i];
                }
                mean /= n;
                double var = 0;
                for (int i = 0; i < n; i++) {
                    var += (x[off + i] - mean) * (x[off + i] - mean);
                }
                double inv = 1 / Math.sqrt(var / n + 1e-5);
                for (int i = 0; i < n; i++) {
                    double e = (x[off + i] - mean) * inv * w[i] + (bias == null ? 0 : bias[i]);
                    assertEquals(e, s[off + i], 1e-5 * Math.max(1, Math.abs(e)), "layernorm vs double n=" + n);
                }
            }
        }
    }

    @Test
    void softmaxMatchesScalarAndSumsToOne() {
        checkUnary("softmax", 4f, 4e-6f, 1e-6f, Kernels::softmax);
        float[] x = {1000f, 1000f, -1000f, 999f};
        VEC.softmax(x, 0, 4);
        double e1 = Math.exp(-1);
        assertEquals(1 / (2 + e1), x[0], 1e-7);
        assertEquals(x[0], x[1]);
        assertEquals(0f, x[2]);
        assertEquals(e1 / (2 + e1), x[3], 1e-7);
        float[] big = random(new Random(4), 1000, 5f);
        VEC.softmax(big, 0, big.length);
        double sum = 0;
        for (float f : big) {
            sum += f;
        }
        assertEquals(1.0, sum, 1e-5);
    }

    @Test
    void activationsMatchScalar() {
        checkUnary("silu", 4f, 0f, 0f, Kernels::silu);
        checkUnary("gelu", 3f, 0f, 0f, Kernels::gelu);
        checkUnary("relu2", 2f, 0f, 0f, Kernels::relu2);
        float[] x = {-2f, 0f, 1f, 3f};
        REF.gelu(x, 0, 4);
        for (int i = 0; i < 4; i++) {
            double v = new double[] {-2, 0, 1, 3}[i];
            double e = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            assertEquals(e, x[i], 1e-6);
        }
        float[] r = {-1f, 0.5f, 2f};
        VEC.relu2(r, 0, 3);
        assertArrayEquals(new float[] {0f, 0.25f, 4f}, r);
    }

    @Test
    void binaryOpsMatchScalarExactly() {
        Random rnd = new Random(5);
        for (int off : OFFSETS) {
            for (int len = 1; len <= MAX_N; len++) {
                int n = len;
                float[] src = random(rnd, n + 2 * off, 1f);
                float[] dst = random(rnd, n + off + 1, 1f);
                checkBinary("add", dst, src, off, n, (k, d) -> k.add(d, off, src, 2 * off, 0));
                assertBinary("add", dst, src, off, n, (k, d) -> k.add(d, off, src, 2 * off, n));
                assertBinary("mul", dst, src, off, n, (k, d) -> k.mul(d, off, src, 2 * off, n));
                assertBinary("scale", dst, src, off, n, (k, d) -> k.scale(d, off, n, 0.37f));
                assertBinary("axpy", dst, src, off, n, (k, d) -> k.axpy(d, off, -1.3f, src, 2 * off, n));
                assertBinary("siluMul", dst, src, off, n, (k, d) -> k.siluMul(d, off, src, 2 * off, n));
            }
        }
    }

    private interface InPlace {
        void apply(Kernels k, float[] dst);
    }

    private static void checkBinary(String what, float[] dst, float[] src, int off, int n, InPlace op) {
        float[] v = dst.clone();
        op.apply(VEC, v);
        assertArrayEquals(dst, v, what + " with n=0 changed something");
    }

    private static void assertBinary(String what, float[] dst, float[] src, int off, int n, InPlace op) {
        float[] v = dst.clone();
        float[] s = dst.clone();
        op.apply(VEC, v);
        op.apply(REF, s);
        assertArrayEquals(s, v, what + " n=" + n + " off=" + off);
        assertEquals(dst[off + n], v[off + n], what + ": wrote past the end");
    }

    @Test
    void ropeBothLayoutsMatchScalarExactlyWithPartialRotation() {
        Random rnd = new Random(6);
        for (Rope.Layout layout : Rope.Layout.values()) {
            for (int headDim : new int[] {2, 6, 16, 2 * LANES + 6, 64, 4 * LANES + 2}) {
                for (int nRot : new int[] {2, headDim / 2 & ~1, headDim}) {
                    if (nRot == 0) {
                        continue;
                    }
                    Rope rope = Rope.of(layout, headDim, nRot, 10000f, 0.5f);
                    for (int pos : new int[] {0, 1, 17, 4099}) {
                        int nHeads = 3;
                        float[] x = random(rnd, 1 + nHeads * headDim + 1, 1f);
                        float[] v = x.clone();
                        float[] s = x.clone();
                        VEC.rope(v, 1, nHeads, pos, rope);
                        REF.rope(s, 1, nHeads, pos, rope);
                        String what = layout + " headDim=" + headDim + " nRot=" + nRot + " pos=" + pos;
                        assertArrayEquals(s, v, what);
                        checkRopeAgainstDouble(x, s, nHeads, pos, rope, what);
                    }
                }
            }
        }
    }

    /** Independent reference: angle freqScale * pos * base^(-2i/nRot) in double; unrotated dims untouched. */
    private static void checkRopeAgainstDouble(float[] x, float[] out, int nHeads, int pos, Rope rope, String what) {
        int half = rope.nRot() / 2;
        for (int h = 0; h < nHeads; h++) {
            int base = 1 + h * rope.headDim();
            for (int i = 0; i < half; i++) {
                double theta = rope.freqScale() * pos * Math.pow(rope.base(), -2.0 * i / rope.nRot());
                int i0 = rope.layout() == Rope.Layout.NORMAL ? base + 2 * i : base + i;
                int i1 = rope.layout() == Rope.Layout.NORMAL ? i0 + 1 : i0 + half;
                double e0 = x[i0] * Math.cos(theta) - x[i1] * Math.sin(theta);
                double e1 = x[i0] * Math.sin(theta) + x[i1] * Math.cos(theta);
                // ggml's float angle recurrence: error grows with pos (1e-6 * pos relative).
                double tol = 1e-6 + 2e-6 * pos * 4;
                assertEquals(e0, out[i0], tol, what + " pair " + i);
                assertEquals(e1, out[i1], tol, what + " pair " + i);
            }
            for (int d = rope.nRot(); d < rope.headDim(); d++) {
                assertEquals(x[base + d], out[base + d], what + ": dim " + d + " is not rotated");
            }
        }
    }

    @Test
    void argmaxTiesAndScalarTwin() {
        Random rnd = new Random(7);
        for (int off : OFFSETS) {
            for (int n = 1; n <= MAX_N; n++) {
                float[] x = new float[off + n];
                for (int i = 0; i < x.length; i++) {
                    x[i] = rnd.nextInt(5);
                }
                assertEquals(REF.argmax(x, off, n), VEC.argmax(x, off, n), "argmax n=" + n);
                int first = 0;
                for (int i = 1; i < n; i++) {
                    if (x[off + i] > x[off + first]) {
                        first = i;
                    }
                }
                assertEquals(first, VEC.argmax(x, off, n));
            }
        }
        IntFunction<float[]> tied = n -> {
            float[] a = new float[n];
            a[n - 3] = 7f;
            a[n - 1] = 7f;
            return a;
        };
        assertEquals(MAX_N - 3, VEC.argmax(tied.apply(MAX_N), 0, MAX_N));
        assertEquals(MAX_N - 3, REF.argmax(tied.apply(MAX_N), 0, MAX_N));
        float[] nan = {Float.NaN, 1f, Float.NaN, 2f};
        assertEquals(3, VEC.argmax(nan, 0, 4));
        assertEquals(3, REF.argmax(nan, 0, 4));
    }

    @Test
    void topKTiesAndScalarTwin() {
        Random rnd = new Random(8);
        for (int off : OFFSETS) {
            for (int n = 1; n <= MAX_N; n++) {
                float[] x = new float[off + n];
                for (int i = 0; i < x.length; i++) {
                    x[i] = rnd.nextInt(7) - 3;
                }
                for (int k : new int[] {0, 1, Math.min(2, n), Math.min(5, n), n}) {
                    int[] v = new int[k];
                    int[] s = new int[k];
                    VEC.topK(x, off, n, v, k);
                    REF.topK(x, off, n, s, k);
                    assertArrayEquals(s, v, "topK n=" + n + " k=" + k);
                    assertArrayEquals(sortedTopK(x, off, n, k), s, "topK vs sort n=" + n + " k=" + k);
                }
            }
        }
        float[] x = {1f, 5f, 3f, 5f, 3f, Float.NaN, 0f};
        int[] idx = new int[5];
        VEC.topK(x, 0, x.length, idx, 5);
        assertArrayEquals(new int[] {1, 3, 2, 4, 0}, idx);
        assertThrows(IllegalArgumentException.class, () -> VEC.topK(x, 0, 3, new int[4], 4));
    }

    /** Reference: stable sort of indices by value descending (so lower index first on ties). */
    private static int[] sortedTopK(float[] x, int off, int n, int k) {
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Float.compare(x[off + b], x[off + a]));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = idx[i];
        }
        return out;
    }
}
