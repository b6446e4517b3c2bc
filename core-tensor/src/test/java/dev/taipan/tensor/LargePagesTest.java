package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class LargePagesTest {

    @Test
    void givesZeroedWritableMemoryOfTheAskedSizeUntilTheArenaCloses() {
        MemorySegment kept;
        try (Arena arena = Arena.ofShared()) {
            for (long bytes : new long[] {1, 4096, (2L << 20) + 7, 5L << 20}) {
                MemorySegment s = LargePages.allocate(bytes, arena);
                assertEquals(bytes, s.byteSize());
                assertEquals(0, s.address() % 64);
                assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 0));
                assertEquals(0, s.get(ValueLayout.JAVA_BYTE, bytes - 1));
                s.set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) 42);
                assertEquals(42, s.get(ValueLayout.JAVA_BYTE, bytes - 1));
                assertThrows(IndexOutOfBoundsException.class, () -> s.get(ValueLayout.JAVA_BYTE, bytes));
            }
            kept = LargePages.allocate(3L << 20, arena);
        }
        assertFalse(kept.scope().isAlive());
        MemorySegment closed = kept;
        assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_BYTE, 0));
    }
}
