package dev.taipan.quant;

import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Activations quantized per 32-element block to int8, the way ggml's x86 code quantizes them for
 * its Q4_0 and Q8_0 dots ({@code quantize_row_q8_0}): {@code d = amax / 127} rounded to fp16,
 * {@code q = round(x * 127 / amax)} with ties to even. The integer dot of a block of Q4_0 nibbles
 * or Q8_0 pairs with {@code q} then needs 16-bit lanes only ({@link RepackedQ4_0},
 * {@link RepackedQ8_0}). {@code d} is stored times {@code 2^112}, the factor the kernels' fp16 scale
 * decoding leaves out. Rounding {@code d} to fp16 as ggml does matters: with {@code d} kept in f32,
 * Q8_0 decode of the tiny MoE fixtures was as far from llama.cpp's Q8_0 logits (about 0.5 % of their
 * range) as float activations are; with it, within 1e-4 (runtime's RepackedWeightsTest).
 *
 * <p>Per block {@code b}: {@link #q} the 32 quants (as shorts, ready to broadcast), {@link #bias}
 * {@code -8 * sum(q)} (the Q4_0 offset, folded into the integer sum's start), {@link #scale}
 * {@code d * 2^112}. A row of blocks is {@link #quantize}d by one Vector API loop and its scalar
 * twin {@link #quantizeScalar}, equal bit for bit. An activation is not representable (the kernels
 * then fall back to float) when a block's {@code amax} is not finite, above {@link #LIMIT}, where
 * {@code d * 2^112} would overflow, or non-zero and below {@link #TINY}, where {@code 127 / amax}
 * would.
 *
 * <p>{@link #quantized} memoizes per thread: a one-token MoE step dots the same activations with
 * many expert matrices, in many chunks, so each thread keeps its last {@link Memo#SIZE}
 * quantizations keyed by (array, offset, length) and reuses one only when the array still holds
 * the same values (compared in full, {@code Arrays.mismatch}: several times cheaper than quantizing).
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
    /** As many int lanes as {@link #F} has float lanes. */
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** Twice as many short lanes: the column pairs of {@link #I}'s lanes. */
    private static final VectorSpecies<Short> SP = VectorSpecies.of(short.class, F.vectorShape());
    private static final VectorOperators.Conversion<Short, Integer> S2I = VectorOperators.S2I;
    private static final ThreadLocal<Q8Activations> SCRATCH = ThreadLocal.withInitial(Q8Activations::new);

    short[] q = new short[0];
    short[] bias = new short[0];
    /**
     * {@link RepackedQ4_0}'s factors ({@link #forQ4_0}), per block {@code b} and {@code j < 16} at
     * {@code 16b + j}, each value twice, in the low and the high 16 bits of an int (one int broadcast
     * gives a vector of shorts without a shuffle): {@code lowTwice = q[32b + j]}, {@code highTwice =
     * q[32b + 16 + j] - 16 * q[32b + j]}, the factor of a byte's high nibble when the whole byte is
     * multiplied by {@code q[32b + j]}.
     */
    int[] lowTwice = new int[0];
    int[] highTwice = new int[0];
    /**
     * {@link RepackedQ8_0}'s factors ({@link #forQ8_0}), per block {@code b} and column pair
     * {@code k < 16} at {@code 16b + k}, each value twice like the Q4_0 factors:
     * {@code pairLow = q[2k]}, {@code pairHigh = q[2k + 1] - 256 * q[2k]},
     * {@code pairBias = -128 * q[2k] - 32768}.
     */
    int[] pairLow = new int[0];
    int[] pairHigh = new int[0];
    int[] pairBias = new int[0];
    /** Whether the Q4_0 / Q8_0 factors hold those of the current quants (a kernel needs only its own). */
    private boolean q4Factors;
    private boolean q8Factors;
    /** Blocks of the current quants. */
    private int blocks;
    float[] scale = new float[0];
    /** For kernels that read the activations as floats. */
    float[] x;
    int xOff;

    private static final ThreadLocal<Memo> MEMO = ThreadLocal.withInitial(Memo::new);

    /** This thread's reusable instance (one per thread: a dot call fills it, then reads it, then returns). */
    static Q8Activations scratch() {
        return SCRATCH.get();
    }

    /**
     * {@code x[xOff .. xOff + 32 * blocks)} quantized, from this thread's memo when it holds the same
     * values, or null when not representable. The result stays valid until this thread's next
     * {@link Memo#SIZE} calls with other activations.
     */
    static Q8Activations quantized(float[] x, int xOff, int blocks) {
        int n = 32 * blocks;
        Objects.checkFromIndexSize(xOff, n, x.length);
        Memo m = MEMO.get();
        for (int i = 0; i < Memo.SIZE; i++) {
            if (m.arrays[i] == x && m.offsets[i] == xOff && m.lengths[i] == n
                    && Arrays.mismatch(m.copies[i], 0, n, x, xOff, xOff + n) < 0) {
                return m.representable[i] ? m.values[i] : null;
            }
        }
        int i = m.next;
        m.next = (i + 1) % Memo.SIZE;
        if (m.copies[i] == null || m.copies[i].length < n) {
            m.copies[i] = new float[n];
        }
        System.arraycopy(x, xOff, m.copies[i], 0, n);
        boolean ok = m.values[i].quantize(x, xOff, blocks);
        m.arrays[i] = x;
        m.offsets[i] = xOff;
        m.lengths[i] = n;
        m.representable[i] = ok;
        return ok ? m.values[i] : null;
    }

    /** One thread's recent quantizations, replaced round robin. */
    static final class Memo {
        static final int SIZE = 16;
        final float[][] arrays = new float[SIZE][];
        final int[] offsets = new int[SIZE];
        final int[] lengths = new int[SIZE];
        final float[][] copies = new float[SIZE][];
        final Q8Activations[] values = new Q8Activations[SIZE];
        final boolean[] representable = new boolean[SIZE];
        int next;

        Memo() {
            for (int i = 0; i < SIZE; i++) {
                values[i] = new Q8Activations();
            }
        }
    }

    private void ensure(int blocks) {
        if (bias.length < blocks) {
            q = new short[32 * blocks];
            bias = new short[blocks];
            scale = new float[blocks];
            pairLow = new int[16 * blocks];
            lowTwice = new int[16 * blocks];
            highTwice = new int[16 * blocks];
            pairHigh = new int[16 * blocks];
            pairBias = new int[16 * blocks];
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
        this.blocks = blocks;
        int lanes = F.length();
        for (int b = 0; b < blocks; b++) {
            int at = xOff + 32 * b;
            FloatVector m = FloatVector.fromArray(F, x, at).abs();
            for (int i = lanes; i < 32; i += lanes) {
                m = FloatVector.fromArray(F, x, at + i).abs().max(m);
            }
            float amax = m.reduceLanes(VectorOperators.MAX);
            if (!(amax <= LIMIT) || (amax < TINY && amax != 0f)) {
                return false;
            }
            float id = amax == 0f ? 0f : 127f / amax;
            // the quants' sum in short lanes (|sum| <= 32 * 127): one integer reduction per block,
            // where a float reduction per vector is a chain of ordered adds
            ShortVector qs = ShortVector.zero(SF);
            for (int i = 0; i < 32; i += lanes) {
                FloatVector r = FloatVector.fromArray(F, x, at + i).mul(id).add(ROUND).sub(ROUND);
                ShortVector s = (ShortVector) r.convertShape(VectorOperators.F2S, SF, 0);
                s.intoArray(q, 32 * b + i);
                qs = s.add(qs);
            }
            bias[b] = (short) (-8 * qs.reduceLanes(VectorOperators.ADD));
            scale[b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127f)) * SCALE_OFFSET;
        }
        q4Factors = false;
        q8Factors = false;
        return true;
    }

    /** Scalar twin of {@link #quantize}: the same values. */
    boolean quantizeScalar(float[] x, int xOff, int blocks) {
        Objects.checkFromIndexSize(xOff, 32 * blocks, x.length);
        ensure(blocks);
        this.blocks = blocks;
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
            scale[b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127f)) * SCALE_OFFSET;
        }
        q4Factors = false;
        q8Factors = false;
        return true;
    }

    /**
     * This instance with {@link #lowTwice} and {@link #highTwice} filled from its quants, once per
     * quantization (Vector API, int lanes widened from the quants: the scalar loop, now the twin
     * {@link #fillQ4_0Scalar}, cost more than the quantization itself).
     */
    Q8Activations forQ4_0() {
        if (!q4Factors) {
            if (16 % I.length() != 0) {
                fillQ4_0Scalar();
            } else {
                for (int b = 0; b < blocks; b++) {
                    for (int j = 0; j < 16; j += I.length()) {
                        IntVector lo = (IntVector) ShortVector.fromArray(SF, q, 32 * b + j).convertShape(S2I, I, 0);
                        IntVector hi = (IntVector) ShortVector.fromArray(SF, q, 32 * b + 16 + j).convertShape(S2I, I, 0);
                        twice(lo).intoArray(lowTwice, 16 * b + j);
                        twice(hi.sub(lo.lanewise(VectorOperators.LSHL, 4))).intoArray(highTwice, 16 * b + j);
                    }
                }
            }
            q4Factors = true;
        }
        return this;
    }

    /** Scalar twin of {@link #forQ4_0}'s fill. */
    void fillQ4_0Scalar() {
        for (int k = 0; k < 16 * blocks; k++) {
            int lo = q[2 * k - k % 16];
            lowTwice[k] = twice(lo);
            highTwice[k] = twice(q[2 * k - k % 16 + 16] - 16 * lo);
        }
    }

    /**
     * This instance with the column-pair factors filled from its quants, once per quantization
     * (Vector API: each int lane of the quants read as ints holds a column pair, the even quant in
     * its low half; {@link #fillQ8_0Scalar} is its twin).
     */
    Q8Activations forQ8_0() {
        if (!q8Factors) {
            if (16 % I.length() != 0) {
                fillQ8_0Scalar();
            } else {
                for (int k = 0; k < 16 * blocks; k += I.length()) {
                    IntVector pair = ShortVector.fromArray(SP, q, 2 * k).reinterpretAsInts();
                    IntVector even = pair.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16);
                    IntVector odd = pair.lanewise(VectorOperators.ASHR, 16);
                    twice(even).intoArray(pairLow, k);
                    twice(odd.sub(even.lanewise(VectorOperators.LSHL, 8))).intoArray(pairHigh, k);
                    twice(even.mul(-128).sub(32768)).intoArray(pairBias, k);
                }
            }
            q8Factors = true;
        }
        return this;
    }

    /** Scalar twin of {@link #forQ8_0}'s fill. */
    void fillQ8_0Scalar() {
        for (int k = 0; k < 16 * blocks; k++) {
            int even = q[2 * k];
            int odd = q[2 * k + 1];
            pairLow[k] = twice(even);
            pairHigh[k] = twice(odd - 256 * even);
            pairBias[k] = twice(-128 * even - 32768);
        }
    }

    private static IntVector twice(IntVector v) {
        return v.and(0xFFFF).or(v.lanewise(VectorOperators.LSHL, 16));
    }

    /** The low 16 bits of {@code v} in both halves of an int. */
    private static int twice(int v) {
        return (v & 0xFFFF) | (v << 16);
    }
}
