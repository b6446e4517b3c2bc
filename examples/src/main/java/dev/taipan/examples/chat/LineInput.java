package dev.taipan.examples.chat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;

/** Where the REPL's lines come from: a JLine line editor on a terminal, or plain lines of a stream. */
interface LineInput extends AutoCloseable {

    /** The next line, or null at the end of the input. */
    String readLine(String prompt);

    /** Runs {@code action} when the user presses Ctrl-C outside {@link #readLine} (no-op for streams). */
    void onInterrupt(Runnable action);

    @Override
    void close();

    /** Lines of a non-interactive input (a pipe or a file); no prompt is printed. */
    static LineInput of(BufferedReader reader) {
        return new LineInput() {
            @Override
            public String readLine(String prompt) {
                try {
                    return reader.readLine();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read the input", e);
                }
            }

            @Override
            public void onInterrupt(Runnable action) {
                // a script cannot press Ctrl-C
            }

            @Override
            public void close() {
                // the caller owns the stream
            }
        };
    }

    /**
     * A JLine editor with history (kept in {@code historyFile}); Ctrl-C while typing clears the
     * line, Ctrl-D ends the input.
     */
    static LineInput of(Terminal terminal, Path historyFile) {
        LineReader reader = LineReaderBuilder.builder()
                .terminal(terminal)
                .appName("taipan")
                .variable(LineReader.HISTORY_FILE, historyFile)
                .build();
        return new LineInput() {
            @Override
            public String readLine(String prompt) {
                try {
                    return reader.readLine(prompt);
                } catch (UserInterruptException e) {
                    return "";
                } catch (EndOfFileException e) {
                    return null;
                }
            }

            @Override
            public void onInterrupt(Runnable action) {
                terminal.handle(Terminal.Signal.INT, signal -> action.run());
            }

            @Override
            public void close() {
                try {
                    reader.getHistory().save();
                } catch (IOException e) {
                    terminal.writer().println("(history not saved: " + e.getMessage() + ")");
                }
                try {
                    terminal.close();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot close the terminal", e);
                }
            }
        };
    }
}
