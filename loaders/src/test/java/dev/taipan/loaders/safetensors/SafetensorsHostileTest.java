package dev.taipan.loaders.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.taipan.loaders.ModelFormatException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Truncated, corrupt and hostile safetensors files: each is refused with a ModelFormatException naming file and entry. */
class SafetensorsHostileTest {
    private static final String NAME = "bad.safetensors";

    @TempDir
    Path dir;

    /** Header length, JSON, then {@code dataBytes} zero bytes. */
    private static byte[] file(String json, int dataBytes) {
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + j.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(j.length).put(j)
                .array();
    }

    private static ModelFormatException refused(byte[] bytes, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> SafetensorsSource.of(NAME, MemorySegment.ofArray(bytes)));
        assertTrue(e.getMessage().startsWith(NAME + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + e.getMessage() + "' lacks '" + f + "'");
        }
        return e;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + ","
                + end + "]}";
    }

    @Test
    void truncationAtEveryOffsetIsRefused() {
        byte[] full = SafetensorsWriterTest.everyDtype().toBytes();
        SafetensorsSource.of(NAME, MemorySegment.ofArray(full)).close();
        for (int cut = 0; cut < full.length; cut++) {
            try {
                SafetensorsSource.of(NAME, MemorySegment.ofArray(Arrays.copyOf(full, cut))).close();
                fail("truncated at " + cut + " of " + full.length + " was accepted");
            } catch (ModelFormatException e) {
                assertTrue(e.getMessage().startsWith(NAME + ": "), e.getMessage());
            }
        }
    }

    @Test
    void headerLengthPastEnd() {
        refused(new byte[5], "truncated");
        byte[] b = file("{}", 0);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 3);
        refused(b, "header length 3 extends past the end of the file (10 bytes)");
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1);
        refused(b, "header length 18446744073709551615");
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
        refused(b, "extends past the end");
    }

    @Test
    void malformedJson() {
        refused(file("", 0), "not an object");
        refused(file("{", 0), "malformed JSON");
        refused(file("[1,2]", 0), "not an object");
        refused(file("{\"a\":}", 0), "malformed JSON");
        refused(file("{} {}", 0), "malformed JSON");
        refused(file("{\"a\":1,\"a\":2}", 0), "malformed JSON", "Duplicate");
        refused(file("[".repeat(5000), 0), "malformed JSON");
        refused(file("{\"x\":1}", 0), "tensor 'x'", "not an object");
        refused(file("{\"__metadata__\":{\"k\":1}}", 0), "__metadata__", "'k'", "expected a string");
        refused(file("{\"__metadata__\":[]}", 0), "__metadata__");
        SafetensorsSource.of(NAME, MemorySegment.ofArray(file("{}    ", 0))).close();
    }

    @Test
    void badEntries() {
        refused(file("{" + entry("w", "F33", "[1]", 0, 4) + "}", 4), "tensor 'w'", "unknown dtype 'F33'");
        refused(file("{" + entry("w", "Q8_0", "[32]", 0, 34) + "}", 34), "tensor 'w'", "unknown dtype 'Q8_0'");
        refused(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "'dtype'");
        refused(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "'shape'");
        refused(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor 'w'", "'data_offsets'");
        refused(file("{" + entry("w", "F32", "[-1]", 0, 4) + "}", 4), "tensor 'w'", "shape[0] = -1");
        refused(file("{" + entry("w", "F32", "[1.5]", 0, 4) + "}", 4), "tensor 'w'", "shape[0] = 1.5");
        refused(file("{" + entry("w", "F32", "[99999999999999999999]", 0, 4) + "}", 4), "shape[0]");
        refused(file("{" + entry("w", "F32", "[4294967296,4294967296]", 0, 4) + "}", 4), "tensor 'w'",
                "more elements than fit");
        refused(file("{" + entry("w", "F64", "[4611686018427387904]", 0, 4) + "}", 4), "tensor 'w'", "overflows");
        refused(file("{" + entry("w", "F32", "[4294967296,4294967296,0]", 0, 0) + "}", 0), "tensor 'w'",
                "more elements than fit");
        refused(file("{" + entry("w", "F32", "[0,4294967296,4294967296]", 0, 0) + "}", 0), "tensor 'w'",
                "more elements than fit");
        refused(file("{" + entry("w", "F32", "[1]", -4, 4) + "}", 4), "tensor 'w'", "data_offsets[0] = -4");
        refused(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), "tensor 'w'", "pair");
    }

    @Test
    void badOffsets() {
        refused(file("{" + entry("w", "F32", "[1]", 0, 8) + "}", 4), "tensor 'w'", "[0, 8) out of range", "4 bytes");
        refused(file("{" + entry("w", "F32", "[1]", 4, 0) + "}", 4), "tensor 'w'", "out of range");
        refused(file("{" + entry("w", "F32", "[2]", 0, 4) + "}", 4), "tensor 'w'",
                "shape [2] of F32 needs 8 bytes but data_offsets [0, 4) span 4");
        refused(file("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[1]", 4, 8) + "}", 8),
                "tensor 'b'", "overlap tensor 'a'");
        refused(file("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}", 12),
                "data bytes [4, 8) are not covered", "tensor 'b'");
        refused(file("{" + entry("a", "F32", "[1]", 0, 4) + "}", 8), "data bytes [4, 8) at the end");
        refused(file("{" + entry("a", "F32", "[1]", 4, 8) + "}", 8), "data bytes [0, 4)");
        try (SafetensorsSource s = SafetensorsSource.of(NAME, MemorySegment.ofArray(
                file("{" + entry("b", "F32", "[1]", 4, 8) + "," + entry("a", "I32", "[1]", 0, 4) + "}", 8)))) {
            assertEquals(4, s.tensorInfo("b").orElseThrow().begin());
        }
    }

    @Test
    void filesOnDisk() throws IOException {
        Path p = dir.resolve("x.safetensors");
        Files.write(p, file("{" + entry("w", "F32", "[1]", 0, 8) + "}", 4));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsSource.open(p));
        assertTrue(e.getMessage().startsWith("x.safetensors: tensor 'w'"), e.getMessage());
        Files.write(p, new byte[0]);
        assertThrows(ModelFormatException.class, () -> SafetensorsSource.open(p));
        e = assertThrows(ModelFormatException.class, () -> SafetensorsSource.open(dir));
        assertTrue(e.getMessage().contains("neither model.safetensors nor model.safetensors.index.json"), e.getMessage());
    }
}
