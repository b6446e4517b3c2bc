package dev.taipan.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Q8_0 and Q4_0 quantizers against the bytes ggml's quantizers wrote into the fixture. */
class QuantizerTest {
    private static Map<String, FixtureFiles.Stored> fixture;

    @BeforeAll
    static void load() throws IOException {
        fixture = FixtureFiles.gguf("quant_matrices.gguf");
    }

    @Test
    void q8_0AndQ4_0MatchGgmlBytes() {
        for (String matrix : new String[] {"normal", "outliers", "rowscales", "uniform"}) {
            float[] src = FixtureFiles.floats(fixture.get("f32." + matrix));
            for (DType type : new DType[] {DType.Q8_0, DType.Q4_0}) {
                byte[] expected = fixture.get(type.name().toLowerCase() + "." + matrix).data()
                        .toArray(ValueLayout.JAVA_BYTE);
                assertArrayEquals(expected, Quantizer.quantize(type, src), type + " " + matrix);
            }
        }
    }

    @Test
    void quantizesIntoASegmentAtAnOffset() {
        float[] src = new float[64 + 32];
        for (int i = 0; i < src.length; i++) {
            src[i] = (float) Math.sin(i * 0.37) * (i + 1);
        }
        MemorySegment dst = MemorySegment.ofArray(new byte[3 + 2 * 34]);
        Quantizer.quantize(DType.Q8_0, src, 32, 64, dst, 3);
        float[] part = java.util.Arrays.copyOfRange(src, 32, 96);
        assertArrayEquals(Quantizer.quantize(DType.Q8_0, part), dst.asSlice(3).toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void roundTripErrorIsWithinOneStep() {
        float[] src = new float[256];
        for (int i = 0; i < src.length; i++) {
            src[i] = (float) Math.cos(i * 1.3) * 3f;
        }
        for (DType type : new DType[] {DType.Q8_0, DType.Q4_0}) {
            Tensor t = TensorFactory.create("rt", type, Shape.of(256), MemorySegment.ofArray(Quantizer.quantize(type, src)));
            float[] back = new float[256];
            t.row(0, back, 0);
            // Q8_0 rounds to the nearest of +-127 steps of amax/127; Q4_0 maps the extreme value to
            // -8 steps of amax/8, so the opposite extreme is clamped to +7: up to a whole step.
            float bound = type == DType.Q8_0 ? 3f / 127f * 0.51f : 3f / 8f * 1.01f;
            for (int i = 0; i < 256; i++) {
                assertTrue(Math.abs(back[i] - src[i]) <= bound, type + " element " + i);
            }
        }
    }

    @Test
    void zeroBlocksGiveZeroScaleAndMidpointQuants() {
        byte[] q8 = Quantizer.quantize(DType.Q8_0, new float[32]);
        assertArrayEquals(new byte[34], q8);
        byte[] q4 = Quantizer.quantize(DType.Q4_0, new float[32]);
        byte[] expected = new byte[18];
        expected[1] = (byte) 0x80; // d = 0 / -8 = -0.0, fp16 0x8000 (as ggml; fixture row "rowscales" 3)
        java.util.Arrays.fill(expected, 2, 18, (byte) 0x88);
        assertArrayEquals(expected, q4);
    }

    @Test
    void q4_0ScaleComesFromTheSignedExtreme() {
        float[] src = new float[32];
        src[3] = -2f;
        src[20] = 1f;
        byte[] q4 = Quantizer.quantize(DType.Q4_0, src);
        // d = max / -8 with max = -2: d = 0.25, -2 -> q 0, 1 -> q 12, 0 -> q 8
        assertEquals(Float.floatToFloat16(0.25f), (short) ((q4[0] & 0xFF) | (q4[1] << 8)));
        assertEquals(0x00, q4[2 + 3] & 0x0F);
        assertEquals(12, (q4[2 + 4] >> 4) & 0x0F);
        assertEquals(8, q4[2] & 0x0F);
    }

    @Test
    void roundHalfAwayLikeCRoundf() {
        assertEquals(3f, Quantizer.roundHalfAway(2.5f));
        assertEquals(-3f, Quantizer.roundHalfAway(-2.5f));
        assertEquals(0f, Quantizer.roundHalfAway(0.49999997f));
        assertEquals(-0f, Quantizer.roundHalfAway(-0.49999997f));
        assertEquals(127f, Quantizer.roundHalfAway(126.5f));
        assertEquals(8388609f, Quantizer.roundHalfAway(8388609f));
    }

    @Test
    void rejectsTypesWithoutQuantizerAndPartialBlocks() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Quantizer.quantize(DType.Q6_K, new float[256]));
        assertTrue(e.getMessage().contains("Q6_K"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(DType.Q8_0, new float[33]));
    }
}
