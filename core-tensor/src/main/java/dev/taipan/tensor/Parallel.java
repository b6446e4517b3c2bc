package dev.taipan.tensor;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One fixed worker pool per model. {@link #forRange} splits {@code [0, n)} into contiguous chunks
 * that shrink as the range is used up (guided self-scheduling: each chunk is the remaining count
 * divided by twice the thread count, at least {@code n / (}{@link #MIN_CHUNK_DIVISOR}{@code *
 * threads)}); the calling thread runs the first and every thread then claims the next unclaimed
 * chunk, so a thread that is slowed down (a busy sibling hyperthread, another process) leaves its
 * share to the others, and the threads finish within about one small chunk of each other: the
 * wait at the end of a call is what a decode step's many short calls lose. Each index is computed
 * by exactly one thread with the same code, so results do not depend on the thread count, the
 * chunks, or on which thread took which chunk.
 *
 * <p>Workers are started once and wait for work in preallocated slots: a call publishes the task
 * in shared fields, bumps each worker's generation and wakes it; workers spin briefly before
 * parking, so back-to-back matvecs of a decode step hand over without a context switch and
 * without allocating. Calls from several threads are serialised; a call made from inside a task
 * (nested) runs its whole range on the calling thread.
 */
public final class Parallel implements AutoCloseable {

    /** A chunk of work over indices {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end);
    }

    /** Spin iterations (Thread.onSpinWait) before a waiting thread parks. */
    private static final int SPINS = 10_000;

    /**
     * The smallest chunk is {@code n / (MIN_CHUNK_DIVISOR * threads)} (at least 1): small enough
     * that the threads end a call close together, large enough to bound the number of claims.
     */
    static final int MIN_CHUNK_DIVISOR = 32;

    private final int threads;
    private final Worker[] workers;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicInteger pending = new AtomicInteger();
    /** Next chunk of the call in progress to be claimed. */
    private final AtomicInteger nextChunk = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private RangeTask task;
    /** Chunk c of the call in progress is {@code [bounds[c], bounds[c + 1])}. */
    private int[] bounds = new int[64];
    private int taskChunks;
    private volatile Thread waiter;
    private volatile boolean waiterParked;
    private volatile boolean closed;

    private Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    /** A pool of {@code threads} threads (the caller counts as one). */
    public static Parallel create(int threads) {
        return new Parallel(threads);
    }

    /** A pool sized to the available processors. */
    public static Parallel defaultPool() {
        return new Parallel(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /**
     * Rows of a slice boundary of a one-token pass that gives each thread one slice of every matrix
     * ({@link #sliceStart}) are a multiple of this: a multiple of every repacked kernel's run of
     * four groups (64 rows for Q8_0, 128 for Q4_0 with AVX-512), so that no slice splits a run (a
     * run cut short streams fewer groups or computes groups it does not store).
     */
    public static final int ROW_SLICE_UNIT = 128;

    /**
     * First row of slice {@code slice} of {@code slices} over {@code rows} rows ({@code rows} for
     * {@code slice == slices}): an even split rounded down to {@link #ROW_SLICE_UNIT}; slices may
     * be empty. One slice per thread of every matrix of a one-token pass measured faster than small
     * units handed out dynamically: each thread streams fewer, longer runs of memory.
     */
    public static int sliceStart(int rows, int slice, int slices) {
        if (slice >= slices) {
            return rows;
        }
        return (int) ((long) rows * slice / slices) / ROW_SLICE_UNIT * ROW_SLICE_UNIT;
    }

    /**
     * Runs {@code task} over {@code [0, n)} split into the contiguous, shrinking chunks of
     * {@link #chunkBounds}, which the threads take in turn; {@code task} never gets an empty range.
     */
    public void forRange(int n, RangeTask task) {
        if (threads == 1 || n <= 1 || isInsideTask()) {
            if (n > 0) {
                task.run(0, n);
            }
            return;
        }
        if (closed) {
            throw new IllegalStateException("Parallel pool is closed");
        }
        lock.lock();
        try {
            runChunks(n, task);
        } finally {
            lock.unlock();
        }
    }

    private boolean isInsideTask() {
        Thread t = Thread.currentThread();
        return (t instanceof Worker w && w.pool() == this) || (lock.isHeldByCurrentThread());
    }

    private void runChunks(int n, RangeTask rangeTask) {
        int chunks = plan(n);
        this.task = rangeTask;
        this.taskChunks = chunks;
        this.waiter = Thread.currentThread();
        int helpers = Math.min(workers.length, chunks - 1);
        nextChunk.set(1);
        pending.set(helpers);
        for (int w = 0; w < helpers; w++) {
            workers[w].signal();
        }
        Throwable t = null;
        try {
            rangeTask.run(0, bounds[1]);
            runClaimedChunks(rangeTask, chunks);
        } catch (RuntimeException | Error e) {
            t = e;
        }
        awaitWorkers();
        this.task = null;
        Throwable workerFailure = failure.getAndSet(null);
        if (t == null) {
            t = workerFailure;
        } else if (workerFailure != null && workerFailure != t) {
            t.addSuppressed(workerFailure);
        }
        if (t instanceof RuntimeException re) {
            throw re;
        } else if (t instanceof Error err) {
            throw err;
        } else if (t != null) {
            throw new IllegalStateException("worker failed", t);
        }
    }

    /** Runs chunks of the call in progress until none is left unclaimed. */
    private void runClaimedChunks(RangeTask rangeTask, int chunks) {
        int[] b = bounds;
        for (int c = nextChunk.getAndIncrement(); c < chunks; c = nextChunk.getAndIncrement()) {
            rangeTask.run(b[c], b[c + 1]);
        }
    }

    /** Fills {@link #bounds} with the chunks of {@code [0, n)} (called before the workers are signalled). */
    private int plan(int n) {
        int count;
        while ((count = fillBounds(n, threads, bounds)) < 0) {
            bounds = new int[2 * bounds.length];
        }
        return count;
    }

    /**
     * The chunks {@link #forRange} splits {@code [0, n)} into for {@code threads} threads, as
     * boundaries: chunk c is {@code [b[c], b[c + 1])}, {@code b[0] = 0}, the last is {@code n}.
     * Sizes never grow and none is empty.
     */
    static int[] chunkBounds(int n, int threads) {
        int[] b = new int[n + 1]; // no chunk is empty, so there are at most n
        return Arrays.copyOf(b, fillBounds(n, threads, b) + 1);
    }

    /** Writes the chunk boundaries of {@code [0, n)} into {@code b}; their count, or -1 when {@code b} is too short. */
    private static int fillBounds(int n, int threads, int[] b) {
        b[0] = 0;
        int c = 0;
        for (int at = 0; at < n; ) {
            at += chunkSize(n, at, threads);
            if (++c >= b.length) {
                return -1;
            }
            b[c] = at;
        }
        return c;
    }

    private static int chunkSize(int n, int at, int threads) {
        int left = n - at;
        int guided = (int) ((left + 2L * threads - 1) / (2L * threads));
        int min = (int) Math.max(1, n / ((long) MIN_CHUNK_DIVISOR * threads));
        return Math.min(left, Math.max(min, guided));
    }

    private void awaitWorkers() {
        int spins = 0;
        while (pending.get() != 0) {
            if (spins < SPINS) {
                Thread.onSpinWait();
                spins++;
            } else {
                waiterParked = true;
                if (pending.get() != 0) {
                    LockSupport.park(this);
                }
                waiterParked = false;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
    }

    /** A worker thread that takes chunks of each call it is signalled for. */
    private final class Worker extends Thread {
        private volatile long generation;
        private volatile boolean parked;
        /** Last generation this worker ran (read and written by the worker only). */
        private long done;

        Worker(int index) {
            super("taipan-worker-" + index);
            setDaemon(true);
        }

        Parallel pool() {
            return Parallel.this;
        }

        /** Called by the thread holding the pool's lock; only it writes {@code generation}. */
        void signal() {
            generation = generation + 1;
            if (parked) {
                LockSupport.unpark(this);
            }
        }

        @Override
        public void run() {
            while (awaitWork()) {
                done = generation;
                try {
                    runClaimedChunks(task, taskChunks);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (pending.decrementAndGet() == 0 && waiterParked) {
                        LockSupport.unpark(waiter);
                    }
                }
            }
        }

        /** Waits until signalled (true) or the pool is closed (false). */
        private boolean awaitWork() {
            int spins = 0;
            while (generation == done) {
                if (closed) {
                    return false;
                }
                if (spins < SPINS) {
                    Thread.onSpinWait();
                    spins++;
                } else {
                    parked = true;
                    if (generation == done && !closed) {
                        LockSupport.park(this);
                    }
                    parked = false;
                }
            }
            return true;
        }
    }
}
