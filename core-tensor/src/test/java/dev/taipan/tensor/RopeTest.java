package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** RoPE angles against the closed form {@code freqScale * p * base^(-2i/nRot) / ff[i]} in double. */
class RopeTest {

    @Test
    void anglesEqualTheClosedFormWithAndWithoutFrequencyFactors() {
        int nRot = 12;
        float[] ff = {1f, 1f, 1.5f, 2f, 4f, 8f};
        for (Rope rope : new Rope[] {
                Rope.of(Rope.Layout.NORMAL, 16, nRot, 500000f, 1f),
                Rope.of(Rope.Layout.NEOX, 16, nRot, 10000f, 0.25f).withFreqFactors(ff),
                Rope.of(Rope.Layout.NORMAL, 12, nRot, 500000f, 1f).withFreqFactors(ff)}) {
            float[] cos = new float[nRot / 2];
            float[] sin = new float[nRot / 2];
            for (int pos : new int[] {0, 1, 7, 100}) {
                rope.angles(pos, cos, sin);
                for (int i = 0; i < nRot / 2; i++) {
                    double f = rope.freqFactors() == null ? 1 : rope.freqFactors()[i];
                    double angle = rope.freqScale() * pos * Math.pow(rope.base(), -2.0 * i / nRot) / f;
                    assertEquals(Math.cos(angle), cos[i], 1e-5, rope + " pos " + pos + " pair " + i);
                    assertEquals(Math.sin(angle), sin[i], 1e-5, rope + " pos " + pos + " pair " + i);
                }
            }
        }
    }

    @Test
    void factorsChangeOnlyTheirPairs() {
        Rope plain = Rope.of(Rope.Layout.NORMAL, 8, 8, 10000f, 1f);
        Rope slowed = plain.withFreqFactors(new float[] {1f, 1f, 1f, 8f});
        float[] c0 = new float[4];
        float[] s0 = new float[4];
        float[] c1 = new float[4];
        float[] s1 = new float[4];
        plain.angles(50, c0, s0);
        slowed.angles(50, c1, s1);
        for (int i = 0; i < 3; i++) {
            assertEquals(c0[i], c1[i]);
            assertEquals(s0[i], s1[i]);
        }
        assertTrue(Math.abs(s1[3]) < Math.abs(s0[3]), "the last pair turns 8x slower");
    }

    @Test
    void badFactorsAreRejected() {
        Rope rope = Rope.of(Rope.Layout.NORMAL, 8, 8, 10000f, 1f);
        assertThrows(IllegalArgumentException.class, () -> rope.withFreqFactors(new float[3]));
        assertThrows(IllegalArgumentException.class, () -> rope.withFreqFactors(new float[] {1f, 1f, 0f, 1f}));
        assertThrows(IllegalArgumentException.class, () -> rope.withFreqFactors(new float[] {1f, Float.NaN, 1f, 1f}));
        assertThrows(IllegalArgumentException.class,
                () -> rope.withFreqFactors(new float[] {1f, 1f, 1f, Float.POSITIVE_INFINITY}));
    }
}
