package dev.taipan.examples.chat;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar redrawn in place with a carriage return, {@code label [#####.....]  45%
 * 12/27 MiB}, erased when done. Drawn only when enabled (stderr is a terminal); otherwise every
 * call does nothing, so scripted output stays clean. Redraws at most when the shown percentage
 * changes.
 */
final class ProgressBar {
    private static final int WIDTH = 30;
    private static final String ERASE_LINE = "\r\u001b[K";

    private final PrintWriter err;
    private final String label;
    private final long total;
    private final Unit unit;
    private final boolean enabled;
    private int shownPercent = -1;

    /** What the counts are: bytes (shown in MiB) or tokens. */
    enum Unit { BYTES, TOKENS }

    ProgressBar(PrintWriter err, String label, long total, Unit unit, boolean enabled) {
        this.err = err;
        this.label = label;
        this.total = Math.max(1, total);
        this.unit = unit;
        this.enabled = enabled;
    }

    void update(long done) {
        if (!enabled) {
            return;
        }
        int percent = (int) Math.min(100, done * 100 / total);
        if (percent == shownPercent) {
            return;
        }
        shownPercent = percent;
        int filled = percent * WIDTH / 100;
        err.print("\r" + label + " [" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] "
                + String.format(Locale.ROOT, "%3d%%  %s", percent, amount(done)));
        err.flush();
    }

    private String amount(long done) {
        return unit == Unit.BYTES
                ? String.format(Locale.ROOT, "%.1f/%.1f MiB", done / 1048576.0, total / 1048576.0)
                : done + "/" + total + " tokens";
    }

    /** Erases the bar. */
    void finish() {
        if (enabled && shownPercent >= 0) {
            err.print(ERASE_LINE);
            err.flush();
        }
    }
}
