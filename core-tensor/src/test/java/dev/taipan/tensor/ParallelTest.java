package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    /** 16 threads split 32000 into 120 chunks, more than the pool's first array of boundaries holds. */
    @ParameterizedTest
    @ValueSource(ints = {4, 16})
    void chunksAreContiguousAndShrinkToSmallTails(int threads) {
        try (Parallel par = Parallel.create(threads)) {
            for (int n : new int[] {2, 3, 10, 100, 1001, 32000}) {
                ConcurrentLinkedQueue<int[]> chunks = new ConcurrentLinkedQueue<>();
                par.forRange(n, (s, e) -> chunks.add(new int[] {s, e}));
                int[][] got = chunks.stream().sorted((a, b) -> a[0] - b[0]).toArray(int[][]::new);
                int[] bounds = Parallel.chunkBounds(n, threads);
                assertEquals(bounds.length - 1, got.length, "chunks of n=" + n);
                int next = 0;
                int previous = Integer.MAX_VALUE;
                for (int c = 0; c < got.length; c++) {
                    assertEquals(next, got[c][0], "chunks of n=" + n + " are contiguous");
                    assertEquals(bounds[c + 1], got[c][1], "chunk " + c + " of n=" + n);
                    int size = got[c][1] - got[c][0];
                    assertTrue(size >= 1 && size <= previous, "chunk sizes of n=" + n + " shrink: " + size
                            + " after " + previous);
                    // guided: at least 1 / (2 * threads) of what is left
                    int left = n - next;
                    assertTrue(size == left || size >= left / (2 * threads), "chunk " + size + " of " + left + " left, n=" + n);
                    previous = size;
                    next = got[c][1];
                }
                assertEquals(n, next);
                // the tail: the last chunk is the minimum, at most n / (32 * threads) or 1
                int last = got[got.length - 1][1] - got[got.length - 1][0];
                assertTrue(last <= Math.max(1, n / (Parallel.MIN_CHUNK_DIVISOR * threads)), "last chunk " + last + " of n=" + n);
                assertTrue(got.length <= 8 * threads + Parallel.MIN_CHUNK_DIVISOR * threads, "chunk count " + got.length);
            }
        }
    }

    @Test
    void aStalledThreadsShareIsTakenByTheOthers() throws InterruptedException {
        // the caller's first chunk waits until every other chunk is done: with one fixed share
        // per thread this could never finish, with claimed chunks the worker does them all
        try (Parallel par = Parallel.create(2)) {
            int n = 64;
            int chunks = Parallel.chunkBounds(n, 2).length - 1;
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

    /** Slices cover the rows in order, without gaps, with every inner boundary a multiple of the row unit. */
    @Test
    void slicesTileTheRowsAtRowUnitBoundaries() {
        int u = Parallel.ROW_SLICE_UNIT;
        assertEquals(0, Parallel.sliceStart(1536, 0, 2));
        assertEquals(768, Parallel.sliceStart(1536, 1, 2));
        assertEquals(1536, Parallel.sliceStart(1536, 2, 2));
        for (int rows : new int[] {1, u - 1, u, 2 * u + 44, 1024, 1536, 6 * u + 1}) {
            for (int slices = 1; slices <= 8; slices++) {
                int previous = Parallel.sliceStart(rows, 0, slices);
                assertEquals(0, previous);
                for (int p = 1; p <= slices; p++) {
                    int at = Parallel.sliceStart(rows, p, slices);
                    assertTrue(at >= previous, rows + " rows, " + slices + " slices: slice " + p + " starts before " + (p - 1));
                    assertTrue(p == slices ? at == rows : at % u == 0, rows + " rows, " + slices + " slices: boundary " + at);
                    previous = at;
                }
            }
        }
    }

    /**
     * Every (slice, part) runs once, and each slice's done step once, after all its parts (their
     * writes visible to it), over many calls with 1, 2 and 3 threads and 0 to 5 parts.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void slicePartsRunOnceAndEachSliceIsDoneAfterItsParts(int threads) {
        try (Parallel par = Parallel.create(threads)) {
            for (int parts = 0; parts <= 5; parts++) {
                int n = parts;
                for (int rep = 0; rep < 300; rep++) {
                    int[] hits = new int[threads * Math.max(1, n)];
                    AtomicIntegerArray done = new AtomicIntegerArray(threads);
                    AtomicBoolean early = new AtomicBoolean();
                    par.forSliceParts(n, (slice, part) -> hits[slice * n + part]++, slice -> {
                        for (int j = 0; j < n; j++) {
                            if (hits[slice * n + j] != 1) {
                                early.set(true);
                            }
                        }
                        done.incrementAndGet(slice);
                    });
                    assertTrue(!early.get(), threads + " threads, " + n + " parts: a slice was done before its parts");
                    for (int p = 0; p < threads; p++) {
                        assertEquals(1, done.get(p), threads + " threads, " + n + " parts: slice " + p + " done");
                        for (int j = 0; j < n; j++) {
                            assertEquals(1, hits[p * n + j], threads + " threads: slice " + p + " part " + j);
                        }
                    }
                }
            }
        }
    }

    /**
     * A thread held up in its slice's first part leaves the slice's other parts to the other thread:
     * part 0 of slice 1 blocks until parts 1-3 of slice 1 have run. Its owner runs its parts in
     * order, so only the other thread, taking them from the back, can run them (before or while the
     * owner waits): without stealing the pass would never end.
     */
    @Test
    void aDelayedSliceIsFinishedByTheOtherThread() {
        try (Parallel par = Parallel.create(2)) {
            for (int rep = 0; rep < 50; rep++) {
                CountDownLatch[] rest = {new CountDownLatch(3), new CountDownLatch(3)};
                AtomicLongArray ranBy = new AtomicLongArray(8);
                assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> par.forSliceParts(4, (slice, part) -> {
                    ranBy.set(slice * 4 + part, Thread.currentThread().threadId());
                    if (part == 0 && slice == 1) {
                        try {
                            assertTrue(rest[slice].await(60, TimeUnit.SECONDS), "parts 1-3 of slice " + slice + " never ran");
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    } else if (part > 0) {
                        rest[slice].countDown();
                    }
                }, null));
                for (int i = 0; i < 8; i++) {
                    assertTrue(ranBy.get(i) != 0, "part " + i + " ran");
                }
            }
        }
    }
}
