package dev.taipan.loaders.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Tensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files past 2 GiB (sparse, so the test stays fast) map and read with long offsets, from any thread. */
class GgufLargeFileTest {
    @TempDir
    Path dir;

    @Test
    void tensorsBeyondTwoGibibytes() throws IOException {
        long bigBytes = 64L * ((1 << 25) + 1); // 2 GiB + 64, I8
        byte[] header = RawGguf.header(3, 2, 0)
                .tensor("big", new long[] {64, (1 << 25) + 1}, DType.I8.ggmlId(), 0)
                .tensor("tail", new long[] {4}, DType.F32.ggmlId(), bigBytes)
                .pad(32).toBytes();
        Path file = dir.resolve("large.gguf");
        long tailAt = header.length + bigBytes;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(header);
            raf.seek(header.length + (1L << 31) + 5);
            raf.write(0x5A);
            raf.seek(tailAt);
            ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            tail.putFloat(1.5f).putFloat(-2f).putFloat(3.25f).putFloat(1e9f);
            raf.write(tail.array());
        }
        try (GgufFile f = GgufFile.open(file)) {
            assertTrue(f.fileSize() > (1L << 31));
            assertEquals(header.length, f.dataOffset());
            MemorySegment big = f.tensorData("big").orElseThrow();
            assertEquals(bigBytes, big.byteSize());
            assertEquals(0x5A, big.get(ValueLayout.JAVA_BYTE, (1L << 31) + 5));
            assertEquals(0, big.get(ValueLayout.JAVA_BYTE, bigBytes - 1));
            Tensor t = f.get("tail");
            float[] row = new float[4];
            // read on a worker thread: the mapping lives in a shared arena
            CompletableFuture.runAsync(() -> t.row(0, row, 0)).join();
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 1e9f}, row);
        }
    }
}
