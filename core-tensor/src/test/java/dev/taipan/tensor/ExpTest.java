package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * {@link Exp}: accuracy against {@link Math#exp} in double (every 61st float of the range where the
 * result is neither 0 nor infinite, and all floats near the edges), the special values, and the
 * vector form equal to the scalar one bit for bit on every lane.
 */
class ExpTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** The error of {@code got} in units of the float spacing at the exact value {@code e^x}. */
    private static double ulps(float x, float got) {
        double exact = Math.exp(x);
        double spacing = Math.ulp((float) exact);
        return Math.abs(got - exact) / spacing;
    }

    @Test
    void within2UlpOverTheWholeRange() {
        int checked = 0;
        // negative floats: the bits as an int fall from -104f's towards Integer.MIN_VALUE (-0f)
        for (int bits = Float.floatToRawIntBits(-104f); bits < 0; bits -= 61) {
            checked += check(Float.intBitsToFloat(bits));
        }
        for (int bits = 0; bits <= Float.floatToRawIntBits(88.72f); bits += 61) {
            checked += check(Float.intBitsToFloat(bits));
        }
        for (float x = -104f; x <= 89f; x = Math.nextUp(x)) {
            if (x == -87f) {
                x = 88.6f;
            }
            checked += check(x);
        }
        assertTrue(checked > 30_000_000, "checked " + checked);
    }

    private static int check(float x) {
        float got = Exp.exp(x);
        double exact = Math.exp(x);
        if (exact < Float.MIN_NORMAL) {
            // subnormal or zero results: within one subnormal step
            assertTrue(Math.abs(got - exact) <= Float.MIN_VALUE, () -> "exp(" + x + ") = " + got + ", exact " + exact);
        } else if (exact > Float.MAX_VALUE) {
            assertEquals(Float.POSITIVE_INFINITY, got, () -> "exp(" + x + ")");
        } else {
            assertTrue(ulps(x, got) <= 2, () -> "exp(" + x + ") = " + got + ", exact " + exact + ": " + ulps(x, got) + " ulp");
        }
        return 1;
    }

    @Test
    void specialValues() {
        assertEquals(1f, Exp.exp(0f));
        assertEquals(1f, Exp.exp(-0f));
        assertEquals(0f, Exp.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, Exp.exp(-1000f));
        assertEquals(Float.POSITIVE_INFINITY, Exp.exp(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, Exp.exp(89f));
        assertEquals(Float.POSITIVE_INFINITY, Exp.exp(Float.MAX_VALUE));
        assertTrue(Float.isNaN(Exp.exp(Float.NaN)));
        // the largest finite result and the smallest positive one
        assertEquals((float) Math.exp(88.72283f), Exp.exp(88.72283f), Math.ulp(Float.MAX_VALUE));
        assertEquals(Float.MIN_VALUE, Exp.exp(-103.2789f));
        assertEquals(Math.E, Exp.exp(1f), 2 * Math.ulp((float) Math.E));
    }

    /** The float's bits, every NaN as -1 (NaN payloads may differ). */
    private static int bits(float v) {
        return Float.isNaN(v) ? -1 : Float.floatToRawIntBits(v);
    }

    @Test
    void vectorLanesEqualTheScalarBitForBit() {
        int n = S.length();
        float[] specials = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f, -104f, -103.5f,
            -87.5f, -87.33655f, 88.72283f, 88.7229f, 89f, 1e-30f, -1e-30f, Float.MIN_VALUE, -Float.MAX_VALUE};
        float[] x = new float[1 << 16];
        for (int i = 0; i < x.length; i++) {
            x[i] = i < specials.length ? specials[i] : (float) ((i * 0.61803398875 % 1.0 - 0.5) * 210);
        }
        float[] out = new float[n];
        for (int i = 0; i + n <= x.length; i += n) {
            Exp.exp(FloatVector.fromArray(S, x, i)).intoArray(out, 0);
            for (int l = 0; l < n; l++) {
                assertEquals(bits(Exp.exp(x[i + l])), bits(out[l]), "lane " + l + ": exp(" + x[i + l] + ")");
            }
        }
    }
}
