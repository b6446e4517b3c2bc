package dev.taipan.quant;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.LargePages;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import dev.taipan.tensor.Tensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 or Q4_0 weights repacked at load for the one-token matvec of decode, in the spirit of
 * llama.cpp's CPU "repack" buffers ({@code ggml-cpu/repack.cpp}, e.g. {@code block_q4_0x8}): the
 * rows of each matrix are cut into groups and each group's blocks are stored column by column, so
 * that one vector load holds the same weight of every row of the group. The matvec then broadcasts
 * one activation per weight column and multiplies it into a vector of row sums: no horizontal
 * sums and no per-row scale broadcast. One kernel call streams four groups (sharing each broadcast
 * activation). Both formats use groups of {@code 2 * G} rows (a short vector's lanes, 32 with
 * AVX-512), fp16 scales decoded exactly in the kernel, and the integer dots of ggml
 * ({@code ggml_vec_dot_q4_0_q8_0}, {@code ggml_vec_dot_q8_0_q8_0}): the activations are quantized
 * per block to int8 ({@link Q8Activations}) and each block's sum is exact in integer lanes. A matrix
 * whose rows are not whole groups gets zero rows of padding.
 * <ul>
 *   <li>{@link RepackedQ8_0}: 34 bytes per block, as mapped; the two int8 of a column pair in one short,
 *   8 vector operations per 64 weights, none of them a shuffle. The float kernel it replaced
 *   (groups of {@code G} rows, float activations, 12 operations per 64 weights, four of them
 *   byte-widening shuffles) ran at 1.29 ns per block in cache and 1.06 from DRAM on 2 threads
 *   against 0.62 and 0.82 now ({@code KernelProbe matvec}, Zen 5 VM, tenth session).</li>
 *   <li>{@link RepackedQ4_0}: 18 bytes per block, as mapped; each block's sum exact in 16-bit lanes,
 *   about 7 vector operations per 64 weights where float arithmetic needs 14.</li>
 * </ul>
 * {@code KernelProbe matvec} measures both against the mapped kernels ({@link Q8_0Tensor},
 * {@link Q4_0Tensor}). The copy lives off the Java heap ({@link LargePages}); the mapped file is
 * read once to make it.
 *
 * <p>Layout: a group's block is its {@code 2 * G} fp16 scales (row order), then its quants: Q8_0: 16
 * column pairs of {@code 2 * G} shorts ({@link RepackedQ8_0} gives the lanes and the bytes); Q4_0:
 * 16 columns of {@code 2 * G} bytes, the mapped byte {@code j} of each row (low nibble
 * {@code q[j]}, high nibble {@code q[j + 16]}). The groups of each matrix form runs of
 * {@link #MAX_GROUPS} (fewer at the matrix's end), the groups one kernel call computes; the run of
 * groups {@code k0 ..} of matrix {@code m} starts at {@code (m * groupsPerMatrix + k0) * groupBytes}.
 * Both formats interleave a run's groups so that a kernel call reads the run in order: block
 * {@code b} of a run of {@code n} groups is {@code n * groupBlockBytes} bytes at
 * {@code b * n * groupBlockBytes} from the run's start, holding the {@code n} groups' scales, then
 * column by column (Q8_0: column pair by column pair) the {@code n} groups' bytes of that column
 * ({@link #scaleOffset}, {@link #columnOffset}). On 2 threads of an AMD EPYC (Zen 5) VM the Q4_0
 * kernel read a 1 GiB matrix at 0.32-0.34 ns per block this way against 0.41-0.51 group by group
 * (four streams per call); the integer Q8_0 kernel at 0.55-0.64 against 0.64-0.75 (twelfth
 * session, {@code KernelProbe matvec}; the float Q8_0 kernel it replaced had been slower
 * interleaved, benchmarks/README.md).
 *
 * <p>The tensor keeps the mapped tensor it was made from: {@link #data()} returns the mapped bytes
 * (the file's layout, for writers and byte counts). Prefill ({@link #matmul}) runs the same
 * kernels as decode, a run of four groups at a time for every token of the batch, so that the run's
 * weights come from DRAM once and from cache for the other tokens. Each output of {@link #dot},
 * {@link #dotRows}, {@link #matvec} and {@link #matmul} is computed by one kernel in one order
 * whatever the thread count, the batch, the run of rows or the group's neighbours, and equals
 * {@link #dotScalar} bit for bit, so a token's products are the same in prefill and in decode. They
 * differ from the mapped kernels' float sums by the rounding of the activations to int8 (as
 * llama.cpp's CPU backend does, in prefill too), and activations they cannot represent (a block
 * with a non-finite or huge value) go through the mapped tensor instead, token by token.
 */
public abstract sealed class RepackedTensor implements Tensor permits RepackedQ8_0, RepackedQ4_0 {

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final VectorOperators.Conversion<Byte, Float> B2F = VectorOperators.B2F;
    static final VectorOperators.Binary LSHL = VectorOperators.LSHL;
    static final VectorOperators.Conversion<Short, Integer> S2I = VectorOperators.S2I;
    /** Keeps the sign and the shifted exponent and mantissa of an fp16 moved left by 13 bits. */
    static final int SIGN_AND_MAGNITUDE = 0x8FFFE000;
    /** A float vector's lanes: groups are {@code 2 * G} rows (a short vector's lanes). */
    public static final int G = F.length();
    /** Rows per group of both formats: one short vector's lanes. */
    static final int GROUP_ROWS = 2 * G;
    /** Loads of {@code G} bytes, widened to one float vector. */
    static final VectorSpecies<Byte> BG = G == 8 || G == 16
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(G * 8)) : null;

    protected final QuantizedTensor source;
    protected final MemorySegment packed;
    /** Rows of one matrix (the second-to-last dimension). */
    protected final long matrixRows;
    protected final long groupsPerMatrix;
    protected final long groups;
    protected final int blocksPerRow;
    protected final int groupBlockBytes;
    protected final long groupBytes;

    RepackedTensor(QuantizedTensor source, MemorySegment packed) {
        this.source = source;
        this.packed = packed;
        this.matrixRows = matrixRows(source);
        this.groupsPerMatrix = groupsPerMatrix(source);
        this.groups = groupCount(source);
        this.blocksPerRow = source.cols() / 32;
        this.groupBlockBytes = groupBlockBytes(source.type());
        this.groupBytes = (long) blocksPerRow * groupBlockBytes;
        if (packed.byteSize() != groups * groupBytes) {
            throw new IllegalArgumentException("tensor '" + source.name() + "': repacked bytes " + packed.byteSize()
                    + ", expected " + groups * groupBytes);
        }
    }

    private static int groupBlockBytes(DType type) {
        return type == DType.Q8_0 ? (2 + 32) * 2 * G : (2 + 16) * 2 * G;
    }

    /** Rows of each matrix of {@code t}: its second-to-last dimension. */
    private static long matrixRows(Tensor t) {
        Shape s = t.shape();
        return s.dim(s.rank() - 2);
    }

    /** Groups of each matrix of {@code t}, the last one padded with zero rows where needed. */
    private static long groupsPerMatrix(Tensor t) {
        return (matrixRows(t) + GROUP_ROWS - 1) / GROUP_ROWS;
    }

    /** Groups of all the matrices of {@code t}. */
    private static long groupCount(Tensor t) {
        return t.rows() / matrixRows(t) * groupsPerMatrix(t);
    }

    /**
     * Whether {@code t} can be repacked: Q8_0 or Q4_0 of any shape of rank 2 or more (each matrix
     * padded to whole groups), and a vector of 8 or 16 float lanes.
     */
    public static boolean supports(Tensor t) {
        if (BG == null || !(t instanceof Q8_0Tensor || t instanceof Q4_0Tensor) || t.shape().rank() < 2) {
            return false;
        }
        return matrixRows(t) > 0;
    }

    /** Bytes the repacked copy of {@code t} takes ({@link #supports} must hold). */
    public static long packedBytes(Tensor t) {
        return groupCount(t) * (t.cols() / 32) * groupBlockBytes(t.type());
    }

    /**
     * The repacked copy of {@code t}, written into memory from {@code arena} (huge pages where the OS
     * has them, {@link LargePages}) by the common pool's threads, or by the caller's alone when
     * either segment is confined to it; {@code t} stays the source of {@link #data()} and prefill.
     *
     * @throws IllegalArgumentException naming the tensor when {@link #supports} does not hold, or
     *         naming the row and block of a non-finite scale, which the repacked kernels cannot
     *         carry
     */
    public static RepackedTensor of(Tensor t, Arena arena) {
        if (!supports(t)) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' (" + t.type() + " " + t.shape()
                    + ") cannot be repacked: Q8_0 or Q4_0 matrices only");
        }
        QuantizedTensor q = (QuantizedTensor) t;
        MemorySegment dst = LargePages.allocate(packedBytes(t), arena);
        boolean q8 = t.type() == DType.Q8_0;
        RepackedTensor r = q8 ? new RepackedQ8_0(q, dst) : new RepackedQ4_0(q, dst);
        int rowBytes = Math.toIntExact(q.rowBytes());
        int gbb = r.groupBlockBytes;
        int groupBytes = Math.toIntExact(r.groupBytes);
        // the common pool's threads copy when both segments can be reached from other threads
        Thread other = new Thread(() -> { });
        IntStream range = IntStream.range(0, r.runCount());
        if (q.data().isAccessibleBy(other) && dst.isAccessibleBy(other)) {
            range = range.parallel();
        }
        range.forEach(run -> {
            long g0 = r.runFirstGroup(run);
            int inRun = r.runGroups(g0);
            byte[] rows = new byte[GROUP_ROWS * rowBytes];
            byte[] runBytes = new byte[inRun * groupBytes];
            for (int i = 0; i < inRun; i++) {
                byte[] out = new byte[groupBytes]; // zeroed: the scales of padding rows
                long first = r.firstRow(g0 + i);
                int n = (int) Math.min(GROUP_ROWS, r.matrixRows - first % r.matrixRows);
                MemorySegment.copy(q.data(), ValueLayout.JAVA_BYTE, first * rowBytes, rows, 0, n * rowBytes);
                for (int b = 0; b < r.blocksPerRow; b++) {
                    if (q8) {
                        RepackedQ8_0.packBlock(t.name(), first, n, rows, b, out, b * gbb);
                    } else {
                        RepackedQ4_0.packBlock(t.name(), first, n, rows, b, out, b * gbb);
                    }
                }
                r.place(out, i, inRun, runBytes);
            }
            MemorySegment.copy(runBytes, 0, dst, ValueLayout.JAVA_BYTE, g0 * r.groupBytes, runBytes.length);
        });
        return r;
    }

    /** Columns of a group's block: Q4_0 bytes (two weights each), Q8_0 column pairs. */
    static final int COLUMNS = 16;

    /** Bytes of one column of a group's block: {@code GROUP_ROWS} bytes (Q4_0) or shorts (Q8_0). */
    final int columnBytes() {
        return (groupBlockBytes - 2 * GROUP_ROWS) / COLUMNS;
    }

    /** Groups one kernel call streams at once (the activations shared): a matrix's groups form runs of this many. */
    static final int MAX_GROUPS = 4;

    /**
     * How many steps of its column loop ahead of its reads a kernel call touches the weights, one
     * byte per 64-byte line (a full run's step is a Q8_0 column pair, 256 bytes, or a Q4_0 column,
     * 128 bytes), so that those lines' loads from memory start early; clamped to the copy's last
     * byte. Java has no prefetch instruction, and the hardware prefetcher alone left one thread's
     * stream short of the bandwidth a plain read gets: on 2 vCPUs of an Intel Xeon VM (eighteenth
     * session) {@code KernelProbe matvec} read a 1 GiB Q8_0 matrix at 2.37-2.49 ns per block against
     * 2.64-2.78 without (1.22-1.26 against 1.27-1.36 on 2 threads), and the granitehybrid decode ran
     * 6.9 % (Q8_0, 8 steps against none, 5 alternating runs) and 7.8 % (Q4_0, 4 runs) faster; 4 and
     * 16 steps did as well as 8 in Q8_0, 16 worse than 8 in Q4_0 (benchmarks/README.md). A matrix in
     * cache pays for the extra loads (0.96-1.04 against 0.82-0.87 ns per block). On AMD EPYC the
     * touches cost instead of paying: on 2 vCPUs of a Zen 4 VM (twenty-first session) the same probe
     * read the 1 GiB Q8_0 matrix on 2 threads at 0.98-0.99 ns per block with 8 steps against
     * 0.65-0.70 without, and the Q8_0 decode ran 8 % faster without (3 alternating runs each). So
     * the default is 8 steps where /proc/cpuinfo names an Intel CPU and none elsewhere, where nothing
     * was measured that would justify the extra loads ({@link #defaultReadAhead}).
     * The touches change no result. System property {@code taipan.repack.readahead}: steps, 0 for
     * none.
     */
    static final int READ_AHEAD_STEPS = Math.max(0, Integer.getInteger("taipan.repack.readahead",
            defaultReadAhead(cpuVendor(Path.of("/proc/cpuinfo")))));

    /**
     * The read-ahead in force in this JVM, in column steps ({@code taipan.repack.readahead}, else the
     * CPU vendor's default): what a benchmark records beside its figures.
     */
    public static int readAheadSteps() {
        return READ_AHEAD_STEPS;
    }

    /** The read-ahead for a CPU vendor id ({@link #cpuVendor}): 8 steps for Intel, none otherwise. */
    static int defaultReadAhead(String vendor) {
        return "GenuineIntel".equals(vendor) ? 8 : 0;
    }

    /**
     * The {@code vendor_id} of the first processor listed in a Linux {@code /proc/cpuinfo}
     * ({@code GenuineIntel}, {@code AuthenticAMD}), or "" where the file or the key is missing.
     */
    static String cpuVendor(Path cpuinfo) {
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return lines.filter(l -> l.startsWith("vendor_id") && l.indexOf(':') > 0)
                    .map(l -> l.substring(l.indexOf(':') + 1).strip())
                    .findFirst().orElse("");
        } catch (IOException | UncheckedIOException | SecurityException e) {
            return "";
        }
    }

    /** Written only when the touched bytes sum to {@link Integer#MIN_VALUE}: it keeps their loads. */
    static volatile int touchedSink;

    /**
     * Puts the blocks of group {@code i} of a run of {@code n} groups ({@code group}: its blocks one
     * after the other, each its scales then its columns, as {@code packBlock} writes them) into the
     * run's bytes, interleaved as the class comment describes.
     */
    private void place(byte[] group, int i, int n, byte[] run) {
        int scales = 2 * GROUP_ROWS;
        int unit = columnBytes();
        for (int b = 0; b < blocksPerRow; b++) {
            int src = b * groupBlockBytes;
            int dst = b * n * groupBlockBytes;
            System.arraycopy(group, src, run, dst + i * scales, scales);
            for (int j = 0; j < COLUMNS; j++) {
                System.arraycopy(group, src + scales + j * unit, run, dst + n * scales + (j * n + i) * unit, unit);
            }
        }
    }

    /**
     * The activations {@code x[xOff ..]} as this format's kernel reads them (an instance of the
     * calling thread's, valid until its next call), or null when the kernel cannot represent them
     * (the mapped tensor then computes the call).
     */
    final Q8Activations prepare(float[] x, int xOff) {
        Q8Activations a = Q8Activations.quantized(x, xOff, blocksPerRow);
        return a == null ? null : withFactors(a);
    }

    /**
     * Groups {@code [g, g + nGroups)} (nGroups 1 to {@link #MAX_GROUPS}, in one run) dotted with
     * the prepared activations, written to {@code out[o ..]}, {@link #GROUP_ROWS} values per group.
     * The kernels always run four groups; with fewer, the missing ones repeat group {@code g} and are
     * not stored.
     */
    abstract void groups(long g, int nGroups, Q8Activations a, float[] out, int o);

    /**
     * {@link #groups} for the four tokens {@code a[a0 .. a0 + 3]}, token {@code k} into
     * {@code out[o + k * stride ..]}, with the same floats as four calls (prefill; a format may share
     * its loads between the tokens).
     */
    void groupsQuad(long g, int nGroups, Q8Activations[] a, int a0, float[] out, int o, int stride) {
        for (int k = 0; k < 4; k++) {
            groups(g, nGroups, a[a0 + k], out, o + k * stride);
        }
    }

    /**
     * Group {@code g} alone ({@link #GROUP_ROWS} values at {@code out[o ..]}, for partial groups in
     * padding or at unaligned ends of a range, and single-row dots): the four-group kernel with the
     * group repeated, so the same floats as {@link #groups} gives it among its neighbours.
     */
    final void group(long g, Q8Activations a, float[] out, int o) {
        groups(g, 1, a, out, o);
    }

    /** Scalar twin of {@link #groups} (and of {@link #prepare}) for one row: the same operations in the same order. */
    abstract float rowScalar(long row, float[] x, int xOff);

    /** The quant of row {@code row}, column {@code col}, times its block's scale, exactly as ggml decodes it. */
    abstract float weight(long row, int col);

    @Override
    public final String name() {
        return source.name();
    }

    @Override
    public final DType type() {
        return source.type();
    }

    @Override
    public final Shape shape() {
        return source.shape();
    }

    /** The mapped bytes in the file's layout (not the repacked copy). */
    @Override
    public final MemorySegment data() {
        return source.data();
    }

    /** The repacked bytes (tests, byte counts). */
    public final MemorySegment packed() {
        return packed;
    }

    /** Rows per group of this format's layout. */
    public final int rowsPerGroup() {
        return GROUP_ROWS;
    }

    @Override
    public final void row(long row, float[] dst, int dstOff) {
        Objects.checkIndex(row, source.rows());
        Objects.checkFromIndexSize(dstOff, source.cols(), dst.length);
        for (int c = 0; c < source.cols(); c++) {
            dst[dstOff + c] = weight(row, c);
        }
    }

    @Override
    public final float get(long index) {
        Objects.checkIndex(index, shape().elementCount());
        return weight(index / source.cols(), (int) (index % source.cols()));
    }

    @Override
    public final float dot(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        Q8Activations a = prepare(x, xOff);
        if (a == null) {
            return source.dot(row, x, xOff);
        }
        float[] lanes = new float[GROUP_ROWS];
        group(groupOf(row), a, lanes, 0);
        return lanes[laneOf(row)];
    }

    @Override
    public final float dotScalar(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        return rowScalar(row, x, xOff);
    }

    @Override
    public final void dotRows(long first, int count, float[] x, int xOff, float[] out, int outOff) {
        if (count == 0) {
            return;
        }
        checkDot(first, x, xOff);
        Objects.checkIndex(first + count - 1, source.rows());
        Objects.checkFromIndexSize(outOff, count, out.length);
        Q8Activations a = prepare(x, xOff);
        if (a == null) {
            source.dotRows(first, count, x, xOff, out, outOff);
        } else {
            runRows(first, count, a, out, outOff);
        }
    }

    /**
     * Whole groups up to the end of their run per kernel call (four, fewer only at the ends of the
     * range or of a matrix: four groups per call measured faster than single-group calls even with
     * the repeated group's compute), and partial groups (a run's ends, padding) through
     * {@link #group} and a copy.
     */
    private void runRows(long first, int count, Q8Activations a, float[] out, int outOff) {
        long end = first + count;
        long r = first;
        float[] lanes = null;
        while (r < end) {
            int o = outOff + (int) (r - first);
            long whole = wholeGroups(r, end);
            if (whole > 0) {
                groups(groupOf(r), (int) whole, a, out, o);
                r += whole * GROUP_ROWS;
            } else {
                lanes = lanes == null ? new float[GROUP_ROWS] : lanes;
                group(groupOf(r), a, lanes, 0);
                int n = partialRows(r, end);
                System.arraycopy(lanes, laneOf(r), out, o, n);
                r += n;
            }
        }
    }

    /**
     * Whole groups from row {@code r} on, before {@code end} and within {@code r}'s run and matrix;
     * 0 where {@code r} is not a group's first row or less than a group is left.
     */
    private long wholeGroups(long r, long end) {
        if (laneOf(r) != 0) {
            return 0;
        }
        long g = groupOf(r);
        long matrixEnd = (r / matrixRows + 1) * matrixRows;
        return Math.min(runGroups(g) - indexInRun(g), (Math.min(end, matrixEnd) - r) / GROUP_ROWS);
    }

    /** Rows from {@code r} to the end of its group, of the range ({@code end}) or of its matrix, whichever is first. */
    private int partialRows(long r, long end) {
        long matrixEnd = (r / matrixRows + 1) * matrixRows;
        return (int) Math.min(Math.min(GROUP_ROWS - laneOf(r), end - r), matrixEnd - r);
    }

    /**
     * {@link #runRows} for the four tokens {@code a[a0 .. a0 + 3]} (token {@code k} at
     * {@code outOff + k * stride}): whole groups through {@link #groupsQuad}, partial groups through
     * {@link #runRows} for each token.
     */
    private void runRowsQuad(long first, int count, Q8Activations[] a, int a0, float[] out, int outOff, int stride) {
        long end = first + count;
        long r = first;
        while (r < end) {
            long whole = wholeGroups(r, end);
            int o = outOff + (int) (r - first);
            if (whole > 0) {
                groupsQuad(groupOf(r), (int) whole, a, a0, out, o, stride);
                r += whole * GROUP_ROWS;
            } else {
                int n = partialRows(r, end);
                for (int k = 0; k < 4; k++) {
                    runRows(r, n, a[a0 + k], out, o + k * stride);
                }
                r += n;
            }
        }
    }

    /**
     * Activations prepared once, then the runs of four groups (fewer at the end of each matrix)
     * split across {@code par}'s workers.
     */
    @Override
    public final void matvec(float[] out, float[] x, Parallel par) {
        Tensors.checkMatvec(this, out, x, 1);
        // the caller's instance: the tasks below only read it (no dot call of theirs prepares again)
        Q8Activations a = prepare(x, 0);
        if (a == null) {
            source.matvec(out, x, par);
            return;
        }
        int runs = runCount();
        par.forRange(runs, (start, end) -> {
            long first = firstRow(runFirstGroup(start));
            long last = end == runs ? source.rows() : firstRow(runFirstGroup(end));
            runRows(first, Math.toIntExact(last - first), a, out, Math.toIntExact(first));
        });
    }

    /**
     * Whether {@link #matmul} runs the repacked kernels (the default) or the mapped tensor's float
     * tiled path ({@code -Dtaipan.repack.matmul=false}, for comparisons). On 2 threads of an AMD EPYC
     * (Zen 4) VM the kernels made a 128-token prefill of the granitehybrid benchmark model about 1.8
     * times (Q4_0, four tokens per weight load) and 1.3 times (Q8_0) as fast as the tiled path
     * (benchmarks/README.md, twenty-second session).
     */
    static final boolean KERNEL_MATMUL = Boolean.parseBoolean(System.getProperty("taipan.repack.matmul", "true"));
    /** Each thread's quantized tokens for {@link #matmul}, at most {@link #MATMUL_TOKENS}. */
    private static final ThreadLocal<Q8Activations[]> BATCH = ThreadLocal.withInitial(() -> new Q8Activations[0]);

    /** {@code a}, freshly quantized, with this format's factors filled ({@link #prepare} without the memo). */
    abstract Q8Activations withFactors(Q8Activations a);

    /**
     * Prefill, {@link #MATMUL_TOKENS} tokens at a time: every token quantized once, in a pass of its
     * own (tokens the int8 activations cannot hold are computed by the mapped tensor, row by row),
     * then the runs of four groups split across {@code par}'s workers, each run dotted with the tokens
     * four at a time ({@link #groupsQuad}) while its weights are in cache (a run is at most
     * {@code 4 * 2G} rows: 110 KB of Q4_0 or 209 KB of Q8_0 for 1,536 columns with AVX-512).
     */
    @Override
    public final void matmul(float[] out, float[] x, int nTokens, Parallel par) {
        if (!KERNEL_MATMUL) {
            source.matmul(out, x, nTokens, par);
            return;
        }
        Tensors.checkMatvec(this, out, x, nTokens);
        for (int t0 = 0; t0 < nTokens; t0 += MATMUL_TOKENS) {
            matmulTokens(out, x, t0, Math.min(MATMUL_TOKENS, nTokens - t0), par);
        }
    }

    /**
     * Tokens per pass of {@link #matmul}: each run of weights is read from memory once per this many
     * tokens, and a thread keeps this many quantized tokens (12 bytes per column each, 1.2 MB for
     * 1,536 columns).
     */
    static final int MATMUL_TOKENS = 64;

    /** Tokens {@code [t0, t0 + n)} of {@link #matmul}. */
    private void matmulTokens(float[] out, float[] x, int t0, int n, Parallel par) {
        Q8Activations[] tokens = batch(n);
        int cols = source.cols();
        long rows = source.rows();
        boolean[] mapped = new boolean[n];
        par.forRange(n, (start, end) -> {
            for (int i = start; i < end; i++) {
                if (tokens[i].quantize(x, (t0 + i) * cols, blocksPerRow)) {
                    withFactors(tokens[i]);
                } else {
                    mapped[i] = true;
                }
            }
        });
        int runs = runCount();
        par.forRange(runs, (start, end) -> {
            for (int run = start; run < end; run++) {
                long first = firstRow(runFirstGroup(run));
                int count = Math.toIntExact((run + 1 == runs ? rows : firstRow(runFirstGroup(run + 1))) - first);
                for (int i = 0; i < n; i++) {
                    int o = Math.toIntExact((t0 + i) * rows + first);
                    if (mapped[i]) {
                        source.dotRows(first, count, x, (t0 + i) * cols, out, o);
                    } else if (i + 3 < n && !mapped[i + 1] && !mapped[i + 2] && !mapped[i + 3]) {
                        runRowsQuad(first, count, tokens, i, out, o, Math.toIntExact(rows));
                        i += 3;
                    } else {
                        runRows(first, count, tokens[i], out, o);
                    }
                }
            }
        });
    }

    /** This thread's instances for a batch of {@code nTokens}. */
    private static Q8Activations[] batch(int nTokens) {
        Q8Activations[] b = BATCH.get();
        if (b.length < nTokens) {
            int had = b.length;
            b = Arrays.copyOf(b, Math.max(nTokens, 2 * had));
            for (int t = had; t < b.length; t++) {
                b[t] = new Q8Activations();
            }
            BATCH.set(b);
        }
        return b;
    }

    /** Matrix {@code index} of a 3-D tensor (its rows stay repacked); a row of a matrix is the mapped row. */
    @Override
    public final Tensor slice(long index) {
        Tensor inner = source.slice(index);
        if (inner.shape().rank() < 2) {
            return inner;
        }
        MemorySegment bytes = packed.asSlice(index * groupsPerMatrix * groupBytes, groupsPerMatrix * groupBytes);
        return this instanceof RepackedQ8_0 ? new RepackedQ8_0((QuantizedTensor) inner, bytes) : new RepackedQ4_0((QuantizedTensor) inner, bytes);
    }

    @Override
    public String toString() {
        return source + " (repacked, " + GROUP_ROWS + "-row groups)";
    }

    final void checkDot(long row, float[] x, int xOff) {
        Objects.checkIndex(row, source.rows());
        Objects.checkFromIndexSize(xOff, source.cols(), x.length);
    }

    /** The group holding {@code row}. */
    final long groupOf(long row) {
        return row / matrixRows * groupsPerMatrix + (row % matrixRows) / GROUP_ROWS;
    }

    /** The lane of {@code row} in its group. */
    final int laneOf(long row) {
        return (int) ((row % matrixRows) % GROUP_ROWS);
    }

    /** The first row of group {@code g}. */
    final long firstRow(long g) {
        return g / groupsPerMatrix * matrixRows + (g % groupsPerMatrix) * GROUP_ROWS;
    }

    /** Runs of all the matrices ({@link #MAX_GROUPS} groups each, the last of a matrix shorter). */
    final int runCount() {
        return Math.toIntExact(groups / groupsPerMatrix * runsPerMatrix());
    }

    private long runsPerMatrix() {
        return (groupsPerMatrix + MAX_GROUPS - 1) / MAX_GROUPS;
    }

    /** The first group of run {@code run}, counting the runs of all matrices in order. */
    final long runFirstGroup(long run) {
        long perMatrix = runsPerMatrix();
        return run / perMatrix * groupsPerMatrix + run % perMatrix * MAX_GROUPS;
    }

    /** The first group of the run holding group {@code g}. */
    final long runStart(long g) {
        return g - (g % groupsPerMatrix) % MAX_GROUPS;
    }

    /** The place of group {@code g} in its run, 0 to {@link #MAX_GROUPS} - 1. */
    final int indexInRun(long g) {
        return (int) ((g % groupsPerMatrix) % MAX_GROUPS);
    }

    /** Groups in the run holding group {@code g}: {@link #MAX_GROUPS}, fewer in a matrix's last run. */
    final int runGroups(long g) {
        long k = g % groupsPerMatrix;
        return (int) Math.min(MAX_GROUPS, groupsPerMatrix - k / MAX_GROUPS * MAX_GROUPS);
    }

    /** Offset of block {@code b} of the run holding group {@code g}: its groups' scales, then their columns. */
    private long runBlock(long g, int b) {
        return runStart(g) * groupBytes + (long) b * runGroups(g) * groupBlockBytes;
    }

    /** Offset of the fp16 scale of {@code row} in block {@code b}. */
    final long scaleOffset(long row, int b) {
        long g = groupOf(row);
        long group = runBlock(g, b) + indexInRun(g) * 2L * GROUP_ROWS;
        return group + 2L * laneOf(row);
    }

    /**
     * Offset of column {@code column} (Q4_0: a byte column, Q8_0: a column pair) of the group holding
     * {@code row} in block {@code b}: {@link #columnBytes()} bytes, the lanes' bytes in the format's
     * order (each subclass finds a row's quant in it).
     */
    final long columnOffset(long row, int b, int column) {
        long g = groupOf(row);
        return runBlock(g, b) + 2L * runGroups(g) * GROUP_ROWS + ((long) column * runGroups(g) + indexInRun(g)) * columnBytes();
    }

    /** The fp16 {@code h} times {@code 2^-112} as an f32, exact for every finite fp16 (the scalar form of the kernels' decoding). */
    static float scaledDown(short h) {
        return Float.intBitsToFloat((h << 13) & SIGN_AND_MAGNITUDE);
    }

    /**
     * Refuses the fp16 scale at {@code rows[off]} (row {@code row}, block {@code block} of tensor
     * {@code name}) when it is infinite or NaN: the kernels' exponent shift decodes only finite ones.
     */
    static void checkFiniteScale(String name, long row, int block, byte[] rows, int off) {
        if ((rows[off + 1] & 0x7C) == 0x7C) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "tensor '%s': row %d, block %d has a non-finite fp16 scale (0x%02x%02x)",
                    name, row, block, rows[off + 1] & 0xFF, rows[off] & 0xFF));
        }
    }
}
