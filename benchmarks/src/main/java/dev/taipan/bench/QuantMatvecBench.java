package dev.taipan.bench;

import dev.taipan.quant.TensorFactory;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.JitLimits;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * matvec of the quant module's fused dequant-dot kernels over at least 1 GiB of random valid
 * off-heap blocks (8192 columns; random quants, random fp16 scales in [-1, 1), MXFP4 exponents
 * near 2^-8), far larger than the L3 cache, so every call streams the whole matrix from DRAM.
 * One op = one matvec = {@link #bytes} weight bytes.
 *
 * <p>{@link #main} runs this and {@link BandwidthBench#read} in one JMH run and prints a Markdown
 * table of GB/s and of the share of the read bandwidth measured with the same thread count:
 * {@code java --add-modules jdk.incubator.vector -cp benchmarks.jar dev.taipan.bench.QuantMatvecBench}
 * (extra arguments are JMH options, e.g. {@code -p type=Q8_0 -wi 1 -i 3}). With {@code --cpu-time}
 * it instead prints one-thread throughput per CPU second (see {@link #cpuTimeReport}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        JitLimits.TRAP_LIMIT_OPTION, JitLimits.RECOMPILATION_CUTOFF_OPTION,
        "-Xmx2g"})
public class QuantMatvecBench {
    static final int COLS = 8192;
    private static final long MIN_BYTES = 1L << 30;
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Keeps the results of {@link #cpuTimeReport}'s loops alive. */
    static volatile long blackhole;

    @Param({"Q8_0", "Q4_0", "Q4_K", "Q6_K", "MXFP4"})
    public DType type;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private Parallel par;
    private Tensor weights;
    private float[] x;
    private float[] out;

    /** Rows of {@link #COLS} columns so that the matrix has at least 1 GiB. */
    static int rows(DType type) {
        long rowBytes = type.byteSize(COLS);
        return Math.toIntExact((MIN_BYTES + rowBytes - 1) / rowBytes);
    }

    /** Weight bytes streamed by one matvec of {@code type}. */
    static long bytes(DType type) {
        return rows(type) * type.byteSize(COLS);
    }

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        int rows = rows(type);
        weights = TensorFactory.create("w", type, Shape.of(rows, COLS), randomBlocks(arena, type, bytes(type), 11));
        x = OffHeap.randomFloats(COLS, 12);
        out = new float[rows];
        par = Parallel.create(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        par.close();
        arena.close();
    }

    @Benchmark
    public float[] matvec() {
        weights.matvec(out, x, par);
        return out;
    }

    /** Random bytes, then every scale field of every block set to a finite value. */
    static MemorySegment randomBlocks(Arena arena, DType type, long bytes, long seed) {
        MemorySegment seg = arena.allocate(bytes, 64);
        long state = seed * 0x9E3779B97F4A7C15L + 1;
        long off = 0;
        for (; off + 8 <= bytes; off += 8) {
            state ^= state << 13;
            state ^= state >>> 7;
            state ^= state << 17;
            seg.set(LE_LONG, off, state);
        }
        int[] scales = switch (type) {
            case Q8_0, Q4_0 -> new int[] {0};
            case Q4_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            case MXFP4 -> new int[0];
            default -> throw new IllegalArgumentException("no block filler for " + type);
        };
        int blockBytes = type.blockBytes();
        for (long b = 0; b < bytes; b += blockBytes) {
            for (int f : scales) {
                float unit = (seg.get(ValueLayout.JAVA_BYTE, b + f) + 0.5f) / 128f;
                seg.set(LE_SHORT, b + f, Float.floatToFloat16(unit));
            }
            if (type == DType.MXFP4) {
                seg.set(ValueLayout.JAVA_BYTE, b, (byte) (116 + (seg.get(ValueLayout.JAVA_BYTE, b) & 7)));
            }
        }
        return seg;
    }

    /**
     * One thread, timed by its CPU time instead of the wall clock: GB of weights per CPU second
     * for each kernel and for a plain integer-sum read of the same bytes. On a machine shared
     * with other jobs this shows how close a kernel comes to streaming speed per unit of CPU it
     * gets, which the wall-clock JMH numbers cannot separate from the share of CPU it got.
     */
    static void cpuTimeReport() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        float[] x = OffHeap.randomFloats(COLS, 12);
        System.out.println("| kernel (1 thread, CPU time) | weights GB per CPU s | read of the same bytes, GB per CPU s | ratio |");
        System.out.println("|---|---:|---:|---:|");
        for (DType type : List.of(DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K, DType.MXFP4)) {
            try (Arena arena = Arena.ofConfined(); Parallel one = Parallel.create(1)) {
                long bytes = bytes(type);
                MemorySegment seg = randomBlocks(arena, type, bytes, 11);
                Tensor t = TensorFactory.create("w", type, Shape.of(rows(type), COLS), seg);
                float[] out = new float[rows(type)];
                double bestMatvec = 0;
                double bestRead = 0;
                long sink = 0;
                for (int i = 0; i < 8; i++) {
                    long c0 = mx.getCurrentThreadCpuTime();
                    t.matvec(out, x, one);
                    long c1 = mx.getCurrentThreadCpuTime();
                    sink += readAll(seg);
                    long c2 = mx.getCurrentThreadCpuTime();
                    bestMatvec = Math.max(bestMatvec, bytes / (double) (c1 - c0));
                    bestRead = Math.max(bestRead, bytes / (double) (c2 - c1));
                }
                blackhole = sink + Float.floatToRawIntBits(out[0]);
                System.out.printf("| matvec %s | %.2f | %.2f | %.0f %% |%n", type, bestMatvec, bestRead,
                        100 * bestMatvec / bestRead);
            }
        }
    }

    /** Integer sum of every long of {@code seg} (a read of all its bytes). */
    private static long readAll(MemorySegment seg) {
        VectorSpecies<Long> species = LongVector.SPECIES_PREFERRED;
        long step = species.vectorByteSize();
        LongVector s0 = LongVector.zero(species);
        LongVector s1 = s0;
        long off = 0;
        for (; off + 2 * step <= seg.byteSize(); off += 2 * step) {
            s0 = s0.add(LongVector.fromMemorySegment(species, seg, off, ByteOrder.LITTLE_ENDIAN));
            s1 = s1.add(LongVector.fromMemorySegment(species, seg, off + step, ByteOrder.LITTLE_ENDIAN));
        }
        return s0.add(s1).reduceLanes(VectorOperators.ADD);
    }

    /** One measured row of the table. */
    private record Row(String kernel, int threads, double gbps, double error) {
    }

    /** Runs the read-bandwidth and quantized matvec benchmarks and prints the table. */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--cpu-time")) {
            cpuTimeReport();
            return;
        }
        Options opts = new OptionsBuilder()
                .parent(new CommandLineOptions(args))
                .include(BandwidthBench.class.getSimpleName() + ".read")
                .include(QuantMatvecBench.class.getSimpleName())
                .build();
        Collection<RunResult> results = new Runner(opts).run();
        List<Row> rows = new ArrayList<>();
        Map<Integer, Double> readByThreads = new HashMap<>();
        for (RunResult r : results) {
            String type = r.getParams().getParam("type");
            int threads = Integer.parseInt(r.getParams().getParam("threads"));
            double bytes = type == null ? BandwidthBench.BYTES : bytes(DType.valueOf(type));
            Row row = new Row(type == null ? "read" : "matvec " + type, threads,
                    r.getPrimaryResult().getScore() * bytes / 1e9, r.getPrimaryResult().getScoreError() * bytes / 1e9);
            if (type == null) {
                readByThreads.put(threads, row.gbps());
            }
            rows.add(row);
        }
        System.out.println();
        System.out.println("| kernel | threads | GB/s | ± (99.9%) | % of read bandwidth |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (Row row : rows) {
            Double read = readByThreads.get(row.threads());
            String share = read == null ? "n/a" : String.format("%.0f %%", 100 * row.gbps() / read);
            System.out.printf("| %s | %d | %.2f | %.2f | %s |%n", row.kernel(), row.threads(), row.gbps(), row.error(),
                    share);
        }
    }
}
