package dev.taipan.bench;

import dev.taipan.quant.RepackedTensor;
import dev.taipan.quant.TensorFactory;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import dev.taipan.tensor.Tensors;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Quick same-run ratios for the prefill and decode kernels (not JMH: a few seconds, for the
 * figures quoted in benchmarks/README.md "Second session" and "Third session"):
 * <ul>
 *   <li>{@code prefill}: {@code Tensor.matmul} of a 2048 x 2048 matrix and 64 tokens on 2 threads
 *   (tiles decoded once, {@code TiledMatmul}) against {@link Tensors#matmulBlocked} (one fused
 *   dequantizing dot per row and token, the path every type used before), per type;</li>
 *   <li>{@code matvec}: ns per 32-weight block of the Q8_0/Q4_0 {@code matvec}, mapped layout
 *   against {@link RepackedTensor}, for a matrix in cache (256 rows, about 0.5 MB, one thread) and one
 *   of about 1 GiB (from DRAM, one and two threads);</li>
 *   <li>{@code shapes [TYPE]}: GB/s of repacked one-token products on 2 threads for the matrix shapes
 *   of the granitehybrid decode (output head, Mamba-2 in/out projections, one expert's up and down
 *   matrices), each shape cycled over copies filling about 512 MiB so that the weights come from
 *   DRAM, under four schedules: {@code matvec} per matrix (Parallel's chunks of runs); one call per
 *   matrix with one slice per thread ({@link Parallel#sliceStart}); one call for all the copies
 *   with one slice of every matrix per thread (the ninth session's MoE and q/k/v one-token
 *   passes); one call with whole matrices per thread (ninth session, benchmarks/README.md).</li>
 *   <li>{@code pieces [TYPE]}: GB/s of one-token products over expert-shaped matrices (1024 x
 *   1536, cycled over about 512 MiB) on 2 threads, each thread reading either half of each of 10
 *   matrices or 5 whole matrices per round (the MoE one-token passes before and after 2f01dd0),
 *   in alternating rounds, as medians and quartiles of 180 rounds each after 40 untimed.</li>
 *   <li>{@code profiles [TYPE [TOKENS]]}: ms per repacked {@code matmul} of a 1024 x 1536 matrix and
 *   64 tokens (1 thread), after the JDK's ShortVector, IntVector and FloatVector methods have been
 *   called with vectors of four shapes, so that their receiver profiles are polluted as in a process
 *   whose other code uses other shapes ({@code JitLimits}: loop-carried receivers); run it with and
 *   without {@code clean} as the last argument to compare (best of 5 rounds, as below).</li>
 * </ul>
 * Each figure of the other modes is the best of 5 timed rounds after 2 untimed ones.
 * <pre>
 * java --add-modules jdk.incubator.vector -cp "$(cat examples/target/classpath.txt)" dev.taipan.bench.KernelProbe
 * </pre>
 */
public final class KernelProbe {
    private static final int COLS = 2048;

    private KernelProbe() {
    }

    public static void main(String[] args) {
        boolean all = args.length == 0;
        if (all || Arrays.asList(args).contains("prefill")) {
            prefill();
        }
        if (all || Arrays.asList(args).contains("matvec")) {
            matvec();
        }
        int at = Arrays.asList(args).indexOf("shapes");
        if (all || at >= 0) {
            shapes(typeAfter(args, at));
        }
        at = Arrays.asList(args).indexOf("profiles");
        if (at >= 0) {
            profiles(typeAfter(args, at), at + 2 < args.length && !args[at + 2].equals("clean") ? Integer.parseInt(args[at + 2]) : 64,
                    !Arrays.asList(args).contains("clean"));
        }
        at = Arrays.asList(args).indexOf("pieces");
        if (all || at >= 0) {
            pieces(typeAfter(args, at));
        }
    }

    /** The type named after argument {@code at}, Q4_0 when there is none. */
    private static DType typeAfter(String[] args, int at) {
        return at >= 0 && at + 1 < args.length ? DType.valueOf(args[at + 1]) : DType.Q4_0;
    }

    /**
     * Half of each of 10 matrices per thread against 5 whole ones, in alternating rounds: the
     * same bytes, as twice the pieces at half the length.
     */
    private static void pieces(DType type) {
        int rows = 1024;
        int cols = 1536;
        int perRound = 10;
        int warmup = 40;
        int timed = 360;
        long bytes = rows * type.byteSize(cols);
        int copies = (int) ((OffHeap.GIB / 2) / bytes);
        try (Arena arena = Arena.ofShared(); Parallel par = Parallel.create(2)) {
            Tensor[] m = repackedCopies(arena, type, copies, rows, cols);
            float[] x = input(cols);
            float[][] out = new float[2][rows];
            double[][] gbs = new double[2][timed / 2];
            for (int round = 0, base = 0; round < warmup + timed; round++, base = (base + perRound) % (copies - perRound)) {
                boolean halves = (round & 1) == 0;
                int first = base;
                long start = System.nanoTime();
                par.forRange(2, (p0, p1) -> {
                    for (int p = p0; p < p1; p++) {
                        if (halves) {
                            for (int e = 0; e < perRound; e++) {
                                m[first + e].dotRows(p * rows / 2, rows / 2, x, 0, out[p], 0);
                            }
                        } else {
                            for (int e = p; e < perRound; e += 2) {
                                m[first + e].dotRows(0, rows, x, 0, out[p], 0);
                            }
                        }
                    }
                });
                long nanos = System.nanoTime() - start;
                if (round >= warmup) {
                    gbs[halves ? 0 : 1][(round - warmup) / 2] = perRound * bytes / (double) nanos;
                }
            }
            for (int k = 0; k < 2; k++) {
                double[] g = gbs[k];
                Arrays.sort(g);
                System.out.printf(Locale.ROOT, "pieces  %-5s %4.0f KiB pieces, %2d per thread and round, 2 threads: GB/s median %.1f "
                        + "(quartiles %.1f-%.1f)%n", type, (k == 0 ? bytes / 2 : bytes) / 1024.0, k == 0 ? perRound : perRound / 2,
                        g[g.length / 2], g[g.length / 4], g[3 * g.length / 4]);
            }
        }
    }

    private static void profiles(DType type, int tokens, boolean pollute) {
        if (pollute) {
            System.out.println("profiles: the JDK's vector methods called with four shapes first (sink " + polluteProfiles() + ")");
        }
        int rows = 1024;
        int cols = 1536;
        try (Arena arena = Arena.ofShared(); Parallel one = Parallel.create(1)) {
            Tensor w = RepackedTensor.of(TensorFactory.create("w", type, Shape.of(rows, cols),
                    QuantMatvecBench.randomBlocks(arena, type, rows * type.byteSize(cols), 5)), arena);
            float[] x = batch(tokens * cols);
            float[] out = new float[tokens * rows];
            double ms = bestMillis(() -> w.matmul(out, x, tokens, one));
            System.out.printf(Locale.ROOT, "profiles %-5s %d x %d, %d tokens, 1 thread, %s: %.3f ms per matmul%n", type, rows, cols,
                    tokens, pollute ? "polluted" : "clean", ms);
        }
    }

    /** Calls add, mul, sub, max and shifts of ShortVector, IntVector and FloatVector with 64- to 512-bit vectors. */
    @SuppressWarnings("unchecked")
    private static long polluteProfiles() {
        VectorSpecies<?>[][] species = {
            {ShortVector.SPECIES_64, ShortVector.SPECIES_128, ShortVector.SPECIES_256, ShortVector.SPECIES_512},
            {IntVector.SPECIES_64, IntVector.SPECIES_128, IntVector.SPECIES_256, IntVector.SPECIES_512},
            {FloatVector.SPECIES_64, FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512}};
        long sink = 0;
        for (int i = 0; i < 200_000; i++) {
            ShortVector a = ShortVector.broadcast((VectorSpecies<Short>) species[0][i & 3], (short) i);
            sink += a.add(a).mul(a).sub(a).max(a).lanewise(VectorOperators.ASHR, 1).lane(0);
            IntVector b = IntVector.broadcast((VectorSpecies<Integer>) species[1][i & 3], i);
            sink += b.add(b).mul(b).sub(b).max(b).lanewise(VectorOperators.LSHR, 1).lane(0);
            FloatVector f = FloatVector.broadcast((VectorSpecies<Float>) species[2][i & 3], i);
            sink += (long) f.add(f).mul(f).sub(f).max(f).fma(f, f).abs().lane(0);
        }
        return sink;
    }

    private static void shapes(DType type) {
        int[][] shapes = {{32000, 1536}, {6448, 1536}, {1536, 3072}, {1024, 1536}, {1536, 1024}};
        try (Parallel par = Parallel.create(2)) {
            int n = par.threads();
            for (int[] shape : shapes) {
                int rows = shape[0];
                int cols = shape[1];
                long bytes = rows * type.byteSize(cols);
                int copies = (int) Math.max(2, (OffHeap.GIB / 2) / bytes);
                try (Arena arena = Arena.ofShared()) {
                    Tensor[] m = repackedCopies(arena, type, copies, rows, cols);
                    float[] x = input(cols);
                    float[][] out = new float[n][rows];
                    double chunks = bestMillis(() -> {
                        for (Tensor w : m) {
                            w.matvec(out[0], x, par);
                        }
                    });
                    double sliceCalls = bestMillis(() -> {
                        for (Tensor w : m) {
                            par.forRange(n, (p0, p1) -> slices(w, p0, p1, n, x, out[0]));
                        }
                    });
                    double oneCall = bestMillis(() -> par.forRange(n, (p0, p1) -> {
                        for (Tensor w : m) {
                            slices(w, p0, p1, n, x, out[0]);
                        }
                    }));
                    double whole = bestMillis(() -> par.forRange(n, (p0, p1) -> {
                        for (int p = p0; p < p1; p++) {
                            for (int e = p; e < copies; e += n) {
                                m[e].dotRows(0, rows, x, 0, out[p], 0);
                            }
                        }
                    }));
                    double gb = copies * bytes / 1e6;
                    System.out.printf(Locale.ROOT, "shapes  %-5s %5d x %-5d (%6.0f KiB) x %3d, 2 threads: GB/s matvec %.1f, "
                            + "slice per thread %.1f, slices in one call %.1f, whole matrices per thread %.1f%n", type, rows,
                            cols, bytes / 1024.0, copies, gb / chunks, gb / sliceCalls, gb / oneCall, gb / whole);
                }
            }
        }
    }

    /** {@code copies} repacked {@code rows x cols} matrices of random blocks, one after the other in memory. */
    private static Tensor[] repackedCopies(Arena arena, DType type, int copies, int rows, int cols) {
        long bytes = rows * type.byteSize(cols);
        Tensor all = RepackedTensor.of(TensorFactory.create("w", type, Shape.of(copies, rows, cols),
                QuantMatvecBench.randomBlocks(arena, type, copies * bytes, 5)), arena);
        Tensor[] m = new Tensor[copies];
        for (int e = 0; e < copies; e++) {
            m[e] = all.slice(e);
        }
        return m;
    }

    /** The activations of the one-token probes: {@code cos(0.11 i)}. */
    private static float[] input(int cols) {
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) Math.cos(i * 0.11);
        }
        return x;
    }

    /** The activations of the batch probes: {@code sin(0.37 i)}. */
    private static float[] batch(int length) {
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            x[i] = (float) Math.sin(i * 0.37);
        }
        return x;
    }

    private static void slices(Tensor w, int p0, int p1, int n, float[] x, float[] out) {
        for (int p = p0; p < p1; p++) {
            Tensors.dotSlice(w, p, n, x, out);
        }
    }

    private static void prefill() {
        int rows = 2048;
        int nTokens = 64;
        float[] x = batch(nTokens * COLS);
        float[] out = new float[nTokens * rows];
        try (Arena arena = Arena.ofShared(); Parallel par = Parallel.create(2)) {
            for (DType type : new DType[] {DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0}) {
                Tensor w = TensorFactory.create("w", type, Shape.of(rows, COLS), fill(arena, type, rows));
                double tiles = bestMillis(() -> w.matmul(out, x, nTokens, par));
                double dots = bestMillis(() -> Tensors.matmulBlocked(w, out, x, nTokens, par));
                System.out.printf(Locale.ROOT, "prefill %-5s %d x %d, %d tokens, 2 threads: matmul %.1f ms, "
                        + "per-token dots %.1f ms, ratio %.2fx%n", type, rows, COLS, nTokens, tiles, dots, dots / tiles);
            }
        }
    }

    private static void matvec() {
        float[] x = input(COLS);
        try (Arena arena = Arena.ofShared(); Parallel one = Parallel.create(1); Parallel two = Parallel.create(2)) {
            for (DType type : new DType[] {DType.Q8_0, DType.Q4_0}) {
                for (int rows : new int[] {256, (int) (OffHeap.GIB / type.byteSize(COLS)) / 64 * 64}) {
                    Tensor mapped = TensorFactory.create("w", type, Shape.of(rows, COLS), fill(arena, type, rows));
                    Tensor repacked = RepackedTensor.of(mapped, arena);
                    float[] out = new float[rows];
                    double blocks = (double) rows * COLS / 32;
                    for (Parallel par : rows == 256 ? new Parallel[] {one} : new Parallel[] {one, two}) {
                        double m = bestMillis(() -> mapped.matvec(out, x, par));
                        double r = bestMillis(() -> repacked.matvec(out, x, par));
                        System.out.printf(Locale.ROOT, "matvec  %-5s %7d rows (%s), %d thread(s): mapped %.2f, repacked %.2f ns "
                                + "per block, ratio %.2fx%n", type, rows, rows == 256 ? "in cache" : "1 GiB", par.threads(),
                                m * 1e6 / blocks, r * 1e6 / blocks, m / r);
                    }
                }
            }
        }
    }

    private static MemorySegment fill(Arena arena, DType type, int rows) {
        long bytes = rows * type.byteSize(COLS);
        return switch (type) {
            case F16 -> OffHeap.random(arena, bytes, OffHeap.Encoding.F16, 5);
            case BF16 -> OffHeap.random(arena, bytes, OffHeap.Encoding.BF16, 5);
            default -> QuantMatvecBench.randomBlocks(arena, type, bytes, 5);
        };
    }

    // best wall time of one call, in ms: calls until the JIT has compiled the kernel (at least 3 s,
    // and until two 0.25 s windows in a row agree within 5 %; at most 30 s: a kernel's profiled
    // C1 code can be 100x slower than C2's, and reaching C2 can take several seconds), then 7
    // rounds of about 0.2 s, the first 2 untimed
    private static double bestMillis(Runnable call) {
        long warm = System.nanoTime();
        double previous = Double.MAX_VALUE;
        double perCall;
        while (true) {
            long windowStart = System.nanoTime();
            int calls = 0;
            do {
                call.run();
                calls++;
            } while (System.nanoTime() - windowStart < 250_000_000L);
            perCall = (double) (System.nanoTime() - windowStart) / calls;
            long elapsed = System.nanoTime() - warm;
            if ((elapsed > 3_000_000_000L && Math.abs(perCall - previous) < 0.05 * previous) || elapsed > 30_000_000_000L) {
                break;
            }
            previous = perCall;
        }
        long once = Math.max(1, (long) perCall);
        int reps = (int) Math.max(1, Math.min(1000, 200_000_000L / once));
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 7; round++) {
            long start = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                call.run();
            }
            double ms = (System.nanoTime() - start) / 1e6 / reps;
            if (round >= 2) {
                best = Math.min(best, ms);
            }
        }
        return best;
    }
}
