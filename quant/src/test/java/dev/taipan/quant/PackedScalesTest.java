package dev.taipan.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taipan.tensor.Shape;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The vector kernels unpack the K-quant sub-block scales from whole words at once; the scalar
 * dequantizers transcribe ggml's byte-by-byte {@code get_scale_min_k4}. Both must agree on every
 * bit pattern.
 */
class PackedScalesTest {

    @Test
    void q4kWordUnpackingMatchesGetScaleMinK4() {
        Random rnd = new Random(5);
        byte[] block = new byte[144];
        for (int trial = 0; trial < 20_000; trial++) {
            rnd.nextBytes(block);
            Q4_KTensor t = new Q4_KTensor("t", Shape.of(256), MemorySegment.ofArray(block));
            long scales = t.k4Scales(4);
            long mins = t.k4Mins(4);
            for (int j = 0; j < 8; j++) {
                assertEquals(t.k4Scale(4, j), QuantizedTensor.byteOf(scales, j), "scale " + j + " trial " + trial);
                assertEquals(t.k4Min(4, j), QuantizedTensor.byteOf(mins, j), "min " + j + " trial " + trial);
            }
        }
    }

    @Test
    void everySixBitValueRoundTripsThroughThePacking() {
        // scale j < 4 lives in the low 6 bits of byte j; its value must come back unchanged
        byte[] block = new byte[144];
        for (int v = 0; v < 64; v++) {
            for (int j = 0; j < 4; j++) {
                block[4 + j] = (byte) v;
                Q4_KTensor t = new Q4_KTensor("t", Shape.of(256), MemorySegment.ofArray(block));
                assertEquals(v, QuantizedTensor.byteOf(t.k4Scales(4), j));
            }
        }
    }
}
