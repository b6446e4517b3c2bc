package dev.taipan.bench;

import dev.taipan.tensor.HalfFloat;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Off-heap arrays for the benchmarks, filled with reproducible pseudo-random values in [-1, 1). */
public final class OffHeap {
    static final long GIB = 1L << 30;
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Element encodings the benchmarks fill. */
    public enum Encoding { F32, F16, BF16 }

    private OffHeap() {
    }

    /** {@code bytes} bytes (64-byte aligned) of random values in {@code encoding}. */
    static MemorySegment random(Arena arena, long bytes, Encoding encoding, long seed) {
        MemorySegment seg = arena.allocate(bytes, 64);
        long state = seed * 0x9E3779B97F4A7C15L + 1;
        switch (encoding) {
            case F32 -> {
                for (long off = 0; off < bytes; off += 4) {
                    state = next(state);
                    seg.set(LE_FLOAT, off, unit(state));
                }
            }
            case F16 -> {
                for (long off = 0; off < bytes; off += 2) {
                    state = next(state);
                    seg.set(LE_SHORT, off, Float.floatToFloat16(unit(state)));
                }
            }
            case BF16 -> {
                for (long off = 0; off < bytes; off += 2) {
                    state = next(state);
                    seg.set(LE_SHORT, off, HalfFloat.floatToBf16(unit(state)));
                }
            }
        }
        return seg;
    }

    /** Random floats in [-1, 1) for activations. */
    static float[] randomFloats(int n, long seed) {
        float[] a = new float[n];
        long state = seed * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < n; i++) {
            state = next(state);
            a[i] = unit(state);
        }
        return a;
    }

    private static long next(long s) {
        s ^= s << 13;
        s ^= s >>> 7;
        s ^= s << 17;
        return s;
    }

    private static float unit(long s) {
        return Float.intBitsToFloat(0x40000000 | (int) (s >>> 41)) - 3f;
    }
}
