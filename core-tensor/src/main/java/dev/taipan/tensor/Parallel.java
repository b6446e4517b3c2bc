package dev.taipan.tensor;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One fixed worker pool per model. {@link #forRange} splits {@code [0, n)} into contiguous chunks,
 * one per worker, and runs the first on the calling thread. Each index is computed by exactly
 * one thread with the same code, so results do not depend on the thread count.
 */
public final class Parallel implements AutoCloseable {

    /** A chunk of work over indices {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end);
    }

    private final int threads;
    private final ExecutorService pool;

    private Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "taipan-worker");
            t.setDaemon(true);
            return t;
        });
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

    /** Runs {@code task} over {@code [0, n)} split into at most {@link #threads()} chunks. */
    public void forRange(int n, RangeTask task) {
        int chunks = Math.min(threads, n);
        if (chunks <= 1) {
            if (n > 0) {
                task.run(0, n);
            }
            return;
        }
        CountDownLatch done = new CountDownLatch(chunks - 1);
        Throwable[] failure = new Throwable[1];
        for (int c = 1; c < chunks; c++) {
            int start = (int) ((long) n * c / chunks);
            int end = (int) ((long) n * (c + 1) / chunks);
            pool.execute(() -> {
                try {
                    task.run(start, end);
                } catch (Throwable t) {
                    synchronized (failure) {
                        failure[0] = t;
                    }
                } finally {
                    done.countDown();
                }
            });
        }
        task.run(0, (int) ((long) n / chunks));
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for workers", e);
        }
        synchronized (failure) {
            if (failure[0] instanceof RuntimeException re) {
                throw re;
            } else if (failure[0] instanceof Error err) {
                throw err;
            } else if (failure[0] != null) {
                throw new IllegalStateException(failure[0]);
            }
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
