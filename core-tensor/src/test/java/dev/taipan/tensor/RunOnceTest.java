package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;

class RunOnceTest {

    @Test
    void eachUnitRunsOnceUntilReset() {
        RunOnce once = new RunOnce(3);
        int[] runs = new int[3];
        once.run(1, i -> runs[i]++);
        once.run(1, i -> runs[i]++);
        assertArrayEquals(new int[] {0, 1, 0}, runs);
        assertTrue(once.done(1));
        assertFalse(once.done(0));
        once.run(0, i -> runs[i]++);
        once.run(2, i -> runs[i]++);
        once.awaitAll(i -> runs[i]++);
        assertArrayEquals(new int[] {1, 1, 1}, runs);
        once.reset();
        assertFalse(once.done(1));
        once.run(1, i -> runs[i]++);
        assertArrayEquals(new int[] {1, 2, 1}, runs);
    }

    /** A wait runs the units nobody has started, and only those. */
    @Test
    void waitsRunTheUnitsNobodyStarted() {
        RunOnce once = new RunOnce(3);
        int[] runs = new int[3];
        once.await(1, i -> runs[i]++);
        assertArrayEquals(new int[] {0, 1, 0}, runs);
        once.await(1, i -> runs[i]++);
        assertArrayEquals(new int[] {0, 1, 0}, runs);
        once.awaitAll(i -> runs[i]++);
        assertArrayEquals(new int[] {1, 1, 1}, runs);
        for (int i = 0; i < 3; i++) {
            assertTrue(once.done(i), "unit " + i);
        }
    }

    /** A unit that throws counts as finished: nobody waits for it forever, and it is not run again. */
    @Test
    void aFailedUnitIsFinished() {
        RunOnce once = new RunOnce(2);
        assertThrows(IllegalStateException.class, () -> once.run(0, i -> {
            throw new IllegalStateException("unit " + i);
        }));
        once.run(0, i -> {
            throw new AssertionError("ran twice");
        });
        once.run(1, i -> { });
        once.awaitAll(i -> {
            throw new AssertionError("ran twice");
        });
        assertTrue(once.done(0));
    }

    /**
     * Threads of a pass each asking for every unit, then waiting for all: every unit runs exactly
     * once, and each thread sees every unit's write after the wait.
     */
    @Test
    void threadsOfAPassShareTheUnits() {
        int units = 5;
        try (Parallel par = Parallel.create(3)) {
            for (int round = 0; round < 200; round++) {
                RunOnce once = new RunOnce(units);
                AtomicIntegerArray runs = new AtomicIntegerArray(units);
                int[] values = new int[units];
                int[] seen = new int[3];
                par.forRange(3, (start, end) -> {
                    for (int t = start; t < end; t++) {
                        IntConsumer unit = i -> {
                            runs.incrementAndGet(i);
                            values[i] = i + 1;
                        };
                        for (int k = 0; k < units; k++) {
                            once.run((k + t) % units, unit);
                        }
                        once.awaitAll(unit);
                        int sum = 0;
                        for (int v : values) {
                            sum += v;
                        }
                        seen[t] = sum;
                    }
                });
                for (int i = 0; i < units; i++) {
                    assertEquals(1, runs.get(i), "unit " + i + ", round " + round);
                }
                assertArrayEquals(new int[] {15, 15, 15}, seen, "round " + round);
            }
        }
    }
}
