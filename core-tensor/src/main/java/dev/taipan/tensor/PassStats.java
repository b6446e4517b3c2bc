package dev.taipan.tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the calling thread of a {@link Parallel} pool spends its time, for benchmarks: per kind of
 * pass (the class of its task: each lambda of the code base is one class), the number of calls,
 * the caller's own chunks ({@code work}), its wait for the workers at the end ({@code wait}), and
 * the time since the pool's previous call ended ({@code serial}: the caller's own work between two
 * passes, while the workers spin). Work plus wait is the pass's wall time. Recording is off unless
 * {@link Parallel#recordPasses} is given an instance, and then costs two clock reads per call.
 *
 * <p>A sampling profiler is no substitute here: JFR's execution samples of a 2-thread decode put
 * the worker in its spin loop 55 % of the time while these counters, in the same kind of run,
 * found both threads inside tasks for nearly equal times (benchmarks/README.md, eleventh session).
 */
public final class PassStats {

    /**
     * A wait for the workers longer than this marks a stalled pass: a worker was off its processor
     * (on a 2-vCPU VM a few passes in a thousand tokens waited 1-7 ms while the rest ended within
     * 1 us of the later thread's last chunk, benchmarks/README.md, twenty-fourth session).
     */
    public static final long STALL_NANOS = 1_000_000L;

    /**
     * Totals of one kind of pass, in nanoseconds; {@code stalls} of its calls waited longer than
     * {@link #STALL_NANOS} for the workers, {@code stallNanos} in all (part of {@code waitNanos}).
     */
    public record Kind(String name, long calls, long workNanos, long waitNanos, long serialNanos, long stalls,
                       long stallNanos) {
    }

    private final Map<Class<?>, long[]> totals = new LinkedHashMap<>();
    private long lastEnd;

    /** Records one call of a pass of {@code kind}: started at {@code start}, own chunks done at {@code workEnd}, workers done at {@code end}. */
    synchronized void record(Class<?> kind, long start, long workEnd, long end) {
        long[] t = totals.computeIfAbsent(kind, k -> new long[6]);
        t[0]++;
        t[1] += workEnd - start;
        t[2] += end - workEnd;
        if (end - workEnd > STALL_NANOS) {
            t[4]++;
            t[5] += end - workEnd;
        }
        t[3] += lastEnd == 0 ? 0 : start - lastEnd;
        lastEnd = end;
    }

    /** Starts a stretch of recording: the next call has no serial time before it (the gap since the last stretch is not the caller's). */
    synchronized void resume() {
        lastEnd = 0;
    }

    /** Forgets everything recorded so far (the next call's serial time starts from it). */
    public synchronized void reset() {
        totals.clear();
        lastEnd = 0;
    }

    /**
     * The kinds seen, in order of first call, named by the task's outer class ({@code
     * RepackedTensor}, {@code MoeState}, ...) with {@code #2}, {@code #3} for further lambdas of the
     * same class.
     */
    public synchronized List<Kind> kinds() {
        List<Kind> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (Map.Entry<Class<?>, long[]> e : totals.entrySet()) {
            String name = e.getKey().getName();
            int lambda = name.indexOf("$$Lambda");
            name = lambda < 0 ? name : name.substring(0, lambda);
            name = name.substring(name.lastIndexOf('.') + 1);
            int k = seen.merge(name, 1, Integer::sum);
            long[] t = e.getValue();
            out.add(new Kind(k == 1 ? name : name + "#" + k, t[0], t[1], t[2], t[3], t[4], t[5]));
        }
        return out;
    }
}
