package dev.taipan.quant;

import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Activations quantized per 32-element block to int8, the way ggml quantizes them for its Q4_0 dot
 * ({@code quantize_row_q8_0}): {@code d = amax / 127}, {@code q = round(x * 127 / amax)} with ties to
 * even. The integer dot of a block of Q4_0 nibbles with {@code q} then needs 16-bit lanes only
 * ({@link RepackedTensor.Q4_0}). Unlike ggml, {@code d} is kept in f32 (not rounded to fp16), and
 * it is stored times {@code 2^112}, the factor the kernels' fp16 scale decoding leaves out.
 *
 * <p>Per block {@code b}: {@link #q} the 32 quants (as shorts, ready to broadcast), {@link #bias}
 * {@code -8 * sum(q)} (the Q4_0 offset, folded into the integer sum's start), {@link #scale}
 * {@code d * 2^112}. A row of blocks is {@link #quantize}d by one Vector API loop and its scalar
 * twin {@link #quantizeScalar}, equal bit for bit. An activation is not representable (the kernels
 * then fall back to float) when a block's {@code amax} is not finite, above {@link #LIMIT}, where
 * {@code d * 2^112} would overflow, or non-zero and below {@link #TINY}, where {@code 127 / amax}
 * would.
 */
final class Q8Activations {

    /** Largest block amax kept: {@code amax / 127 * 2^112} stays below f32's largest finite value. */
    static final float LIMIT = 4.0e6f;
    /** Smallest non-zero block amax kept: {@code 127 / amax} stays finite and {@code x * 127 / amax} exact enough. */
    static final float TINY = 0x1p-60f;
    /** Adding and subtracting {@code 1.5 * 2^23} rounds a float of magnitude below 2^22 to the nearest integer, ties to even. */
    private static final float ROUND = 0x1.8p23f;
    private static final float SCALE_OFFSET = 0x1p112f;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** As many short lanes as {@link #F} has float lanes. */
    private static final VectorSpecies<Short> SF = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * F.length()));
    private static final ThreadLocal<Q8Activations> SCRATCH = ThreadLocal.withInitial(Q8Activations::new);

    short[] q = new short[0];
    short[] bias = new short[0];
    float[] scale = new float[0];
    /** For kernels that read the activations as floats. */
    float[] x;
    int xOff;

    /** This thread's reusable instance (one per thread: a dot call quantizes, then reads it, then returns). */
    static Q8Activations scratch() {
        return SCRATCH.get();
    }

    private void ensure(int blocks) {
        if (bias.length < blocks) {
            q = new short[32 * blocks];
            bias = new short[blocks];
            scale = new float[blocks];
        }
    }

    /** Keeps {@code x} for float kernels. */
    Q8Activations floats(float[] x, int xOff) {
        this.x = x;
        this.xOff = xOff;
        return this;
    }

    /**
     * Quantizes {@code x[xOff .. xOff + 32 * blocks)} into this instance, Vector API.
     *
     * @return false when a block is not representable (see the class comment)
     */
    boolean quantize(float[] x, int xOff, int blocks) {
        Objects.checkFromIndexSize(xOff, 32 * blocks, x.length);
        ensure(blocks);
        int lanes = F.length();
        for (int b = 0; b < blocks; b++) {
            int at = xOff + 32 * b;
            FloatVector m = FloatVector.fromArray(F, x, at).abs();
            for (int i = lanes; i < 32; i += lanes) {
                m = m.max(FloatVector.fromArray(F, x, at + i).abs());
            }
            float amax = m.reduceLanes(VectorOperators.MAX);
            if (!(amax <= LIMIT) || (amax < TINY && amax != 0f)) {
                return false;
            }
            float id = amax == 0f ? 0f : 127f / amax;
            float sum = 0f;
            for (int i = 0; i < 32; i += lanes) {
                FloatVector r = FloatVector.fromArray(F, x, at + i).mul(id).add(ROUND).sub(ROUND);
                sum += r.reduceLanes(VectorOperators.ADD);
                ((ShortVector) r.convertShape(VectorOperators.F2S, SF, 0)).intoArray(q, 32 * b + i);
            }
            bias[b] = (short) (-8 * (int) sum);
            scale[b] = amax / 127f * SCALE_OFFSET;
        }
        return true;
    }

    /** Scalar twin of {@link #quantize}: the same values. */
    boolean quantizeScalar(float[] x, int xOff, int blocks) {
        Objects.checkFromIndexSize(xOff, 32 * blocks, x.length);
        ensure(blocks);
        for (int b = 0; b < blocks; b++) {
            int at = xOff + 32 * b;
            float amax = 0f;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(x[at + i]));
            }
            if (!(amax <= LIMIT) || (amax < TINY && amax != 0f)) {
                return false;
            }
            float id = amax == 0f ? 0f : 127f / amax;
            int sum = 0;
            for (int i = 0; i < 32; i++) {
                int v = (int) (x[at + i] * id + ROUND - ROUND);
                q[32 * b + i] = (short) v;
                sum += v;
            }
            bias[b] = (short) (-8 * sum);
            scale[b] = amax / 127f * SCALE_OFFSET;
        }
        return true;
    }
}
