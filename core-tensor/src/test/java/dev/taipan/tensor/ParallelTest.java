package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The worker pool: every index exactly once, chunks as documented, failures, nesting, reuse. */
class ParallelTest {

    @Test
    void everyIndexRunsExactlyOnceOverManyCalls() {
        try (Parallel par = Parallel.create(3)) {
            for (int n : new int[] {0, 1, 2, 3, 4, 7, 100, 1001}) {
                for (int rep = 0; rep < 200; rep++) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    par.forRange(n, (s, e) -> {
                        for (int i = s; i < e; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, hits.get(i), "n=" + n + " index " + i);
                    }
                }
            }
        }
    }

    @Test
    void chunksAreContiguousAndBalanced() {
        try (Parallel par = Parallel.create(4)) {
            ConcurrentLinkedQueue<int[]> chunks = new ConcurrentLinkedQueue<>();
            par.forRange(10, (s, e) -> chunks.add(new int[] {s, e}));
            int[][] got = chunks.stream().sorted((a, b) -> a[0] - b[0]).toArray(int[][]::new);
            assertArrayEquals(new int[][] {{0, 2}, {2, 5}, {5, 7}, {7, 10}}, got);
        }
    }

    @Test
    void workerFailureIsRethrownAndPoolStaysUsable() {
        try (Parallel par = Parallel.create(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> par.forRange(10, (s, e) -> {
                if (s > 0) {
                    throw boom;
                }
            }));
            assertSame(boom, thrown);
            int[] out = new int[10];
            par.forRange(10, (s, e) -> {
                for (int i = s; i < e; i++) {
                    out[i] = i * i;
                }
            });
            assertEquals(81, out[9]);
        }
    }

    @Test
    void callerAndWorkerFailuresLeaveNothingBehind() {
        try (Parallel par = Parallel.create(2)) {
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> par.forRange(10, (s, e) -> {
                throw new IllegalStateException(s == 0 ? "caller" : "worker");
            }));
            assertEquals("caller", thrown.getMessage());
            assertEquals("worker", thrown.getSuppressed()[0].getMessage());
            int[] out = new int[10];
            par.forRange(10, (s, e) -> {
                for (int i = s; i < e; i++) {
                    out[i] = 1;
                }
            });
            assertEquals(10, java.util.Arrays.stream(out).sum());
        }
    }

    @Test
    void nestedCallsRunInline() {
        try (Parallel par = Parallel.create(2)) {
            AtomicIntegerArray hits = new AtomicIntegerArray(100);
            par.forRange(10, (s, e) -> {
                for (int i = s; i < e; i++) {
                    int base = i * 10;
                    par.forRange(10, (s2, e2) -> {
                        for (int j = s2; j < e2; j++) {
                            hits.incrementAndGet(base + j);
                        }
                    });
                }
            });
            for (int i = 0; i < 100; i++) {
                assertEquals(1, hits.get(i));
            }
        }
    }

    @Test
    void rejectsBadThreadCount() {
        assertThrows(IllegalArgumentException.class, () -> Parallel.create(0));
    }
}
