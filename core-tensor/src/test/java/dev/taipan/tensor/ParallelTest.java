package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
            for (int n : new int[] {10, 100, 1001}) {
                ConcurrentLinkedQueue<int[]> chunks = new ConcurrentLinkedQueue<>();
                par.forRange(n, (s, e) -> chunks.add(new int[] {s, e}));
                int[][] got = chunks.stream().sorted((a, b) -> a[0] - b[0]).toArray(int[][]::new);
                int expected = Math.min(n, 4 * Parallel.CHUNKS_PER_THREAD);
                assertEquals(expected, got.length, "chunks of n=" + n);
                int next = 0;
                for (int[] c : got) {
                    assertEquals(next, c[0], "chunks of n=" + n + " are contiguous");
                    int size = c[1] - c[0];
                    assertTrue(size == n / expected || size == n / expected + 1, "chunk size " + size + " of n=" + n);
                    next = c[1];
                }
                assertEquals(n, next);
            }
        }
    }

    @Test
    void aStalledThreadsShareIsTakenByTheOthers() throws InterruptedException {
        // the caller's first chunk waits until every other chunk is done: with one fixed share
        // per thread this could never finish, with claimed chunks the worker does them all
        try (Parallel par = Parallel.create(2)) {
            int n = 64;
            int chunks = Math.min(n, 2 * Parallel.CHUNKS_PER_THREAD);
            CountDownLatch others = new CountDownLatch(chunks - 1);
            AtomicBoolean waited = new AtomicBoolean();
            par.forRange(n, (s, e) -> {
                if (s == 0) {
                    try {
                        waited.set(others.await(30, TimeUnit.SECONDS));
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                } else {
                    others.countDown();
                }
            });
            assertTrue(waited.get(), "the worker took every chunk the caller could not");
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
