package dev.taipan.examples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The progress bar draws in place only when enabled, redraws only on a new percentage, and erases itself. */
class ProgressBarTest {

    @Test
    void drawsPercentagesInPlaceAndErases() {
        StringWriter err = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(err), "reading prompt", 300, ProgressBar.Unit.TOKENS, true);
        bar.update(64);
        bar.update(65); // still 21 %: not redrawn
        bar.update(300);
        bar.finish();
        assertEquals("\rreading prompt [######........................]  21%  64/300 tokens"
                + "\rreading prompt [##############################] 100%  300/300 tokens"
                + "\r\u001b[K", err.toString());
    }

    @Test
    void bytesAreShownInMebibytes() {
        StringWriter err = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(err), "loading model", 4L << 20, ProgressBar.Unit.BYTES, true);
        bar.update(1L << 20);
        assertEquals("\rloading model [#######.......................]  25%  1.0/4.0 MiB", err.toString());
    }

    @Test
    void disabledBarPrintsNothing() {
        StringWriter err = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(err), "x", 10, ProgressBar.Unit.TOKENS, false);
        bar.update(5);
        bar.finish();
        assertEquals("", err.toString());
    }

    @Test
    void histogramBytes() {
        assertEquals("512 B", Histogram.bytes(512));
        assertEquals("2.5 MiB", Histogram.bytes(2621440));
    }
}
