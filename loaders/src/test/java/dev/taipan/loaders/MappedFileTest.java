package dev.taipan.loaders;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedFileTest {
    @TempDir
    Path dir;

    @Test
    void mapsTheFileReadOnlyForTheArenasLifetime() throws IOException {
        byte[] bytes = new byte[10_000];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31);
        }
        Path file = Files.write(dir.resolve("w.bin"), bytes);
        MemorySegment kept;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = MappedFile.map(file, arena);
            assertEquals(bytes.length, s.byteSize());
            assertArrayEquals(bytes, s.toArray(ValueLayout.JAVA_BYTE));
            assertTrue(s.isReadOnly());
            assertThrows(IllegalArgumentException.class, () -> s.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
            kept = s;
        }
        MemorySegment closed = kept;
        assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_BYTE, 0));
    }
}
