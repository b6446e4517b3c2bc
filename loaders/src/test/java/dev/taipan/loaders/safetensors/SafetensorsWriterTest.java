package dev.taipan.loaders.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.ModelFiles;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.TensorSource;
import dev.taipan.quant.TensorFactory;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    /** A file with every dtype, a scalar, an empty tensor and metadata. */
    static SafetensorsWriter everyDtype() {
        SafetensorsWriter w = new SafetensorsWriter().putMetadata("format", "pt").putMetadata("note", "ünïcode");
        w.addF32("f32", Shape.of(2, 3), new float[] {1, 2, 3, 4, 5, -6.5f});
        w.addF16("f16", Shape.of(3), new float[] {0.1f, -1, 65504});
        w.addBF16("bf16", Shape.of(1, 3), new float[] {1.00390625f, 3.0234375f, Float.NaN});
        w.addF64("f64", Shape.of(), new double[] {Math.E});
        byte[] one = {1};
        for (DType t : List.of(DType.I8, DType.U8, DType.BOOL, DType.F8_E4M3, DType.F8_E5M2)) {
            w.addTensor(t.name().toLowerCase(), t, Shape.of(1), one);
        }
        w.addTensor("i16", DType.I16, Shape.of(1), new byte[] {-2, -1});
        w.addTensor("i32", DType.I32, Shape.of(1, 1), new byte[] {7, 0, 0, 0});
        w.addTensor("i64", DType.I64, Shape.of(1), new byte[] {-1, -1, -1, -1, -1, -1, -1, -1});
        w.addTensor("empty", DType.F32, Shape.of(0, 4), new byte[0]);
        return w;
    }

    @Test
    void roundTripsEveryDtype() throws IOException {
        SafetensorsWriter w = everyDtype();
        Path file = dir.resolve("all.safetensors");
        w.write(file);
        byte[] bytes = Files.readAllBytes(file);
        assertArrayEquals(w.toBytes(), bytes);
        long headerLen = MemorySegment.ofArray(bytes).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        assertEquals(0, headerLen % 8);
        String header = new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\""), header);
        try (SafetensorsSource src = SafetensorsSource.open(file)) {
            assertEquals("pt", src.metadata().getString("format"));
            assertEquals("ünïcode", src.metadata().getString("note"));
            assertEquals(List.of("f32", "f16", "bf16", "f64", "i8", "u8", "bool", "f8_e4m3", "f8_e5m2", "i16", "i32",
                    "i64", "empty"), List.copyOf(src.names()));
            assertEquals(DType.F8_E5M2, src.tensorInfo("f8_e5m2").orElseThrow().dtype());
            assertEquals(Shape.of(), src.tensorInfo("f64").orElseThrow().shape());
            assertEquals(Math.E, src.tensorData("f64").orElseThrow().get(ValueLayout.JAVA_DOUBLE_UNALIGNED, 0));
            assertEquals(-1L, src.tensorData("i64").orElseThrow().get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
            assertEquals(0, src.tensorInfo("empty").orElseThrow().byteSize());
            MemorySegment bf16 = src.tensorData("bf16").orElseThrow();
            assertEquals(1.0f, Float.intBitsToFloat(bf16.get(LE_SHORT, 0) << 16)); // ties to even: down
            assertEquals(3.03125f, Float.intBitsToFloat(bf16.get(LE_SHORT, 2) << 16)); // ties to even: up
            assertTrue(Float.isNaN(Float.intBitsToFloat(bf16.get(LE_SHORT, 4) << 16)));
            assertEquals(0.099975586f, Float.float16ToFloat(src.tensorData("f16").orElseThrow().get(LE_SHORT, 0)));
            Tensor f32 = src.get("f32");
            assertEquals(Shape.of(2, 3), f32.shape());
            assertEquals(-6.5f, f32.get(5));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> src.get("i64"));
            assertTrue(e.getMessage().contains("all.safetensors: tensor 'i64' has dtype I64"), e.getMessage());
            if (TensorFactory.isSupported(DType.BF16)) {
                assertEquals(1.0f, src.get("bf16").get(0));
            }
        }
    }

    @Test
    void refusesBadTensors() {
        SafetensorsWriter w = new SafetensorsWriter();
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("q", DType.Q8_0, Shape.of(32), new byte[34]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", DType.F32, Shape.of(2), new byte[7]));
        assertThrows(IllegalArgumentException.class, () -> w.addF32("__metadata__", Shape.of(1), new float[1]));
        w.addF32("x", Shape.of(1), new float[1]);
        assertThrows(IllegalArgumentException.class, () -> w.addF32("x", Shape.of(1), new float[1]));
    }

    private void shardedCheckpoint(String indexJson) throws IOException {
        new SafetensorsWriter().putMetadata("format", "pt").addF32("a", Shape.of(2), new float[] {1, 2})
                .addF32("b", Shape.of(1), new float[] {3}).write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().putMetadata("format", "pt").addF32("c", Shape.of(1, 1), new float[] {4})
                .write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), indexJson);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"toy\", \"hidden_size\": 2}");
    }

    private static String index(String aFile, String extra) {
        return "{\"metadata\": {\"total_size\": 16}, \"weight_map\": {\"a\": \"" + aFile
                + "\", \"b\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\"" + extra
                + "}}";
    }

    @Test
    void readsShardedCheckpoint() throws IOException {
        shardedCheckpoint(index("model-00001-of-00002.safetensors", ""));
        try (TensorSource src = ModelFiles.open(dir)) {
            SafetensorsSource st = assertInstanceOf(SafetensorsSource.class, src);
            assertEquals(List.of("a", "b", "c"), List.copyOf(st.names()));
            assertEquals(2.0f, st.get("a").get(1));
            assertEquals(4.0f, st.get("c").get(0));
            assertEquals("model-00002-of-00002.safetensors", st.tensorInfo("c").orElseThrow().file());
            assertEquals("pt", st.metadata().getString("format"));
            assertEquals("toy", st.config().orElseThrow().modelType());
            assertEquals(dir, st.path());
        }
    }

    @Test
    void refusesInconsistentShardIndex() throws IOException {
        shardedCheckpoint(index("model-00002-of-00002.safetensors", ""));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsSource.open(dir));
        assertTrue(e.getMessage().contains("model.safetensors.index.json: tensor 'a' is stored in "
                + "model-00001-of-00002.safetensors but weight_map says model-00002-of-00002.safetensors"), e.getMessage());
        shardedCheckpoint(index("model-00001-of-00002.safetensors", ", \"d\": \"model-00002-of-00002.safetensors\""));
        e = assertThrows(ModelFormatException.class, () -> SafetensorsSource.open(dir));
        assertTrue(e.getMessage().contains("tensor 'd'"), e.getMessage());
        shardedCheckpoint(index("../model-00001-of-00002.safetensors", ""));
        e = assertThrows(ModelFormatException.class, () -> SafetensorsSource.open(dir));
        assertTrue(e.getMessage().contains("expected a file name in the same directory"), e.getMessage());
        shardedCheckpoint(index("missing.safetensors", ""));
        e = assertThrows(ModelFormatException.class, () -> SafetensorsSource.open(dir));
        assertTrue(e.getMessage().startsWith("missing.safetensors: not a regular file"), e.getMessage());
        shardedCheckpoint("{\"weight_map\": [1]}");
        e = assertThrows(ModelFormatException.class, () -> SafetensorsSource.open(dir));
        assertTrue(e.getMessage().contains("'weight_map' is missing or not an object"), e.getMessage());
        shardedCheckpoint("{\"weight_map\": ");
        e = assertThrows(ModelFormatException.class, () -> SafetensorsSource.open(dir));
        assertTrue(e.getMessage().startsWith("model.safetensors.index.json: malformed JSON"), e.getMessage());
    }
}
