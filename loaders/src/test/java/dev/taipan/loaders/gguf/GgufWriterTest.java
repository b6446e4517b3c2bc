package dev.taipan.loaders.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.Resources;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class GgufWriterTest {
    @TempDir
    Path dir;

    static GgufWriter everyType() {
        GgufWriter w = new GgufWriter();
        w.put("t.u8", GgufValueType.UINT8, 200L)
                .put("t.i8", GgufValueType.INT8, -5L)
                .put("t.u16", GgufValueType.UINT16, 60000L)
                .put("t.i16", GgufValueType.INT16, -300L)
                .putUInt32("t.u32", 4_000_000_000L)
                .putInt32("t.i32", -7)
                .putUInt64("t.u64", Long.MAX_VALUE)
                .put("t.i64", GgufValueType.INT64, Long.MIN_VALUE)
                .putFloat32("t.f32", 1e-5f)
                .put("t.f64", GgufValueType.FLOAT64, Math.PI)
                .putBool("t.bool", true)
                .putString("t.str", "héllo ✓ 🐍")
                .putString("t.empty", "")
                .putArray("a.u8", GgufArray.ofIntegers(GgufValueType.UINT8, 0, 255, 7))
                .putArray("a.i16", GgufArray.ofIntegers(GgufValueType.INT16, -32768, 32767))
                .putArray("a.i32", GgufArray.ofIntegers(GgufValueType.INT32, 0, 2, 0, 0))
                .putArray("a.u64", GgufArray.ofIntegers(GgufValueType.UINT64, 1L << 62))
                .putArray("a.f32", GgufArray.ofFloats(-0.5f, Float.NaN, Float.MIN_VALUE))
                .putArray("a.f64", GgufArray.ofDoubles(1e300))
                .putArray("a.bool", GgufArray.ofBools(true, false))
                .putArray("a.str", GgufArray.ofStrings(List.of("Ġt", "he", "")))
                .putArray("a.empty", GgufArray.ofStrings(List.of()))
                .putArray("a.nested", GgufArray.ofArrays(List.of(
                        GgufArray.ofStrings(List.of("x")),
                        GgufArray.ofArrays(List.of(GgufArray.ofIntegers(GgufValueType.INT32, 3))))));
        float[] f32 = {1, -2, 3.5f, 0, 1e-30f, -7};
        w.addF32("w.f32", Shape.of(2, 3), f32);
        w.addF16("w.f16", Shape.of(5), new float[] {0.1f, 1, -2, 65504, 1e-8f});
        byte[] q8 = new byte[2 * 2 * 34];
        for (int i = 0; i < q8.length; i++) {
            q8[i] = (byte) (i * 7);
        }
        w.addTensor("w.q8", DType.Q8_0, Shape.of(2, 64), q8);
        w.addTensor("w.bf16.3d", DType.BF16, Shape.of(2, 1, 3), new byte[12]);
        w.addTensor("w.i32.4d", DType.I32, Shape.of(1, 2, 1, 1), new byte[] {1, 0, 0, 0, -1, -1, -1, -1});
        return w;
    }

    @Test
    void roundTripsEveryValueTypeAndTensor() throws IOException {
        GgufWriter w = everyType();
        Path file = dir.resolve("all.gguf");
        w.write(file);
        assertArrayEquals(w.toBytes(), Files.readAllBytes(file));
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(3, f.version());
            assertEquals(32, f.alignment());
            assertEquals(0, f.dataOffset() % 32);
            Metadata md = f.metadata();
            assertEquals(200L, md.getLong("t.u8"));
            assertEquals(-5L, md.getLong("t.i8"));
            assertEquals(60000L, md.getLong("t.u16"));
            assertEquals(-300L, md.getLong("t.i16"));
            assertEquals(4_000_000_000L, md.getLong("t.u32"));
            assertEquals(-7, md.getInt("t.i32"));
            assertEquals(Long.MAX_VALUE, md.getLong("t.u64"));
            assertEquals(Long.MIN_VALUE, md.getLong("t.i64"));
            assertEquals(1e-5f, md.getFloat("t.f32"));
            assertEquals(Math.PI, (Double) md.require("t.f64"));
            assertEquals(true, md.getBool("t.bool", false));
            assertEquals("héllo ✓ 🐍", md.getString("t.str"));
            assertEquals("", md.getString("t.empty"));
            assertEquals(List.of(0L, 255L, 7L), md.getArray("a.u8"));
            assertEquals(List.of(-32768L, 32767L), md.getArray("a.i16"));
            assertArrayEquals(new int[] {0, 2, 0, 0}, md.getIntArray("a.i32"));
            assertArrayEquals(new int[] {0, 2, 0, 0}, md.getPerLayerInt("a.i32", 4));
            assertEquals(List.of(1L << 62), md.getArray("a.u64"));
            assertArrayEquals(new float[] {-0.5f, Float.NaN, Float.MIN_VALUE}, md.getFloatArray("a.f32"));
            assertEquals(List.of(1e300), md.getArray("a.f64"));
            assertEquals(List.of(true, false), md.getArray("a.bool"));
            assertEquals(List.of("Ġt", "he", ""), md.getStringArray("a.str"));
            assertEquals(List.of(), md.getArray("a.empty"));
            assertEquals(List.of(List.of("x"), List.of(List.of(3L))), md.getArray("a.nested"));
            assertEquals(GgufValueType.ARRAY, ((GgufArray) md.getArray("a.nested")).elementType());

            Tensor t = f.get("w.f32");
            assertEquals(Shape.of(2, 3), t.shape());
            float[] row = new float[3];
            t.row(1, row, 0);
            assertArrayEquals(new float[] {0, 1e-30f, -7}, row);
            MemorySegment f16 = f.tensorData("w.f16").orElseThrow();
            float[] halves = new float[5];
            for (int i = 0; i < 5; i++) {
                halves[i] = Float.float16ToFloat(f16.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i));
            }
            assertArrayEquals(new float[] {0.099975586f, 1, -2, 65504, 0}, halves);
            byte[] q8 = f.tensorData("w.q8").orElseThrow().toArray(ValueLayout.JAVA_BYTE);
            assertEquals((byte) (135 * 7), q8[135]);
            GgufTensorInfo q = f.tensorInfo("w.q8").orElseThrow();
            assertArrayEquals(new long[] {64, 2}, q.ne());
            assertEquals(DType.Q8_0, q.type());
            assertArrayEquals(new long[] {3, 1, 2}, f.tensorInfo("w.bf16.3d").orElseThrow().ne());
            assertArrayEquals(new long[] {1, 1, 2, 1}, f.tensorInfo("w.i32.4d").orElseThrow().ne());
            assertEquals(List.of("w.f32", "w.f16", "w.q8", "w.bf16.3d", "w.i32.4d"), List.copyOf(f.names()));
            for (GgufTensorInfo info : f.tensorInfos()) {
                assertEquals(0, info.offset() % 32, info.name());
            }
        }
    }

    @Test
    void honoursCustomAlignment() {
        GgufWriter w = everyType().alignment(64);
        try (GgufFile f = GgufFile.of("a64.gguf", MemorySegment.ofArray(w.toBytes()))) {
            assertEquals(64, f.alignment());
            assertEquals(64L, f.metadata().getLong("general.alignment"));
            assertEquals(0, f.dataOffset() % 64);
            for (GgufTensorInfo info : f.tensorInfos()) {
                assertEquals(0, info.offset() % 64, info.name());
            }
        }
    }

    static List<String> fixtures() {
        return GgufFixturesTest.stems().map(s -> "gguf/" + s + ".gguf").toList();
    }

    /** Copying a gguf-py-written file through reader and writer reproduces it byte for byte. */
    @ParameterizedTest
    @MethodSource("fixtures")
    void rewritesFixturesByteIdentical(String resource) throws IOException {
        Path src = Resources.path(resource);
        GgufWriter w = new GgufWriter();
        try (GgufFile f = GgufFile.open(src)) {
            w.putAll(f.kvs());
            for (GgufTensorInfo t : f.tensorInfos()) {
                w.addTensor(t.name(), t.type(), t.shape(), f.tensorData(t.name()).orElseThrow());
            }
            Path copy = dir.resolve("copy.gguf");
            w.write(copy);
            assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(copy));
        }
    }

    @Test
    void refusesWhatLlamaCppWouldNotLoad() {
        GgufWriter w = new GgufWriter();
        assertThrows(IllegalArgumentException.class,
                () -> w.addF32("x".repeat(64), Shape.of(1), new float[1]));
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("q", DType.Q8_0, Shape.of(1, 33), new byte[34]));
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("q", DType.Q8_0, Shape.of(1, 32), new byte[33]));
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("b", DType.BOOL, Shape.of(1), new byte[1]));
        assertThrows(IllegalArgumentException.class,
                () -> w.addF32("five", Shape.of(1, 1, 1, 1, 1), new float[1]));
        w.addF32("x", Shape.of(1), new float[1]);
        assertThrows(IllegalArgumentException.class, () -> w.addF32("x", Shape.of(1), new float[1]));
        w.putUInt32("k", 1);
        assertThrows(IllegalArgumentException.class, () -> w.putUInt32("k", 2));
        assertThrows(IllegalArgumentException.class, () -> w.putUInt32("big", 1L << 32));
        assertThrows(IllegalArgumentException.class, () -> w.put("s", GgufValueType.STRING, 3L));
        assertThrows(IllegalArgumentException.class, () -> w.putUInt32("general.alignment", 48));
    }
}
