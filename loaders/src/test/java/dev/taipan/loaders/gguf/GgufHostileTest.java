package dev.taipan.loaders.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.taipan.loaders.ModelFormatException;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Truncated, corrupt and hostile GGUF files: each is refused with a ModelFormatException naming file and field. */
class GgufHostileTest {
    private static final String NAME = "bad.gguf";
    private static final int F32 = DType.F32.ggmlId();

    @TempDir
    Path dir;

    private static ModelFormatException refused(byte[] bytes, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> GgufFile.of(NAME, MemorySegment.ofArray(bytes)));
        assertTrue(e.getMessage().startsWith(NAME + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + e.getMessage() + "' lacks '" + f + "'");
        }
        return e;
    }

    /** A minimal valid file: one F32 tensor of 4 values and the given extra header bytes. */
    private static byte[] oneTensor(long[] ne, int type, long offset, int dataBytes) {
        return RawGguf.header(3, 1, 0).tensor("w", ne, type, offset).pad(32).zeros(dataBytes).toBytes();
    }

    @Test
    void truncationAtEveryOffsetIsRefused() {
        byte[] full = GgufWriterTest.everyType().toBytes();
        long dataEnd;
        try (GgufFile f = GgufFile.of(NAME, MemorySegment.ofArray(full))) {
            dataEnd = f.tensorInfos().stream().mapToLong(t -> f.dataOffset() + t.offset() + t.byteSize()).max()
                    .orElseThrow();
        }
        for (int cut = 0; cut < dataEnd; cut++) {
            byte[] part = Arrays.copyOf(full, cut);
            try {
                GgufFile.of(NAME, MemorySegment.ofArray(part)).close();
                fail("truncated at " + cut + " of " + full.length + " was accepted");
            } catch (ModelFormatException e) {
                assertTrue(e.getMessage().startsWith(NAME + ": "), e.getMessage());
            }
        }
    }

    @Test
    void truncatedFileOnDiskIsRefused() throws IOException {
        byte[] full = GgufWriterTest.everyType().toBytes();
        Path p = dir.resolve("cut.gguf");
        Files.write(p, Arrays.copyOf(full, full.length / 2));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().startsWith("cut.gguf: "), e.getMessage());
        Files.write(p, new byte[0]);
        assertThrows(ModelFormatException.class, () -> GgufFile.open(p));
        assertThrows(ModelFormatException.class, () -> GgufFile.open(dir));
    }

    @Test
    void badMagic() {
        byte[] b = GgufWriterTest.everyType().toBytes();
        b[0] = 'g';
        refused(b, "not a GGUF file", "magic");
    }

    @Test
    void unsupportedVersions() {
        refused(RawGguf.header(1, 0, 0).toBytes(), "version 1 is not supported");
        refused(RawGguf.header(4, 0, 0).toBytes(), "version 4 is not supported");
        refused(RawGguf.header(0x03000000, 0, 0).toBytes(), "big-endian");
        GgufFile.of(NAME, MemorySegment.ofArray(RawGguf.header(2, 0, 0).toBytes())).close();
        GgufFile.of(NAME, MemorySegment.ofArray(RawGguf.header(3, 0, 0).toBytes())).close();
    }

    @Test
    void absurdCounts() {
        refused(RawGguf.header(3, Long.MAX_VALUE, 0).toBytes(), "tensor count", "absurd");
        refused(RawGguf.header(3, -1, 0).toBytes(), "tensor count 18446744073709551615");
        refused(RawGguf.header(3, 0, 1L << 40).toBytes(), "metadata key/value count", "absurd");
        refused(RawGguf.header(3, 0, 2).kvU32("a", 1).toBytes(), "metadata key/value count 2");
        refused(RawGguf.header(3, 0, 2).kvU32("a", 1).u64(0).u32(0).toBytes(), "truncated", "value of metadata key ''");
    }

    @Test
    void absurdLengths() {
        refused(RawGguf.header(3, 0, 1).u64(Long.MAX_VALUE).zeros(20).toBytes(), "length", "key of metadata entry #0");
        refused(RawGguf.header(3, 0, 1).u64(-8).zeros(20).toBytes(), "key of metadata entry #0");
        refused(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.STRING.id()).u64(1L << 50).toBytes(),
                "value of metadata key 'k'");
        refused(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.UINT32.id())
                .u64(1L << 40).zeros(16).toBytes(), "metadata key 'k'", "array of 1099511627776 UINT32");
        refused(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.STRING.id())
                .u64(3).u64(1).bytes(new byte[] {'a'}).u64(Long.MAX_VALUE).zeros(64).toBytes(), "element 1 of array 'k'");
        refused(RawGguf.header(3, 1, 0).u64(1L << 62).zeros(40).toBytes(), "name of tensor #0");
    }

    @Test
    void badMetadataValues() {
        refused(RawGguf.header(3, 0, 1).str("k").u32(13).u32(0).toBytes(), "'k'", "unknown value type 13");
        refused(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(99).u64(0).toBytes(),
                "'k'", "unknown array element type 99");
        refused(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.BOOL.id()).u8(2).toBytes(), "'k'", "BOOL value is 2");
        refused(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.UINT64.id()).u64(-1).toBytes(), "'k'",
                "18446744073709551615");
        refused(RawGguf.header(3, 0, 2).kvU32("k", 1).kvU32("k", 2).toBytes(), "duplicate metadata key 'k'");
        RawGguf deep = RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id());
        for (int i = 0; i < 20; i++) {
            deep.u32(GgufValueType.ARRAY.id()).u64(1);
        }
        refused(deep.u32(GgufValueType.UINT8.id()).u64(0).toBytes(), "'k'", "nested deeper");
    }

    @Test
    void badAlignment() {
        refused(RawGguf.header(3, 0, 1).kvU32("general.alignment", 0).toBytes(), "general.alignment", "power of two");
        refused(RawGguf.header(3, 0, 1).kvU32("general.alignment", 48).toBytes(), "general.alignment", "power of two");
        refused(RawGguf.header(3, 0, 1).str("general.alignment").u32(GgufValueType.INT32.id()).u32(32).toBytes(),
                "general.alignment", "expected UINT32");
    }

    @Test
    void badTensorInfos() {
        refused(RawGguf.header(3, 1, 0).str("w").u32(0).zeros(40).toBytes(), "tensor 'w'", "n_dims 0");
        refused(RawGguf.header(3, 1, 0).str("w").u32(5).zeros(40).toBytes(), "tensor 'w'", "n_dims 5");
        refused(oneTensor(new long[] {-1}, F32, 0, 4), "tensor 'w'", "ne[0] = 18446744073709551615");
        refused(oneTensor(new long[] {1L << 32, 1L << 31, 4}, F32, 0, 4), "tensor 'w'", "overflows");
        refused(oneTensor(new long[] {1L << 31, 1L << 31}, F32, 0, 4), "tensor 'w'", "ne[0] = 2147483648");
        // found by the fuzzer: a zero dimension first hid the overflow of the others
        refused(oneTensor(new long[] {0, 1L << 40, 1L << 40}, F32, 0, 4), "tensor 'w'", "overflows");
        refused(oneTensor(new long[] {1, 1L << 62}, F32, 0, 4), "tensor 'w'", "byte size", "overflows");
        refused(oneTensor(new long[] {4}, 4, 0, 16), "tensor 'w'", "unknown ggml type id 4");
        refused(oneTensor(new long[] {4}, 99, 0, 16), "tensor 'w'", "unknown ggml type id 99");
        refused(oneTensor(new long[] {4}, -1, 0, 16), "tensor 'w'", "unknown ggml type id 4294967295");
        refused(oneTensor(new long[] {33}, DType.Q8_0.ggmlId(), 0, 68), "tensor 'w'", "block size 32");
        byte[] dup = RawGguf.header(3, 2, 0).tensor("w", new long[] {4}, F32, 0).tensor("w", new long[] {4}, F32, 32)
                .pad(32).zeros(64).toBytes();
        refused(dup, "duplicate tensor name 'w'");
    }

    @Test
    void badTensorPlacement() {
        GgufFile.of(NAME, MemorySegment.ofArray(oneTensor(new long[] {4}, F32, 0, 16))).close();
        refused(oneTensor(new long[] {4}, F32, 0, 15), "tensor 'w'", "extends past end of file");
        refused(oneTensor(new long[] {4}, F32, 16, 64), "tensor 'w'", "not a multiple of the alignment 32");
        refused(oneTensor(new long[] {4}, F32, 64, 64), "tensor 'w'", "extends past end of file (");
        refused(oneTensor(new long[] {4}, F32, Long.MAX_VALUE - 31, 64), "tensor 'w'", "past");
        refused(oneTensor(new long[] {4}, F32, -32, 64), "tensor 'w'", "data offset");
        byte[] overlap = RawGguf.header(3, 2, 0).tensor("a", new long[] {16}, F32, 0)
                .tensor("b", new long[] {8}, F32, 32).pad(32).zeros(128).toBytes();
        refused(overlap, "tensor 'b'", "overlaps tensor 'a'");
        byte[] sameStart = RawGguf.header(3, 2, 0).tensor("a", new long[] {8}, F32, 0)
                .tensor("b", new long[] {8}, F32, 0).pad(32).zeros(128).toBytes();
        refused(sameStart, "overlaps");
        byte[] outOfOrder = RawGguf.header(3, 2, 0).tensor("a", new long[] {8}, F32, 32)
                .tensor("b", new long[] {8}, F32, 0).pad(32).zeros(64).toBytes();
        try (GgufFile f = GgufFile.of(NAME, MemorySegment.ofArray(outOfOrder))) {
            assertEquals(List.of("a", "b"), List.copyOf(f.names()));
            assertEquals(Shape.of(8), f.get("b").shape());
        }
    }

    @Test
    void exampleMessageNamesFileTensorAndRange() {
        ModelFormatException e = refused(oneTensor(new long[] {4}, F32, 0, 8));
        int dataStart = RawGguf.header(3, 1, 0).tensor("w", new long[] {4}, F32, 0).pad(32).size();
        assertEquals(NAME + ": tensor 'w': data [" + dataStart + ", " + (dataStart + 16)
                + ") extends past end of file (" + (dataStart + 8) + " bytes)", e.getMessage());
    }
}
