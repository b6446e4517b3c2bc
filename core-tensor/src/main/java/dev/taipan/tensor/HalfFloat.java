package dev.taipan.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decoding of IEEE half (F16) and bfloat16 (BF16) values to float, scalar and by vector
 * ({@link #LANES} values at a time, little-endian). The Vector API has no half-float conversion,
 * so F16 is decoded with integer operations (as in ggml's {@code ggml_compute_fp16_to_fp32}
 * fallback): shift the exponent and mantissa into place and rebias the exponent; subnormals are
 * computed exactly as {@code (1 + m/1024) * 2^-14 - 2^-14}; infinities stay infinite, NaNs keep their payload and come out quiet.
 * No float multiply touches a subnormal, so no microcode assist slows rows that hold tiny weights.
 * BF16 is the upper half of a float: shift left by 16.
 */
public final class HalfFloat {
    public static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    public static final int LANES = FLOATS.length();
    static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, FLOATS.vectorShape());
    static final VectorSpecies<Short> SHORTS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(FLOATS.vectorBitSize() / 2));
    /** Adds (127 - 15) to an F16 exponent moved to float's exponent field. */
    static final int REBIAS = (127 - 15) << 23;
    /** F16 exponent 31 (infinity, NaN) moved to float's exponent field. */
    static final int F16_INF_NAN = 0x1f << 23;
    static final int QUIET_NAN = 1 << 22;
    static final int MIN_NORMAL_BITS = 1 << 23;
    static final float TWO_POW_MINUS_14 = 0x1p-14f;

    private HalfFloat() {
    }

    /** Scalar F16 to float (the JDK's exact conversion). */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** Scalar BF16 to float. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** Float to BF16, rounded to nearest even (NaN stays a quiet NaN). */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (f != f) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** Decodes {@link #LANES} F16 values at byte offset {@code byteOff} of {@code seg}. */
    public static FloatVector f16Vector(MemorySegment seg, long byteOff) {
        ShortVector h = ShortVector.fromMemorySegment(SHORTS, seg, byteOff, ByteOrder.LITTLE_ENDIAN);
        IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, INTS, 0);
        IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        // Exponent and mantissa moved to float's positions, exponent still biased by 15.
        IntVector t = bits.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        IntVector normal = t.add(REBIAS);
        normal = normal.add(REBIAS, t.compare(VectorOperators.GE, F16_INF_NAN));
        // A NaN comes out quiet, as from Float.float16ToFloat (and vcvtph2ps).
        normal = normal.lanewise(VectorOperators.OR, QUIET_NAN, t.compare(VectorOperators.GT, F16_INF_NAN));
        VectorMask<Integer> subnormal = t.compare(VectorOperators.LT, MIN_NORMAL_BITS);
        IntVector small = t.add(REBIAS + MIN_NORMAL_BITS).reinterpretAsFloats().sub(TWO_POW_MINUS_14)
                .reinterpretAsInts();
        return normal.blend(small, subnormal).or(sign).reinterpretAsFloats();
    }

    /** Decodes {@link #LANES} BF16 values at byte offset {@code byteOff} of {@code seg}. */
    public static FloatVector bf16Vector(MemorySegment seg, long byteOff) {
        ShortVector h = ShortVector.fromMemorySegment(SHORTS, seg, byteOff, ByteOrder.LITTLE_ENDIAN);
        IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, INTS, 0);
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
