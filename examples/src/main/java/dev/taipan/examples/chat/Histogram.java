package dev.taipan.examples.chat;

import dev.taipan.runtime.RoutingStats;
import java.io.PrintWriter;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.IntStream;

/** Text renderings for {@code /stats}: byte sizes and the expert-routing histogram. */
final class Histogram {
    /** Experts listed at most; with more, the most chosen ones are shown. */
    static final int MAX_ROWS = 16;
    private static final int BAR = 40;

    private Histogram() {
    }

    /** 1536 -> "1.5 KiB". */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /**
     * How often each expert was chosen in the last reply (prompt and generated tokens), summed
     * over the MoE layers, one bar per expert; with more than {@link #MAX_ROWS} experts the most
     * chosen ones, best first.
     */
    static void experts(RoutingStats routing, PrintWriter out) {
        long[] totals = routing.totals();
        long sum = 0;
        long max = 1;
        int used = 0;
        for (long c : totals) {
            sum += c;
            max = Math.max(max, c);
            used += c > 0 ? 1 : 0;
        }
        RoutingStats.Layer first = routing.layers().getFirst();
        out.println(String.format(Locale.ROOT,
                "experts (last reply): %d MoE layers, %d of %d experts per token, %d tokens routed; "
                        + "%d of %d experts chosen at least once", routing.layers().size(), first.expertsPerToken(),
                totals.length, first.tokens(), used, totals.length));
        int[] order = IntStream.range(0, totals.length).boxed()
                .sorted(totals.length > MAX_ROWS ? Comparator.comparingLong((Integer e) -> -totals[e])
                        : Comparator.naturalOrder())
                .limit(MAX_ROWS).mapToInt(Integer::intValue).toArray();
        int width = Integer.toString(totals.length - 1).length();
        for (int e : order) {
            int len = (int) Math.round((double) totals[e] * BAR / max);
            out.println(String.format(Locale.ROOT, "  expert %" + width + "d %s %d (%.1f%%)", e,
                    "#".repeat(len) + " ".repeat(BAR - len), totals[e], sum == 0 ? 0.0 : 100.0 * totals[e] / sum));
        }
        if (totals.length > MAX_ROWS) {
            out.println("  (" + (totals.length - MAX_ROWS) + " less chosen experts not shown)");
        }
    }
}
