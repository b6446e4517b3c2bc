package dev.taipan.loaders;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A model file memory-mapped read-only for the lifetime of an {@link Arena}. The mapping is handed
 * out as a plain native segment over the same pages (no copy), so that every weight segment in the
 * process, mapped or allocated (the repacked matrices of {@code RepackedTensor}), is of one segment
 * class: the JIT profiles the JDK's vector loads from segments by class, and a second class there
 * made C2 compile the matvec kernels without their vector intrinsics (boxed vectors, 2x slower).
 * The view is read-only and belongs to the arena, like the mapping itself.
 */
public final class MappedFile {

    private MappedFile() {
    }

    /**
     * Maps {@code file} whole, read-only, into {@code arena}.
     *
     * @throws IOException when the file cannot be opened or mapped
     */
    public static MemorySegment map(Path file, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return MemorySegment.ofAddress(mapped.address()).reinterpret(mapped.byteSize(), arena, null).asReadOnly();
        }
    }
}
