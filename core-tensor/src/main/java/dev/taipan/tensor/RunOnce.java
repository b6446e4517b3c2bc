package dev.taipan.tensor;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.IntConsumer;

/**
 * Units {@code 0 .. n-1} of work that several threads of one parallel pass may each need done
 * before going on, and that must run exactly once: the first thread to ask for a unit runs it, a
 * thread asking later goes on ({@link #run}) or waits until it has finished ({@link #await},
 * {@link #awaitAll}). A wait first runs the units nobody has started, so a thread never waits for
 * one nobody is running, and a pass cannot wait on a thread that has not yet arrived. A unit that
 * throws still counts as finished, so no thread waits forever; the pass reports the exception.
 * Units of later stages may wait on units of earlier ones (never the reverse), which keeps the
 * waits free of cycles.
 *
 * <p>One-token passes use it to chain dependent steps inside one {@link Parallel#forSliceParts}
 * pass instead of one pass per step (the MoE's routing and shared expert, the Mamba-2 layer).
 */
public final class RunOnce {
    private static final int FREE = 0;
    private static final int CLAIMED = 1;
    private static final int DONE = 2;
    /** Spins between two yields of a waiting thread (more threads than cores may share one). */
    private static final int SPINS_PER_YIELD = 1024;

    private final AtomicIntegerArray state;

    /** {@code n} units, none started. */
    public RunOnce(int n) {
        this.state = new AtomicIntegerArray(n);
    }

    /** Makes every unit runnable again (before the pass; the pass's start publishes it). */
    public void reset() {
        for (int i = 0; i < state.length(); i++) {
            state.setPlain(i, FREE);
        }
    }

    /** Runs unit {@code i} with {@code unit} unless some thread has already claimed it. */
    public void run(int i, IntConsumer unit) {
        if (state.get(i) != FREE || !state.compareAndSet(i, FREE, CLAIMED)) {
            return;
        }
        try {
            unit.accept(i);
        } finally {
            state.set(i, DONE);
        }
    }

    /**
     * Runs every unit nobody has started with {@code unit}, then waits until every unit has
     * finished; their writes are then visible to the caller.
     */
    public void awaitAll(IntConsumer unit) {
        for (int i = 0; i < state.length(); i++) {
            run(i, unit);
        }
        for (int i = 0; i < state.length(); i++) {
            waitDone(i);
        }
    }

    /**
     * Runs unit {@code i} with {@code unit} unless some thread has claimed it, then waits until it
     * has finished.
     */
    public void await(int i, IntConsumer unit) {
        run(i, unit);
        waitDone(i);
    }

    private void waitDone(int i) {
        int spins = 0;
        while (state.get(i) != DONE) {
            if (++spins % SPINS_PER_YIELD == 0) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /** Whether unit {@code i} has finished. */
    public boolean done(int i) {
        return state.get(i) == DONE;
    }
}
