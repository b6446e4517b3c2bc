package dev.taipan.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The test JVMs run with the JDK's libjsig preloaded (parent pom, Surefire environment), so that an
 * OpenCL driver installing SIGSEGV handlers (PoCL through LLVM's RemoveFileOnSignal) chains to the
 * JVM's handlers instead of replacing them. Without it a full test run crashed with exit code 139
 * the first time the JVM relied on one of its own signals after PoCL was loaded.
 */
class SignalChainingTest {

    @Test
    void testJvmHasLibjsigPreloaded() throws IOException {
        Path maps = Path.of("/proc/self/maps");
        assumeTrue(Files.isReadable(maps), "not Linux: no /proc/self/maps");
        assertTrue(Files.readString(maps).contains("libjsig"),
                "libjsig.so is not mapped: LD_PRELOAD from the Surefire configuration did not reach the test JVM");
    }
}
