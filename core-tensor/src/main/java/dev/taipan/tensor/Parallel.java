package dev.taipan.tensor;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

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

    /**
     * How long a waiting thread spins (Thread.onSpinWait) before it parks, when the pool has no
     * more threads than the machine has processors: longer than any serial stretch of a decode
     * step, so that workers park only between requests. On a 2-vCPU VM a parked thread's vCPU
     * halts, and waking it took 0.56 ms on average (1120 of 2474 parks in a 400-token decode took
     * over 0.1 ms), several matvecs of a decode step.
     */
    static final long SPIN_NANOS = 5_000_000L;
    /**
     * The spin of a pool with more threads than processors, where a spinning thread keeps the one
     * that has work off its processor: about the 10,000 Thread.onSpinWait calls spun before.
     */
    static final long OVERSUBSCRIBED_SPIN_NANOS = 50_000L;
    /** Part {@code part} of slice {@code slice} of a one-token pass ({@link #forSliceParts}). */
    @FunctionalInterface
    public interface SlicePartTask {
        void run(int slice, int part);
    }

    /** Spin iterations between two reads of the clock. */
    private static final int SPINS_PER_CLOCK = 64;

    /**
     * The smallest chunk is {@code n / (MIN_CHUNK_DIVISOR * threads)} (at least 1): small enough
     * that the threads end a call close together, large enough to bound the number of claims.
     */
    static final int MIN_CHUNK_DIVISOR = 32;

    private final int threads;
    private final long spinNanos;
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
    /** Where calls are recorded, or null (the default). */
    private volatile PassStats passStats;

    private Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.spinNanos = threads <= Runtime.getRuntime().availableProcessors() ? SPIN_NANOS : OVERSUBSCRIBED_SPIN_NANOS;
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

    /** Records this pool's calls into {@code stats} from now on ({@link PassStats}); null stops recording. */
    public void recordPasses(PassStats stats) {
        if (stats != null) {
            stats.resume();
        }
        this.passStats = stats;
    }

    /**
     * Rows of a slice boundary of a one-token pass that gives each thread one slice of every matrix
     * ({@link #sliceStart}) are a multiple of this: a multiple of every repacked kernel's run of
     * four groups (128 rows for Q8_0 and Q4_0 with AVX-512), so that no slice splits a run (a run
     * cut short streams fewer groups or computes groups it does not store).
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
     * A one-token pass of {@link #threads()} slices of {@code parts} parts each (part {@code j} of
     * slice {@code p}: slice {@code p}, {@link #sliceStart}, of the pass's matrix {@code j}). Thread
     * {@code p} runs the parts of slice {@code p} in order, so that each thread streams long runs of
     * memory; a thread that has run out of parts then takes, one at a time, the last part not yet
     * taken of another slice. A thread that the OS or the host delays (on a 2-vCPU VM the other
     * thread waited for it 20-100 us in 38 % and over 0.1 ms in 12 % of these passes) thus leaves its
     * last parts to the others instead of holding the pass up. Each part runs exactly once, with
     * code that does not depend on the thread; {@code sliceDone} (may be null) runs once per slice,
     * after all its parts, on the thread that finished the last one.
     */
    public void forSliceParts(int parts, SlicePartTask task, IntConsumer sliceDone) {
        int n = threads;
        if (n == 1 || parts == 0 || isInsideTask()) {
            for (int p = 0; p < n; p++) {
                for (int j = 0; j < parts; j++) {
                    task.run(p, j);
                }
                if (sliceDone != null) {
                    sliceDone.accept(p);
                }
            }
            return;
        }
        // per slice: the next part from the front (low 32 bits) and the end of the untaken parts (high)
        AtomicLongArray cursors = new AtomicLongArray(n);
        for (int p = 0; p < n; p++) {
            cursors.set(p, (long) parts << 32);
        }
        AtomicIntegerArray finished = sliceDone == null ? null : new AtomicIntegerArray(n);
        runRange(n, task.getClass(), (start, end) -> {
            for (int p = start; p < end; p++) {
                for (int j = take(cursors, p, false); j >= 0; j = take(cursors, p, false)) {
                    runPart(task, p, j, parts, finished, sliceDone);
                }
            }
            for (int k = 1; k <= n; k++) {
                int victim = (start + k) % n;
                for (int j = take(cursors, victim, true); j >= 0; j = take(cursors, victim, true)) {
                    runPart(task, victim, j, parts, finished, sliceDone);
                }
            }
        });
    }

    private static void runPart(SlicePartTask task, int p, int j, int parts, AtomicIntegerArray finished,
            IntConsumer sliceDone) {
        task.run(p, j);
        if (finished != null && finished.incrementAndGet(p) == parts) {
            sliceDone.accept(p);
        }
    }

    /**
     * The next untaken part of slice {@code p}, from the front or (a thief) from the back, or -1
     * when none is left.
     */
    private static int take(AtomicLongArray cursors, int p, boolean fromBack) {
        while (true) {
            long v = cursors.get(p);
            int front = (int) v;
            int back = (int) (v >>> 32);
            if (front >= back) {
                return -1;
            }
            long next = fromBack ? ((long) (back - 1) << 32) | front : ((long) back << 32) | (front + 1);
            if (cursors.compareAndSet(p, v, next)) {
                return fromBack ? back - 1 : front;
            }
        }
    }

    /**
     * Runs {@code task} over {@code [0, n)} split into the contiguous, shrinking chunks of
     * {@link #chunkBounds}, which the threads take in turn; {@code task} never gets an empty range.
     */
    public void forRange(int n, RangeTask task) {
        runRange(n, task.getClass(), task);
    }

    /** {@link #forRange}, recorded in {@link PassStats} as a pass of {@code kind}. */
    private void runRange(int n, Class<?> kind, RangeTask task) {
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
            runChunks(n, kind, task);
        } finally {
            lock.unlock();
        }
    }

    private boolean isInsideTask() {
        Thread t = Thread.currentThread();
        return (t instanceof Worker w && w.pool() == this) || (lock.isHeldByCurrentThread());
    }

    private void runChunks(int n, Class<?> kind, RangeTask rangeTask) {
        PassStats stats = passStats;
        long start = stats == null ? 0 : System.nanoTime();
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
        long workEnd = stats == null ? 0 : System.nanoTime();
        awaitWorkers();
        if (stats != null) {
            stats.record(kind, start, workEnd, System.nanoTime());
        }
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
        Spin spin = new Spin();
        while (pending.get() != 0) {
            if (!spin.spin()) {
                waiterParked = true;
                if (pending.get() != 0) {
                    LockSupport.park(this);
                }
                waiterParked = false;
            }
        }
    }

    /** One wait's spinning: {@link #spinNanos} by the clock, read every {@link #SPINS_PER_CLOCK} spins. */
    private final class Spin {
        private int spins;
        /** The first reading of the clock, 0 before it. */
        private long since;

        /** Spins once and returns true, or returns false (and keeps returning false) once the wait should park. */
        boolean spin() {
            if (++spins >= SPINS_PER_CLOCK) {
                long now = System.nanoTime();
                if (since != 0 && now - since > spinNanos) {
                    return false;
                }
                since = since == 0 ? now : since;
                spins = 0;
            }
            Thread.onSpinWait();
            return true;
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

        /**
         * The loop stays in this method, which runs once per thread and so is compiled only by
         * on-stack replacement, after tens of thousands of passes (about 20 s of a decode, in the
         * interpreter until then); what a pass runs is in {@link #awaitWork} and {@link #runTask},
         * which the JIT compiles as soon as they are hot.
         */
        @Override
        public void run() {
            while (awaitWork()) {
                runTask();
            }
        }

        /** This worker's part of the call it was signalled for. */
        private void runTask() {
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

        /** Waits until signalled (true) or the pool is closed (false). */
        private boolean awaitWork() {
            Spin spin = new Spin();
            while (generation == done) {
                if (closed) {
                    return false;
                }
                if (!spin.spin()) {
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
