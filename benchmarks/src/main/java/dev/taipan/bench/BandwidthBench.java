package dev.taipan.bench;

import dev.taipan.tensor.JitLimits;
import dev.taipan.tensor.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
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

/**
 * The memory bandwidth Java reaches on this machine, measured by the same harness, pool and vector
 * width as the kernels: {@link #read} sums a 1 GiB array (one op = 1 GiB read); {@link #triad} is
 * STREAM's {@code a = b + s * c} over three 1 GiB arrays (one op = 3 GiB: two read, one written;
 * the write-allocate read is not counted, as in STREAM). Work is split in 1 MiB blocks over
 * {@link Parallel#forRange}, as matvec splits rows.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        JitLimits.TRAP_LIMIT_OPTION, JitLimits.RECOMPILATION_CUTOFF_OPTION,
        "-Xmx2g", "-XX:MaxDirectMemorySize=16g"})
public class BandwidthBench {
    static final long BYTES = OffHeap.GIB;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final long BLOCK = 1L << 20;
    private static final int BLOCKS = (int) (BYTES / BLOCK);

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private Parallel par;
    private MemorySegment a;
    private MemorySegment b;
    private MemorySegment c;
    private float[] partial;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        a = OffHeap.random(arena, BYTES, OffHeap.Encoding.F32, 1);
        b = OffHeap.random(arena, BYTES, OffHeap.Encoding.F32, 2);
        c = OffHeap.random(arena, BYTES, OffHeap.Encoding.F32, 3);
        partial = new float[BLOCKS];
        par = Parallel.create(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        par.close();
        arena.close();
    }

    @Benchmark
    public float read() {
        par.forRange(BLOCKS, (start, end) -> {
            for (int k = start; k < end; k++) {
                partial[k] = sumBlock(k * BLOCK);
            }
        });
        float s = 0;
        for (float p : partial) {
            s += p;
        }
        return s;
    }

    private float sumBlock(long from) {
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        long step = S.vectorByteSize();
        for (long off = from; off < from + BLOCK; off += 4 * step) {
            s0 = s0.add(FloatVector.fromMemorySegment(S, a, off, LE));
            s1 = s1.add(FloatVector.fromMemorySegment(S, a, off + step, LE));
            s2 = s2.add(FloatVector.fromMemorySegment(S, a, off + 2 * step, LE));
            s3 = s3.add(FloatVector.fromMemorySegment(S, a, off + 3 * step, LE));
        }
        return s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
    }

    @Benchmark
    public MemorySegment triad() {
        float scalar = 1.5f;
        par.forRange(BLOCKS, (start, end) -> {
            long step = S.vectorByteSize();
            for (long off = start * BLOCK; off < end * BLOCK; off += step) {
                FloatVector.fromMemorySegment(S, b, off, LE)
                        .add(FloatVector.fromMemorySegment(S, c, off, LE).mul(scalar))
                        .intoMemorySegment(a, off, LE);
            }
        });
        return a;
    }
}
