package dev.taipan.bench;

import dev.taipan.tensor.BF16Tensor;
import dev.taipan.tensor.F16Tensor;
import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.JitLimits;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
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

/**
 * matvec over 1 GiB of off-heap weights (F32, F16, BF16; 8192 columns), far larger than the L3
 * cache, so every call streams the whole matrix from DRAM. One op = one matvec = {@link #BYTES}
 * weight bytes; {@link BenchMain} turns ops/s into GB/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        JitLimits.TRAP_LIMIT_OPTION, JitLimits.RECOMPILATION_CUTOFF_OPTION,
        "-Xmx2g", "-XX:MaxDirectMemorySize=16g"})
public class MatvecBench {
    static final long BYTES = OffHeap.GIB;
    static final int COLS = 8192;

    @Param({"F32", "F16", "BF16"})
    public OffHeap.Encoding type;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private Parallel par;
    private Tensor weights;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        int elementBytes = type == OffHeap.Encoding.F32 ? 4 : 2;
        int rows = (int) (BYTES / ((long) COLS * elementBytes));
        Shape shape = Shape.of(rows, COLS);
        var seg = OffHeap.random(arena, BYTES, type, 7);
        weights = switch (type) {
            case F32 -> new F32Tensor("w", shape, seg);
            case F16 -> new F16Tensor("w", shape, seg);
            case BF16 -> new BF16Tensor("w", shape, seg);
        };
        x = OffHeap.randomFloats(COLS, 8);
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
}
