package dev.taipan.loaders.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.Resources;
import dev.taipan.quant.TensorFactory;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every GGUF fixture parses, and its metadata and tensor table equal gguf-py's listings. */
class GgufFixturesTest {

    static Stream<String> stems() {
        return Stream.of("llama-moe", "qwen3moe", "mamba2", "granitehybrid", "jamba", "qwen2moe", "nemotron_h")
                .flatMap(a -> Stream.of("tiny-" + a + "-f32", "tiny-" + a + "-q8_0"));
    }

    @ParameterizedTest
    @MethodSource("stems")
    void metadataMatchesListing(String stem) {
        List<GgufListing.Kv> listing = GgufListing.kvs(Resources.path("gguf/" + stem + ".kv.txt"));
        try (GgufFile f = GgufFile.open(Resources.path("gguf/" + stem + ".gguf"))) {
            List<GgufListing.Kv> pseudo = listing.subList(0, 3);
            assertEquals("GGUF.version", pseudo.get(0).key());
            assertEquals((long) f.version(), pseudo.get(0).shown().getFirst());
            assertEquals((long) f.tensorInfos().size(), pseudo.get(1).shown().getFirst());
            assertEquals((long) f.kvs().size(), pseudo.get(2).shown().getFirst());

            List<GgufListing.Kv> real = listing.subList(3, listing.size());
            assertEquals(real.size(), f.kvs().size());
            for (int i = 0; i < real.size(); i++) {
                GgufListing.Kv expected = real.get(i);
                GgufKv actual = f.kvs().get(i);
                String where = stem + " key " + expected.key();
                assertEquals(expected.key(), actual.key(), where);
                assertKvEquals(expected, actual, f.metadata().require(actual.key()), where);
            }
        }
    }

    private static void assertKvEquals(GgufListing.Kv expected, GgufKv actual, Object metadataValue, String where) {
        if (expected.isArray()) {
            assertEquals(GgufValueType.ARRAY, actual.type(), where);
            GgufArray arr = assertInstanceOf(GgufArray.class, actual.value(), where);
            assertEquals(expected.type(), "[" + arr.elementType() + "]", where);
            assertEquals(expected.count(), arr.size(), where);
            assertEquals(expected.abbreviated(), expected.shown().size() < arr.size(), where);
            for (int j = 0; j < expected.shown().size(); j++) {
                assertScalar(expected.shown().get(j), arr.get(j), where + "[" + j + "]");
            }
        } else {
            assertEquals(expected.type(), actual.type().name(), where);
            assertScalar(expected.shown().getFirst(), actual.value(), where);
        }
        assertEquals(actual.value(), metadataValue, where);
    }

    private static void assertScalar(Object expected, Object actual, String where) {
        if (expected instanceof Double d) {
            double got = actual instanceof Float fl ? (double) fl : (Double) actual;
            assertEquals(d, got, 0.0, where);
        } else {
            assertEquals(expected, actual, where);
        }
    }

    @ParameterizedTest
    @MethodSource("stems")
    void tensorTableMatchesListing(String stem) {
        List<GgufListing.TensorLine> listing = GgufListing.tensors(Resources.path("gguf/" + stem + ".tensors.txt"));
        try (GgufFile f = GgufFile.open(Resources.path("gguf/" + stem + ".gguf"))) {
            assertEquals(listing.size(), f.tensorInfos().size());
            assertFalse(listing.isEmpty());
            long expectedOffset = 0;
            for (int i = 0; i < listing.size(); i++) {
                GgufListing.TensorLine line = listing.get(i);
                GgufTensorInfo info = f.tensorInfos().get(i);
                assertEquals(line.name(), info.name());
                assertEquals(line.type(), info.type().name(), line.name());
                assertEquals(line.elements(), info.elementCount(), line.name());
                long[] padded = Arrays.copyOf(info.ne(), 4);
                for (int d = info.nDims(); d < 4; d++) {
                    padded[d] = 1;
                }
                assertArrayEquals(line.ne(), padded, line.name());
                // gguf-py packs tensors in table order, each padded to the alignment
                assertEquals(expectedOffset, info.offset(), line.name());
                expectedOffset += GgufParser.alignUp(info.byteSize(), f.alignment());

                assertEquals(info.byteSize(), f.tensorData(line.name()).orElseThrow().byteSize());
                if (TensorFactory.isSupported(info.type())) {
                    Tensor t = f.get(line.name());
                    assertEquals(info.shape(), t.shape());
                    assertEquals(info.type(), t.type());
                    assertEquals(info.byteSize(), t.data().byteSize());
                }
            }
            assertEquals(f.fileSize(), f.dataOffset() + expectedOffset);
        }
    }

    /** Per-layer keys: an array in one file, a scalar in another (values from the .kv.txt listings). */
    @Test
    void perLayerKeysReadAsArraysOrScalars() {
        try (GgufFile f = GgufFile.open(Resources.path("gguf/tiny-granitehybrid-f32.gguf"))) {
            assertArrayEquals(new int[] {0, 2, 0, 0}, f.metadata().getPerLayerInt("granitehybrid.attention.head_count_kv", 4));
            assertArrayEquals(new int[] {4, 4, 4, 4}, f.metadata().getPerLayerInt("granitehybrid.attention.head_count", 4));
        }
        try (GgufFile f = GgufFile.open(Resources.path("gguf/tiny-nemotron_h-q8_0.gguf"))) {
            assertArrayEquals(new int[] {0, 128, 0, 128, 0, 128},
                    f.metadata().getPerLayerInt("nemotron_h.feed_forward_length", 6));
        }
    }

    @Test
    void storiesModelParses() {
        try (GgufFile f = GgufFile.open(Resources.path("real/stories260K.gguf"))) {
            var md = f.metadata();
            assertEquals("llama", md.getString("general.architecture"));
            assertEquals(64, md.getInt("llama.embedding_length"));
            assertEquals(5, md.getInt("llama.block_count"));
            assertEquals(8, md.getInt("llama.attention.head_count"));
            assertEquals(4, md.getInt("llama.attention.head_count_kv"));
            assertEquals(172, md.getInt("llama.feed_forward_length"));
            assertEquals("llama", md.getString("tokenizer.ggml.model"));
            assertEquals(512, md.getStringArray("tokenizer.ggml.tokens").size());
            assertEquals(512, md.getFloatArray("tokenizer.ggml.scores").length);
            assertEquals(1, md.getInt("tokenizer.ggml.bos_token_id"));
            assertEquals(2, md.getInt("tokenizer.ggml.eos_token_id"));
            assertFalse(md.has("tokenizer.ggml.add_bos_token"));
            for (GgufTensorInfo info : f.tensorInfos()) {
                assertEquals(DType.F32, info.type(), info.name());
            }
            assertEquals(Shape.of(512, 64), f.get("token_embd.weight").shape());
            assertEquals(Shape.of(512, 64), f.get("output.weight").shape());
            assertEquals(Shape.of(172, 64), f.get("blk.4.ffn_gate.weight").shape());
            assertEquals(Shape.of(32, 64), f.get("blk.0.attn_k.weight").shape());
            assertTrue(f.find("blk.5.attn_q.weight").isEmpty());
        }
    }
}
