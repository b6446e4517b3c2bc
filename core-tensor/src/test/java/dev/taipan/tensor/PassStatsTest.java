package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PassStatsTest {

    @Test
    void countsCallsPerKindOnlyWhileRecording() {
        AtomicLong sink = new AtomicLong();
        Parallel.RangeTask sum = (start, end) -> sink.addAndGet(end - start);
        Parallel.RangeTask count = (start, end) -> sink.incrementAndGet();
        Parallel.SlicePartTask part = (slice, j) -> sink.addAndGet(slice + j);
        PassStats stats = new PassStats();
        try (Parallel par = Parallel.create(2)) {
            par.forRange(100, sum); // not recorded
            par.recordPasses(stats);
            par.forRange(100, sum);
            par.forRange(100, count);
            par.forRange(100, sum);
            par.forSliceParts(3, part, null);
            par.forRange(1, sum); // runs inline on the caller: not a pass
            par.recordPasses(null);
            par.forRange(100, count); // not recorded
        }
        List<PassStats.Kind> kinds = stats.kinds();
        assertEquals(List.of("PassStatsTest", "PassStatsTest#2", "PassStatsTest#3"),
                kinds.stream().map(PassStats.Kind::name).toList());
        assertEquals(List.of(2L, 1L, 1L), kinds.stream().map(PassStats.Kind::calls).toList());
        for (PassStats.Kind k : kinds) {
            assertTrue(k.workNanos() > 0 && k.waitNanos() >= 0 && k.serialNanos() >= 0, k.toString());
        }
    }

    @Test
    void theFirstCallOfEachStretchHasNoSerialTime() {
        PassStats stats = new PassStats();
        Parallel.RangeTask task = (start, end) -> { };
        try (Parallel par = Parallel.create(2)) {
            for (int stretch = 0; stretch < 3; stretch++) {
                par.recordPasses(stats);
                par.forRange(10, task);
                par.recordPasses(null);
                assertEquals(0, stats.kinds().get(0).serialNanos(), "stretch " + stretch);
                stats.reset();
            }
            par.recordPasses(stats);
            par.forRange(10, task);
            par.forRange(10, task);
        }
        PassStats.Kind k = stats.kinds().get(0);
        assertEquals(2, k.calls());
        assertTrue(k.serialNanos() > 0, "the second call follows the first: " + k);
    }

    @Test
    void countsWaitsOverTheStallLimit() {
        PassStats stats = new PassStats();
        long ms = 1_000_000L;
        stats.record(String.class, 0, 100, 100 + PassStats.STALL_NANOS); // exactly the limit: not a stall
        stats.record(String.class, 10 * ms, 11 * ms, 14 * ms);          // a 3 ms wait
        stats.record(Integer.class, 20 * ms, 21 * ms, 21 * ms + 500);   // a short wait
        stats.record(String.class, 30 * ms, 30 * ms, 32 * ms);          // a 2 ms wait
        PassStats.Kind s = stats.kinds().get(0);
        PassStats.Kind i = stats.kinds().get(1);
        assertEquals(3, s.calls());
        assertEquals(2, s.stalls());
        assertEquals(5 * ms, s.stallNanos());
        assertEquals(6 * ms, s.waitNanos());
        assertEquals(0, i.stalls());
        assertEquals(0, i.stallNanos());
    }
}
