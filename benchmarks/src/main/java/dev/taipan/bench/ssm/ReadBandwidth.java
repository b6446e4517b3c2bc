package dev.taipan.bench.ssm;

import dev.taipan.tensor.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A quick read-bandwidth probe, the same kernel as {@link dev.taipan.bench.BandwidthBench#read}
 * without JMH: sums an off-heap array of floats split in 1 MiB blocks over a {@link Parallel}
 * pool of the given threads; the best of five timed passes after one warm-up pass, in GB/s.
 */
final class ReadBandwidth {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final long BLOCK = 1L << 20;

    private ReadBandwidth() {
    }

    /** GB/s (1e9 bytes) read by {@code threads} threads over {@code bytes} (a multiple of 1 MiB). */
    static double measure(int threads, long bytes) {
        int blocks = (int) (bytes / BLOCK);
        try (Arena arena = Arena.ofShared(); Parallel par = Parallel.create(threads)) {
            MemorySegment a = arena.allocate(blocks * BLOCK, 64);
            for (long off = 0; off < a.byteSize(); off += Float.BYTES) {
                a.set(ValueLayout.JAVA_FLOAT_UNALIGNED, off, 1f);
            }
            float[] partial = new float[blocks];
            double best = 0;
            for (int pass = 0; pass < 6; pass++) {
                long t0 = System.nanoTime();
                par.forRange(blocks, (start, end) -> {
                    for (int k = start; k < end; k++) {
                        partial[k] = sumBlock(a, k * BLOCK);
                    }
                });
                long dt = System.nanoTime() - t0;
                if (pass > 0) {
                    best = Math.max(best, (double) blocks * BLOCK / dt);
                }
            }
            double total = 0;
            for (float p : partial) {
                total += p;
            }
            if (total != (double) blocks * BLOCK / Float.BYTES) {
                throw new IllegalStateException("bandwidth probe summed " + total + ", expected "
                        + blocks * BLOCK / Float.BYTES);
            }
            return best;
        }
    }

    private static float sumBlock(MemorySegment a, long from) {
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
}
