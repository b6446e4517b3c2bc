package dev.taipan.examples.chat;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Whether the standard streams are terminals: {@code isatty(3)} of the C library through FFM
 * (POSIX; elsewhere every answer is false, which only turns progress bars and line editing off).
 */
final class Terminals {
    private static final int STDIN = 0;
    private static final int STDOUT = 1;
    private static final int STDERR = 2;
    private static final MethodHandle ISATTY = isatty();

    private Terminals() {
    }

    private static MethodHandle isatty() {
        try {
            Linker linker = Linker.nativeLinker();
            Optional<MemorySegment> symbol = linker.defaultLookup().find("isatty");
            return symbol.map(s -> linker.downcallHandle(s,
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT))).orElse(null);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    private static boolean isTty(int fd) {
        if (ISATTY == null) {
            return false;
        }
        try {
            return (int) ISATTY.invokeExact(fd) == 1;
        } catch (Throwable e) {
            return false;
        }
    }

    /** stdin and stdout are both terminals: line editing and streamed replies to a person. */
    static boolean interactive() {
        return isTty(STDIN) && isTty(STDOUT);
    }

    /** stderr is a terminal: progress bars may be drawn there. */
    static boolean stderrIsTerminal() {
        return isTty(STDERR);
    }
}
