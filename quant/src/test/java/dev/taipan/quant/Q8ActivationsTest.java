package dev.taipan.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Q8Activations}: the Vector API quantization equals its scalar twin bit for bit (random,
 * zero, tiny, huge and tie-rounding blocks, at an offset), the values are ggml's
 * ({@code round(x * 127 / amax)}, ties to even), and unrepresentable blocks (non-finite, huge, or
 * so small that {@code 127 / amax} overflows) are reported; the per-thread memo returns a
 * quantization only for the same values.
 */
class Q8ActivationsTest {

    private static void assertTwins(float[] x, int xOff, int blocks) {
        Q8Activations v = new Q8Activations();
        Q8Activations s = new Q8Activations();
        assertTrue(v.quantize(x, xOff, blocks));
        assertTrue(s.quantizeScalar(x, xOff, blocks));
        assertArrayEquals(s.q, v.q);
        assertArrayEquals(s.bias, v.bias);
        assertArrayEquals(s.scale, v.scale);
    }

    @Test
    void kernelFactorsEqualTheirScalarTwins() {
        Random rnd = new Random(5);
        for (int blocks : new int[] {1, 3, 7}) {
            float[] x = new float[32 * blocks];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            x[5] = 0f; // a zero quant next to the block's extremes (+-127)
            Q8Activations a = new Q8Activations();
            assertTrue(a.quantize(x, 0, blocks));
            a.forQ4_0();
            a.forQ8_0();
            int[][] vector = {a.lowTwice.clone(), a.highTwice.clone(), a.pairLow.clone(), a.pairHigh.clone(),
                a.pairBias.clone()};
            a.fillQ4_0Scalar();
            a.fillQ8_0Scalar();
            int[][] scalar = {a.lowTwice, a.highTwice, a.pairLow, a.pairHigh, a.pairBias};
            for (int f = 0; f < vector.length; f++) {
                assertArrayEquals(scalar[f], vector[f], "factor " + f + ", " + blocks + " blocks");
            }
            // spot-check the definitions: block 0, column 3
            assertEquals((a.q[3] & 0xFFFF) * 0x10001, a.lowTwice[3]);
            assertEquals(((a.q[19] - 16 * a.q[3]) & 0xFFFF) * 0x10001, a.highTwice[3]);
            assertEquals(((a.q[7] - 256 * a.q[6]) & 0xFFFF) * 0x10001, a.pairHigh[3]);
        }
    }

    @Test
    void vectorEqualsScalarTwin() {
        Random rnd = new Random(1);
        for (int blocks : new int[] {1, 2, 5}) {
            float[] x = new float[3 + 32 * blocks];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(9) - 4));
            }
            assertTwins(x, 3, blocks);
            assertTwins(x, 0, blocks);
        }
        float[] special = new float[96];
        // block 0 zero, block 1 tiny values, block 2 at the limit
        for (int i = 0; i < 32; i++) {
            special[32 + i] = Q8Activations.TINY * (i - 16) / 16;
            special[64 + i] = (i % 2 == 0 ? 1 : -1) * Q8Activations.LIMIT * i / 31;
        }
        assertTwins(special, 0, 3);
    }

    @Test
    void valuesAreGgmlsRoundedQuants() {
        float[] x = new float[32];
        x[0] = 127f;
        x[1] = 0.5f;   // tie: rounds to 0
        x[2] = 1.5f;   // tie: rounds to 2
        x[3] = -2.5f;  // tie: rounds to -2
        x[4] = -127f;
        x[5] = 63.7f;
        Q8Activations a = new Q8Activations();
        assertTrue(a.quantize(x, 0, 1));
        short[] want = new short[32];
        want[0] = 127;
        want[1] = 0;
        want[2] = 2;
        want[3] = -2;
        want[4] = -127;
        want[5] = 64;
        assertArrayEquals(want, Arrays.copyOf(a.q, 32));
        assertEquals(-8 * (127 + 2 - 2 - 127 + 64), a.bias[0]);
        assertEquals(1f * 0x1p112f, a.scale[0]);
        float[] zeros = new float[32];
        assertTrue(a.quantize(zeros, 0, 1));
        assertEquals(0, a.bias[0]);
        assertEquals(0f, a.scale[0]);
        assertArrayEquals(new short[32], Arrays.copyOf(a.q, 32));
    }

    @Test
    void nonFiniteOrHugeBlocksAreNotRepresentable() {
        for (float odd : new float[] {Float.NaN, Float.NEGATIVE_INFINITY, Q8Activations.LIMIT * 1.01f,
                Q8Activations.TINY / 2, Float.MIN_VALUE}) {
            float[] x = new float[64];
            x[50] = odd;
            assertFalse(new Q8Activations().quantize(x, 0, 2), "x[50] = " + odd);
            assertFalse(new Q8Activations().quantizeScalar(x, 0, 2), "x[50] = " + odd + ", scalar");
            assertTrue(new Q8Activations().quantize(x, 0, 1), "block 0 alone is representable");
        }
    }

    @Test
    void shortActivationsThrow() {
        assertThrows(IndexOutOfBoundsException.class, () -> new Q8Activations().quantize(new float[63], 0, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> new Q8Activations().quantizeScalar(new float[64], 1, 2));
    }

    @Test
    void memoReusesAQuantizationOnlyForTheSameValues() {
        Random rnd = new Random(3);
        float[] x = new float[2 + 96];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        Q8Activations first = Q8Activations.quantized(x, 2, 3);
        assertSame(first, Q8Activations.quantized(x, 2, 3), "same array, offset and values: the memo's instance");
        Q8Activations fresh = new Q8Activations();
        assertTrue(fresh.quantize(x, 2, 3));
        assertArrayEquals(fresh.q, Arrays.copyOf(first.q, fresh.q.length));
        // the caller changed one value in place: quantized again, with the new value
        x[2 + 40] = 9f;
        Q8Activations changed = Q8Activations.quantized(x, 2, 3);
        assertTrue(fresh.quantize(x, 2, 3));
        assertArrayEquals(fresh.q, Arrays.copyOf(changed.q, fresh.q.length));
        assertArrayEquals(fresh.scale, Arrays.copyOf(changed.scale, fresh.scale.length));
        assertEquals(127, changed.q[40]);
        // another offset or length is another key; unrepresentable values are remembered as such
        Q8Activations shorter = Q8Activations.quantized(x, 2, 2);
        assertTrue(fresh.quantize(x, 2, 2));
        assertArrayEquals(Arrays.copyOf(fresh.bias, 2), Arrays.copyOf(shorter.bias, 2));
        assertArrayEquals(Arrays.copyOf(fresh.q, 64), Arrays.copyOf(shorter.q, 64));
        x[2 + 70] = Float.NaN;
        assertNull(Q8Activations.quantized(x, 2, 3));
        assertNull(Q8Activations.quantized(x, 2, 3));
        assertNotNull(Q8Activations.quantized(x, 2, 2), "the first two blocks have no NaN");
        // more keys than the memo holds: still right
        for (int k = 0; k < 3 * Q8Activations.Memo.SIZE; k++) {
            float[] y = new float[32];
            y[k % 32] = k + 1;
            Q8Activations got = Q8Activations.quantized(y, 0, 1);
            assertEquals(127, got.q[k % 32], "key " + k);
        }
    }
}
