package dev.taipan.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code e^x} in float, as a scalar function and as a vector one that give the same bits for every
 * input, whatever compiles them. The Vector API's {@code VectorOperators.EXP} does not: the
 * interpreter and C1 compute it lane by lane with {@link Math#exp}, C2 with an intrinsic that
 * rounds differently, so softmax and SiLU changed in the last bit once C2 had compiled them (and
 * a seeded sampling run could take another token). Here every step is an add, a multiply, an FMA
 * or an integer operation on the bits, each exactly specified in Java.
 *
 * <p>The method is the usual one (as in ggml's {@code ggml_v_expf} or Cephes' {@code expf}):
 * <ol>
 *   <li>clamp {@code x} to {@code [-104, 89]}, beyond which the result is 0 or infinite anyway;</li>
 *   <li>{@code n = round(x / ln 2)}, read from the low bits of {@code x * log2(e) + 1.5 * 2^23};</li>
 *   <li>{@code r = x - n ln 2} in two steps (Cody and Waite: {@code ln 2} split into a head whose
 *   product with {@code n} is exact and a tail), {@code |r| <= ln(2) / 2};</li>
 *   <li>{@code e^r} by a degree-6 polynomial (coefficients fitted for the relative error on that
 *   interval, Horner's scheme in FMAs);</li>
 *   <li>times {@code 2^n}, as two factors {@code 2^floor(n/2)} and {@code 2^(n - floor(n/2))} built
 *   from exponent bits, so that subnormal results and the overflow to infinity come out right.</li>
 * </ol>
 * Within 2 ulp of the correctly rounded {@code e^x} over the normal range ({@code ExpTest}); NaN
 * gives NaN, {@code -inf} gives 0, {@code +inf} gives {@code +inf}.
 */
final class Exp {
    private static final float LO = -104f;
    private static final float HI = 89f;
    private static final float LOG2E = 1.44269504088896341f;
    /** {@code 1.5 * 2^23}: adding it rounds to an integer held in the low mantissa bits. */
    private static final float SHIFTER = 0x1.8p23f;
    private static final int SHIFTER_BITS = Float.floatToRawIntBits(SHIFTER);
    /** {@code ln 2} = LN2_HI + LN2_LO, LN2_HI with 9 significant bits ({@code n * LN2_HI} exact for |n| < 2^15). */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float C2 = 0x1.fffffap-2f;
    private static final float C3 = 0x1.55540ap-3f;
    private static final float C4 = 0x1.55589cp-5f;
    private static final float C5 = 0x1.126d62p-7f;
    private static final float C6 = 0x1.6ab908p-10f;

    private Exp() {
    }

    /** {@code e^x}; the same bits as every lane of {@link #exp(FloatVector)}. */
    static float exp(float x) {
        float c = Math.min(Math.max(x, LO), HI);
        float t = Math.fma(c, LOG2E, SHIFTER);
        float n = t - SHIFTER;
        float r = Math.fma(n, -LN2_HI, c);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(C6, r, C5), r, C4), r, C3), r, C2), r, 1f);
        p = Math.fma(p, r, 1f);
        int k = Float.floatToRawIntBits(t) - SHIFTER_BITS;
        int k1 = k >> 1;
        return p * Float.intBitsToFloat((k1 + 127) << 23) * Float.intBitsToFloat((k - k1 + 127) << 23);
    }

    /** {@code e^x} lane by lane: the same bits as {@link #exp(float)} on each lane. */
    static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(LO).min(HI);
        FloatVector t = c.fma(LOG2E, SHIFTER);
        FloatVector n = t.sub(SHIFTER);
        FloatVector r = n.fma(x.broadcast(-LN2_HI), c);
        r = n.fma(x.broadcast(-LN2_LO), r);
        FloatVector p = r.fma(C6, C5);
        p = p.fma(r, x.broadcast(C4));
        p = p.fma(r, x.broadcast(C3));
        p = p.fma(r, x.broadcast(C2));
        p = p.fma(r, x.broadcast(1f));
        p = p.fma(r, x.broadcast(1f));
        IntVector k = t.reinterpretAsInts().sub(SHIFTER_BITS);
        IntVector k1 = k.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = k.sub(k1).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }
}
