package dev.taipan.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link RepackedTensor} against the mapped Q8_0/Q4_0 tensor it was made from, on random blocks
 * with finite fp16 scales and shapes of whole groups and of padded ones: dequantization
 * ({@code row}, {@code get}) bit for bit; {@code dot} equal to its scalar twin bit for bit and to a
 * float64 dot of the dequantized row within {@code 1e-6 * sum|w * x|} plus the rounding of
 * each activation to int8, {@code sum |w| * d / 2}; {@code dotRows} over runs
 * aligned and unaligned to the groups, and {@code matvec} with 1 and 3 threads, equal to
 * {@code dot} bit for bit; prefill {@code matmul} equal to the scalar twin token by token; 3-D slices; the
 * documented byte layout; what {@code supports} accepts; bounds. Arenas are shared: {@code of}
 * repacks on the common pool's threads.
 */
class RepackedTensorTest {
    private static final int G = RepackedTensor.G;
    /** The activations' block scale for a block of +-3: 3 / 127 rounded to fp16, as ggml stores it. */
    private static final double D16 = Float.float16ToFloat(Float.floatToFloat16(3f / 127f));
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (DType type : new DType[] {DType.Q8_0, DType.Q4_0}) {
            // groups of 2G rows; 9G rows: a run of four groups and a padded one
            for (Shape shape : new Shape[] {Shape.of(G, 32), Shape.of(3L * G, 96), Shape.of(5L * G, 64),
                    Shape.of(9L * G, 64), Shape.of(3, 2L * G, 64), Shape.of(20L * G, 64)}) {
                b.add(Arguments.of(type, shape));
            }
            // matrices padded to whole groups of 2G rows
            b.add(Arguments.of(type, Shape.of(3L * G + 5, 64)));
            b.add(Arguments.of(type, Shape.of(3, G + 3, 64)));
        }
        return b.build();
    }

    /** The mapped tensor {@code name} of {@code shape}, random blocks from {@code seed}. */
    private static QuantizedTensor source(DType type, Shape shape, long seed, Arena arena) {
        long blocks = shape.elementCount() / type.blockSize();
        return (QuantizedTensor) TensorFactory.create("blk.7.w", type, shape,
                VectorScalarTwinTest.randomBlocks(type, blocks, new Random(seed), arena));
    }

    private static float[] gaussian(int n, Random rnd) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    @Test
    void groupIsOneFloatVector() {
        assertEquals(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length(), G);
        assertTrue(G == 8 || G == 16, "tests assume 8 or 16 float lanes, got " + G);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void dequantizesExactlyLikeTheSource(DType type, Shape shape) {
        try (Arena arena = Arena.ofShared()) {
            QuantizedTensor src = source(type, shape, 1, arena);
            RepackedTensor rep = RepackedTensor.of(src, arena);
            assertEquals("blk.7.w", rep.name());
            assertEquals(type, rep.type());
            assertEquals(shape, rep.shape());
            int cols = src.cols();
            float[] want = new float[cols + 3];
            float[] got = new float[cols + 3];
            for (long r = 0; r < src.rows(); r++) {
                src.row(r, want, 3);
                rep.row(r, got, 3);
                for (int c = 0; c < cols; c++) {
                    assertEquals(want[3 + c], got[3 + c], type + " row " + r + " col " + c);
                    assertEquals(want[3 + c], rep.get(r * cols + c), type + " get of row " + r + " col " + c);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void dotEqualsItsScalarTwinAndIsCloseToTheExactDot(DType type, Shape shape) {
        Random rnd = new Random(2);
        try (Arena arena = Arena.ofShared()) {
            QuantizedTensor src = source(type, shape, 3, arena);
            RepackedTensor rep = RepackedTensor.of(src, arena);
            int cols = src.cols();
            float[] x = gaussian(7 + cols + 2, rnd);
            float[] w = new float[cols];
            for (int xOff : new int[] {0, 7}) {
                for (long r = 0; r < src.rows(); r++) {
                    String where = type + " row " + r + " xOff " + xOff;
                    float dot = rep.dot(r, x, xOff);
                    assertEquals(rep.dotScalar(r, x, xOff), dot, where + ": vector vs scalar twin");
                    src.row(r, w, 0);
                    double exact = 0;
                    double mag = 0;
                    double rounding = 0;
                    for (int c = 0; c < cols; c++) {
                        double p = (double) w[c] * x[xOff + c];
                        exact += p;
                        mag += Math.abs(p);
                        // |x - q * d16| <= d / 2 + 127 * |d - d16| <= d * (1/2 + 127 * 2^-12) per activation,
                        // d = amax / 127 of its block, d16 = d rounded to fp16 (as ggml stores it)
                        double amax = 0;
                        for (int j = c / 32 * 32; j < c / 32 * 32 + 32; j++) {
                            amax = Math.max(amax, Math.abs(x[xOff + j]));
                        }
                        rounding += Math.abs(w[c]) * amax / 127 * (0.5 + 127 * 0x1p-12) * 1.0001;
                    }
                    double bound = 1e-6 * mag + rounding + Double.MIN_NORMAL;
                    assertTrue(Math.abs(dot - exact) <= bound, where + ": " + dot + " vs exact " + exact);
                    float mapped = src.dot(r, x, xOff);
                    assertTrue(Math.abs(dot - mapped) <= 2 * bound, where + ": " + dot + " vs mapped " + mapped);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void runsOfDotRowsEqualDotAndWriteOnlyTheirRange(DType type, Shape shape) {
        Random rnd = new Random(4);
        try (Arena arena = Arena.ofShared()) {
            RepackedTensor rep = RepackedTensor.of(source(type, shape, 5, arena), arena);
            int rows = Math.toIntExact(rep.rows());
            int xOff = 5;
            float[] x = gaussian(xOff + rep.cols(), rnd);
            float[] dots = new float[rows];
            for (int r = 0; r < rows; r++) {
                dots[r] = rep.dot(r, x, xOff);
            }
            int outOff = 2;
            float[] out = new float[outOff + rows + 3];
            // runs starting on, just after and just before group boundaries; whole, partial and
            // double groups, and every run to the end
            for (int first : new int[] {0, 1, 3, G - 1, G, G + 5, 2 * G - 1, 2 * G, 2 * G + 1, rows - 1}) {
                for (int count : new int[] {0, 1, 2, G - 1, G, G + 1, G + 3, 2 * G, 2 * G + 1, 3 * G, 4 * G + 1,
                        rows - first}) {
                    if (first >= rows || first + count > rows) {
                        continue;
                    }
                    java.util.Arrays.fill(out, Float.NaN);
                    rep.dotRows(first, count, x, xOff, out, outOff);
                    for (int i = 0; i < out.length; i++) {
                        boolean inRun = i >= outOff && i < outOff + count;
                        String where = type + " rows " + first + "+" + count + ", out[" + i + "]";
                        if (inRun) {
                            assertEquals(dots[first + i - outOff], out[i], where);
                        } else {
                            assertTrue(Float.isNaN(out[i]), where + " written outside the run: " + out[i]);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matvecEqualsDotWithOneAndThreeThreads(DType type, Shape shape) {
        Random rnd = new Random(6);
        try (Arena arena = Arena.ofShared(); Parallel one = Parallel.create(1); Parallel three = Parallel.create(3)) {
            RepackedTensor rep = RepackedTensor.of(source(type, shape, 7, arena), arena);
            int rows = Math.toIntExact(rep.rows());
            float[] x = gaussian(rep.cols(), rnd);
            for (Parallel par : new Parallel[] {one, three}) {
                float[] out = new float[rows + 2];
                out[rows] = Float.NaN;
                out[rows + 1] = Float.NaN;
                rep.matvec(out, x, par);
                for (int r = 0; r < rows; r++) {
                    assertEquals(rep.dot(r, x, 0), out[r], type + " " + par.threads() + " thread(s), row " + r);
                }
                assertTrue(Float.isNaN(out[rows]) && Float.isNaN(out[rows + 1]), "matvec wrote past its rows");
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matmulIsTheKernelsDotOfEveryToken(DType type, Shape shape) {
        Random rnd = new Random(8);
        try (Arena arena = Arena.ofShared(); Parallel one = Parallel.create(1); Parallel three = Parallel.create(3)) {
            QuantizedTensor src = source(type, shape, 9, arena);
            RepackedTensor rep = RepackedTensor.of(src, arena);
            int rows = Math.toIntExact(src.rows());
            int cols = src.cols();
            // 67: two passes of RepackedTensor.MATMUL_TOKENS and 3, the second starting at token 64
            for (int nTokens : new int[] {1, 5, 9, RepackedTensor.MATMUL_TOKENS + 3}) {
                float[] x = gaussian(nTokens * cols, rnd);
                // with 9 tokens, token 1 has a block the int8 activations cannot hold: the mapped tensor
                // computes it, token 0 goes alone, tokens 2-5 four at a time, 6-8 alone (with 5 tokens:
                // 0-3, then 4); with 67, token 65, in the second pass of MATMUL_TOKENS
                int mapped = nTokens == 9 ? 1 : nTokens > RepackedTensor.MATMUL_TOKENS ? RepackedTensor.MATMUL_TOKENS + 1 : -1;
                if (mapped > 0) {
                    x[mapped * cols + 3] = 1e30f;
                }
                for (Parallel par : new Parallel[] {one, three}) {
                    float[] got = new float[nTokens * rows + 1];
                    got[nTokens * rows] = Float.NaN;
                    rep.matmul(got, x, nTokens, par);
                    for (int t = 0; t < nTokens; t++) {
                        float[] want = new float[rows];
                        if (t == mapped) {
                            src.dotRows(0, rows, x, t * cols, want, 0);
                        } else {
                            for (int r = 0; r < rows; r++) {
                                want[r] = rep.dotScalar(r, x, t * cols);
                            }
                        }
                        for (int r = 0; r < rows; r++) {
                            assertEquals(want[r], got[t * rows + r],
                                    type + " " + nTokens + " tokens, " + par.threads() + " thread(s), token " + t + ", row " + r);
                        }
                    }
                    assertTrue(Float.isNaN(got[nTokens * rows]), "matmul wrote past its outputs");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void keepsTheMappedBytesAndPacksToTheDocumentedSize(DType type, Shape shape) {
        try (Arena arena = Arena.ofShared()) {
            QuantizedTensor src = source(type, shape, 10, arena);
            RepackedTensor rep = RepackedTensor.of(src, arena);
            assertSame(src.data(), rep.data());
            // per 32 weights: an fp16 scale and 32 int8 (Q8_0) or 16 bytes of nibbles (Q4_0), each
            // matrix padded to whole groups of 2G rows: the mapped bytes
            long matrixRows = shape.dim(shape.rank() - 2);
            long matrices = shape.elementCount() / shape.cols() / matrixRows;
            long want = matrices * ((matrixRows + 2 * G - 1) / (2 * G)) * 2 * G * (shape.cols() / 32) * type.blockBytes();
            assertEquals(want, RepackedTensor.packedBytes(src));
            assertEquals(want, rep.packed().byteSize());
        }
    }

    /**
     * The layout of the class Javadocs: per group of 2G rows and block, the 2G fp16 scales (row
     * order), then the quants. Q4_0: 16 columns of 2G mapped bytes, the groups of each run of four
     * interleaved (scales first, then column by column), padding rows with scale 0 and nibbles 8.
     * Q8_0: groups one after the other, 16 column pairs of 2G shorts, row {@code i} in short lane
     * {@code 2i} and row {@code G + i} in lane {@code 2i + 1}, the even column's int8 plus 128 in the
     * low byte and the odd column's in the high byte; padding rows have scale 0 and weights 0.
     */
    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void packedBytesFollowTheDocumentedLayout(DType type) {
        try (Arena arena = Arena.ofShared()) {
            int blocksPerRow = 3;
            boolean q8 = type == DType.Q8_0;
            int perGroup = 2 * G;
            // six groups, the last padded: a run of four interleaved groups, then a run of two
            long rows = 10L * G + 7;
            QuantizedTensor src = source(type, Shape.of(rows, 32 * blocksPerRow), 11, arena);
            RepackedTensor rep = RepackedTensor.of(src, arena);
            assertEquals(perGroup, rep.rowsPerGroup());
            int quantBytes = q8 ? 32 : 16;
            int scaleBytes = 2;
            long groupBlockBytes = (long) (scaleBytes + quantBytes) * perGroup;
            MemorySegment mapped = src.data();
            MemorySegment packed = rep.packed();
            long paddedRows = (rows + perGroup - 1) / perGroup * perGroup;
            assertEquals(paddedRows * blocksPerRow * (scaleBytes + quantBytes), packed.byteSize());
            for (long r = 0; r < paddedRows; r++) {
                int lane = (int) (r % perGroup);
                for (int b = 0; b < blocksPerRow; b++) {
                    long block = r * src.rowBytes() + (long) b * type.blockBytes();
                    long k = r / perGroup;
                    long k0 = k / 4 * 4;
                    long n = Math.min(4, paddedRows / perGroup - k0);
                    long i = k - k0;
                    long at = (k0 * blocksPerRow + b * n) * groupBlockBytes;
                    String where = type + " row " + r + " block " + b;
                    short d = r < rows ? mapped.get(LE_SHORT, block) : 0;
                    assertEquals(d, packed.get(LE_SHORT, at + i * scaleBytes * perGroup + 2 * lane), where + " scale");
                    for (int j = 0; j < quantBytes; j++) {
                        byte source = r < rows ? mapped.get(ValueLayout.JAVA_BYTE, block + 2 + j) : 0;
                        long offset;
                        byte want;
                        if (q8) {
                            int shortLane = lane < G ? 2 * lane : 2 * (lane - G) + 1;
                            offset = at + n * scaleBytes * perGroup + ((j / 2) * n + i) * 2L * perGroup + 2L * shortLane + j % 2;
                            want = j % 2 == 0 ? (byte) (source + 128) : source;
                        } else {
                            offset = at + n * scaleBytes * perGroup + (j * n + i) * perGroup + lane;
                            want = r < rows ? source : (byte) 0x88;
                        }
                        assertEquals(want, packed.get(ValueLayout.JAVA_BYTE, offset), where + " column " + j);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void slicesOfA3dTensorAreItsRepackedMatrices(DType type) {
        Random rnd = new Random(12);
        int experts = 3;
        int rowsPerMatrix = G + 3;
        try (Arena arena = Arena.ofShared(); Parallel three = Parallel.create(3)) {
            QuantizedTensor src = source(type, Shape.of(experts, rowsPerMatrix, 64), 13, arena);
            RepackedTensor rep = RepackedTensor.of(src, arena);
            float[] x = gaussian(64, rnd);
            float[] want = new float[64];
            float[] got = new float[64];
            float[] whole = new float[64];
            for (int e = 0; e < experts; e++) {
                Tensor mappedSlice = src.slice(e);
                Tensor slice = rep.slice(e);
                RepackedTensor repSlice = assertInstanceOf(RepackedTensor.class, slice);
                assertEquals(Shape.of(rowsPerMatrix, 64), slice.shape());
                assertEquals(RepackedTensor.packedBytes(mappedSlice), repSlice.packed().byteSize());
                float[] out = new float[rowsPerMatrix];
                slice.matvec(out, x, three);
                for (int r = 0; r < rowsPerMatrix; r++) {
                    long full = (long) e * rowsPerMatrix + r;
                    String where = type + " expert " + e + " row " + r;
                    mappedSlice.row(r, want, 0);
                    slice.row(r, got, 0);
                    rep.row(full, whole, 0);
                    for (int c = 0; c < 64; c++) {
                        assertEquals(want[c], got[c], where + " col " + c + " vs mapped slice");
                        assertEquals(whole[c], got[c], where + " col " + c + " vs full tensor");
                    }
                    float dot = rep.dot(full, x, 0);
                    assertEquals(dot, slice.dot(r, x, 0), where + ": dot vs full tensor");
                    assertEquals(dot, slice.dotScalar(r, x, 0), where + ": scalar dot vs full tensor");
                    assertEquals(dot, out[r], where + ": matvec vs full tensor");
                }
            }
        }
    }

    @Test
    void readAheadDefaultsToTheCpuVendorsAndFollowsItsProperty(@TempDir Path dir) throws IOException {
        Path intel = Files.writeString(dir.resolve("intel"),
                "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n\nprocessor\t: 1\nvendor_id\t: Other\n");
        Path amd = Files.writeString(dir.resolve("amd"), "processor\t: 0\nvendor_id\t: AuthenticAMD\n");
        Path arm = Files.writeString(dir.resolve("arm"), "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n");
        assertEquals("GenuineIntel", RepackedTensor.cpuVendor(intel));
        assertEquals("AuthenticAMD", RepackedTensor.cpuVendor(amd));
        assertEquals("", RepackedTensor.cpuVendor(arm));
        assertEquals("", RepackedTensor.cpuVendor(dir.resolve("missing")));
        assertEquals(8, RepackedTensor.defaultReadAhead("GenuineIntel"));
        assertEquals(0, RepackedTensor.defaultReadAhead("AuthenticAMD"));
        assertEquals(0, RepackedTensor.defaultReadAhead(""));
        // the surefire execution "readahead" of quant/pom.xml sets the property, the default one does not
        Integer property = Integer.getInteger("taipan.repack.readahead");
        assertEquals(property != null ? property
                : RepackedTensor.defaultReadAhead(RepackedTensor.cpuVendor(Path.of("/proc/cpuinfo"))),
                RepackedTensor.READ_AHEAD_STEPS);
    }

    @Test
    void supportsQ8_0AndQ4_0MatricesOfAnyRowCount() {
        try (Arena arena = Arena.ofShared()) {
            for (DType type : new DType[] {DType.Q8_0, DType.Q4_0}) {
                assertTrue(RepackedTensor.supports(source(type, Shape.of(G, 32), 14, arena)));
                assertTrue(RepackedTensor.supports(source(type, Shape.of(4L * G, 64), 14, arena)));
                assertTrue(RepackedTensor.supports(source(type, Shape.of(2, G, 32), 14, arena)));
                assertTrue(RepackedTensor.supports(source(type, Shape.of(G + 1, 32), 14, arena)));
                assertTrue(RepackedTensor.supports(source(type, Shape.of(2, 3, 32), 14, arena)));
                assertFalse(RepackedTensor.supports(source(type, Shape.of(G * 32L), 14, arena)), "rank 1");
            }
            assertFalse(RepackedTensor.supports(F32Tensor.of("f32.w", Shape.of(G, 32), new float[G * 32])));
            Tensor q4k = TensorFactory.create("q4k.w", DType.Q4_K, Shape.of(G, 256),
                    VectorScalarTwinTest.randomBlocks(DType.Q4_K, G, new Random(15), arena));
            assertFalse(RepackedTensor.supports(q4k));
            assertFalse(RepackedTensor.supports(RepackedTensor.of(source(DType.Q8_0, Shape.of(G, 32), 14, arena), arena)),
                    "a repacked tensor is not repacked again");
        }
    }

    @Test
    void ofAnUnsupportedTensorNamesIt() {
        try (Arena arena = Arena.ofShared()) {
            Tensor vector = TensorFactory.create("blk.3.attn_k.bias", DType.Q8_0, Shape.of(64),
                    VectorScalarTwinTest.randomBlocks(DType.Q8_0, 2, new Random(16), arena));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RepackedTensor.of(vector, arena));
            assertTrue(e.getMessage().contains("'blk.3.attn_k.bias'"), e.getMessage());
            assertTrue(e.getMessage().contains("Q8_0 or Q4_0 matrices only"), e.getMessage());
            Tensor f32 = F32Tensor.of("output_norm.weight", Shape.of(G, 32), new float[G * 32]);
            e = assertThrows(IllegalArgumentException.class, () -> RepackedTensor.of(f32, arena));
            assertTrue(e.getMessage().contains("'output_norm.weight'"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void outOfRangeRowsAndShortActivationsThrow(DType type) {
        try (Arena arena = Arena.ofShared()) {
            RepackedTensor rep = RepackedTensor.of(source(type, Shape.of(2L * G, 64), 17, arena), arena);
            float[] x = new float[64 + 4];
            long rows = rep.rows();
            assertThrows(IndexOutOfBoundsException.class, () -> rep.dot(rows, x, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> rep.dot(-1, x, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> rep.dotScalar(rows, x, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> rep.dot(0, new float[63], 0));
            assertThrows(IndexOutOfBoundsException.class, () -> rep.dot(0, x, 5));
            assertThrows(IndexOutOfBoundsException.class, () -> rep.dotScalar(0, x, 5));
            assertThrows(IndexOutOfBoundsException.class, () -> rep.dotRows(rows - 1, 2, x, 0, new float[4], 0));
            assertThrows(IndexOutOfBoundsException.class, () -> rep.dotRows(0, G, x, 0, new float[G - 1], 0));
            assertThrows(IndexOutOfBoundsException.class, () -> rep.row(rows, new float[64], 0));
            assertThrows(IndexOutOfBoundsException.class, () -> rep.get(rows * 64));
        }
    }

    @Test
    void q4_0BlockSumsAtTheInt16LimitAreExact() {
        int cols = 64;
        try (Arena arena = Arena.ofShared()) {
            long rows = 2L * G;
            MemorySegment bytes = arena.allocate(rows * 2 * 18);
            for (long r = 0; r < rows; r++) {
                for (int b = 0; b < 2; b++) {
                    long at = (r * 2 + b) * 18;
                    bytes.set(LE_SHORT, at, Float.floatToFloat16(r % 3 == 0 ? -0.5f : 0.25f));
                    // nibbles 0 (weight -8) in even rows, 15 (weight 7) in odd rows
                    for (int j = 0; j < 16; j++) {
                        bytes.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (r % 2 == 0 ? 0x00 : 0xFF));
                    }
                }
            }
            QuantizedTensor src = (QuantizedTensor) TensorFactory.create("w", DType.Q4_0, Shape.of(rows, cols), bytes);
            RepackedTensor rep = RepackedTensor.of(src, arena);
            float[] plus = new float[cols];
            float[] mixed = new float[cols];
            for (int c = 0; c < cols; c++) {
                plus[c] = 3f;
                mixed[c] = c % 32 < 16 ? -3f : 3f;
            }
            // the integer sums are +-32512 (even rows) or +-28448
            assertExtremeSums(rep, -8, 7, plus, mixed);
        }
    }

    /**
     * {@code rep}'s rows (weights {@code even} in even rows, {@code odd} in odd rows, scale -0.5 in
     * every third row and 0.25 in the others) dotted with each of {@code xs}, whose activations are
     * all +-3 and so quantize to +-127 * d16: only float rounding remains, where a wrapped 16-bit
     * sum would be off by thousands of {@code d * d16}. Also matvec on 2 threads and the scalar twin.
     */
    private static void assertExtremeSums(RepackedTensor rep, int even, int odd, float[]... xs) {
        int rows = Math.toIntExact(rep.rows());
        try (Parallel two = Parallel.create(2)) {
            for (float[] x : xs) {
                float[] out = new float[rows];
                rep.matvec(out, x, two);
                for (int r = 0; r < rows; r++) {
                    double d = r % 3 == 0 ? -0.5 : 0.25;
                    double want = 0;
                    double mag = 0;
                    for (float v : x) {
                        double p = (r % 2 == 0 ? even : odd) * d * Math.signum(v) * 127 * D16;
                        want += p;
                        mag += Math.abs(p);
                    }
                    float dot = rep.dot(r, x, 0);
                    assertEquals(want, dot, 1e-6 * mag, "row " + r);
                    assertEquals(dot, out[r], "matvec row " + r);
                    assertEquals(dot, rep.dotScalar(r, x, 0), "scalar twin row " + r);
                }
            }
        }
    }

    /**
     * Q8_0 pair sums at the ends of the 16-bit range: weights -128 (even rows) and 127 (odd rows)
     * with every activation quantized to -127 or 127 make each column pair's sum +-32512 or
     * +-32258 and each block's sum +-520192 or +-516128; a wrapped or misplaced 16-bit lane would be
     * off by thousands.
     */
    @Test
    void q8_0PairSumsAtTheInt16LimitAreExact() {
        int cols = 64;
        try (Arena arena = Arena.ofShared()) {
            long rows = 2L * G + 3;
            MemorySegment bytes = arena.allocate(rows * 2 * 34);
            for (long r = 0; r < rows; r++) {
                for (int b = 0; b < 2; b++) {
                    long at = (r * 2 + b) * 34;
                    bytes.set(LE_SHORT, at, Float.floatToFloat16(r % 3 == 0 ? -0.5f : 0.25f));
                    for (int j = 0; j < 32; j++) {
                        bytes.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (r % 2 == 0 ? -128 : 127));
                    }
                }
            }
            QuantizedTensor src = (QuantizedTensor) TensorFactory.create("w", DType.Q8_0, Shape.of(rows, cols), bytes);
            RepackedTensor rep = RepackedTensor.of(src, arena);
            float[] plus = new float[cols];
            float[] minus = new float[cols];
            float[] mixed = new float[cols];
            for (int c = 0; c < cols; c++) {
                plus[c] = 3f;
                minus[c] = -3f;
                mixed[c] = c < 32 ? -3f : 3f;
            }
            assertExtremeSums(rep, -128, 127, plus, minus, mixed);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void activationsItCannotQuantizeGoThroughTheMappedTensor(DType type) {
        Random rnd = new Random(20);
        try (Arena arena = Arena.ofShared(); Parallel two = Parallel.create(2)) {
            QuantizedTensor src = source(type, Shape.of(3L * G + 1, 96), 21, arena);
            RepackedTensor rep = RepackedTensor.of(src, arena);
            int rows = Math.toIntExact(src.rows());
            for (float odd : new float[] {Float.NaN, Float.POSITIVE_INFINITY, 5.0e6f}) {
                float[] x = gaussian(96, rnd);
                x[40] = odd;
                float[] want = new float[rows];
                float[] got = new float[rows];
                src.matvec(want, x, two);
                rep.matvec(got, x, two);
                for (int r = 0; r < rows; r++) {
                    String where = "x[40] = " + odd + ", row " + r;
                    assertEquals(want[r], got[r], where + ": matvec");
                    assertEquals(src.dot(r, x, 0), rep.dot(r, x, 0), where + ": dot");
                    assertEquals(src.dotScalar(r, x, 0), rep.dotScalar(r, x, 0), where + ": scalar dot");
                }
                rep.dotRows(1, rows - 1, x, 0, got, 0);
                for (int r = 1; r < rows; r++) {
                    assertEquals(src.dot(r, x, 0), got[r - 1], "x[40] = " + odd + ", dotRows row " + r);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void activationsChangedInPlaceBetweenCallsAreReadAgain(DType type) {
        Random rnd = new Random(23);
        try (Arena arena = Arena.ofShared(); Parallel two = Parallel.create(2)) {
            RepackedTensor rep = RepackedTensor.of(source(type, Shape.of(4L * G, 64), 24, arena), arena);
            int rows = Math.toIntExact(rep.rows());
            float[] x = gaussian(64, rnd);
            float[] out = new float[rows];
            for (int round = 0; round < 3; round++) {
                rep.matvec(out, x, two);
                for (int r = 0; r < rows; r++) {
                    assertEquals(rep.dotScalar(r, x, 0), out[r], type + " round " + round + " row " + r);
                }
                rep.dotRows(3, rows - 3, x, 0, out, 0);
                for (int r = 3; r < rows; r++) {
                    assertEquals(rep.dotScalar(r, x, 0), out[r - 3], type + " round " + round + " dotRows row " + r);
                }
                x[round * 20] += 5f;
            }
        }
    }

    /**
     * One thread's quantization of an activation serves a Q4_0 and a Q8_0 matrix in turn (the memo
     * fills each format's factors once, on first use): every matvec and dot equals the scalar twin,
     * also after the activations change in place.
     */
    @Test
    void q4_0AndQ8_0MatricesShareAQuantizedActivation() {
        Random rnd = new Random(25);
        try (Arena arena = Arena.ofShared(); Parallel two = Parallel.create(2)) {
            RepackedTensor q4 = RepackedTensor.of(source(DType.Q4_0, Shape.of(4L * G, 96), 26, arena), arena);
            RepackedTensor q8 = RepackedTensor.of(source(DType.Q8_0, Shape.of(3L * G, 96), 27, arena), arena);
            float[] x = gaussian(96, rnd);
            for (int round = 0; round < 3; round++) {
                for (RepackedTensor rep : new RepackedTensor[] {q4, q8, q4}) {
                    int rows = Math.toIntExact(rep.rows());
                    float[] out = new float[rows];
                    rep.matvec(out, x, two);
                    for (int r = 0; r < rows; r++) {
                        String where = rep.type() + " round " + round + " row " + r;
                        assertEquals(rep.dotScalar(r, x, 0), out[r], where + ": matvec");
                        assertEquals(rep.dotScalar(r, x, 0), rep.dot(r, x, 0), where + ": dot");
                    }
                }
                x[round * 30] += 4f;
            }
        }
    }

    @Test
    void scaleDecodingIsExactForEveryFiniteFp16() {
        for (int h = 0; h < 0x10000; h++) {
            float d = Float.float16ToFloat((short) h);
            if (Float.isFinite(d)) {
                assertEquals(d, RepackedTensor.scaledDown((short) h) * 0x1p112f, "fp16 bits 0x" + Integer.toHexString(h));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void aNonFiniteScaleIsRefusedNamingTheBlock(DType type) {
        for (short bad : new short[] {0x7C00, (short) 0xFC00, 0x7E01}) {
            try (Arena arena = Arena.ofShared()) {
                QuantizedTensor src = source(type, Shape.of(2L * G, 64), 22, arena);
                // row 5, block 1: fp16 infinity or NaN
                src.data().set(LE_SHORT, 5 * src.rowBytes() + type.blockBytes(), bad);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RepackedTensor.of(src, arena));
                assertTrue(e.getMessage().contains("'blk.7.w'") && e.getMessage().contains("row 5, block 1")
                        && e.getMessage().contains("non-finite"), e.getMessage());
            }
        }
    }

    @Test
    void repacksFromAndIntoAConfinedArenaOnTheCallersThread() {
        try (Arena arena = Arena.ofConfined()) {
            QuantizedTensor src = source(DType.Q8_0, Shape.of(3L * G, 96), 1, arena);
            RepackedTensor rep = RepackedTensor.of(src, arena);
            float[] x = new float[96];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i);
            }
            for (int r = 0; r < 3 * G; r++) {
                assertEquals(rep.dotScalar(r, x, 0), rep.dot(r, x, 0));
                assertEquals(src.get(r * 96L + 5), rep.get(r * 96L + 5));
            }
        }
    }
}
