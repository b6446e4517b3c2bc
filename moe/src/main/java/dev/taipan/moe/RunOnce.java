package dev.taipan.moe;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.IntConsumer;

/**
 * Units {@code 0 .. n-1} of work that several threads of one parallel pass may each need done
 * before going on, and that must run exactly once: the first thread to ask for a unit runs it, a
 * thread asking later goes on, and {@link #awaitAll} waits until every unit has finished. A thread
 * never waits for a unit nobody has started (it runs an unclaimed unit itself), so a pass cannot
 * wait on a thread that has not yet arrived. A unit that throws still counts as finished, so no
 * thread waits forever; the pass reports the exception.
 */
final class RunOnce {
    private static final int FREE = 0;
    private static final int CLAIMED = 1;
    private static final int DONE = 2;
    /** Spins between two yields of a waiting thread (more threads than cores may share one). */
    private static final int SPINS_PER_YIELD = 1024;

    private final AtomicIntegerArray state;

    RunOnce(int n) {
        this.state = new AtomicIntegerArray(n);
    }

    /** Makes every unit runnable again (before the pass; the pass's start publishes it). */
    void reset() {
        for (int i = 0; i < state.length(); i++) {
            state.setPlain(i, FREE);
        }
    }

    /** Runs unit {@code i} with {@code unit} unless some thread has already claimed it. */
    void run(int i, IntConsumer unit) {
        if (state.get(i) != FREE || !state.compareAndSet(i, FREE, CLAIMED)) {
            return;
        }
        try {
            unit.accept(i);
        } finally {
            state.set(i, DONE);
        }
    }

    /** Waits until every unit has finished; its writes are then visible to the caller. */
    void awaitAll() {
        for (int i = 0; i < state.length(); i++) {
            int spins = 0;
            while (state.get(i) != DONE) {
                if (++spins % SPINS_PER_YIELD == 0) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
        }
    }

    /** Whether unit {@code i} has finished (for tests). */
    boolean done(int i) {
        return state.get(i) == DONE;
    }
}
