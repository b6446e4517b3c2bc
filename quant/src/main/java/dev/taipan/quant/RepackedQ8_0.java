package dev.taipan.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 repacked: per group of {@code GQ = 2 * G} rows and block, {@code GQ} fp16 scales (row order),
 * then 16 column pairs of {@code GQ} little-endian shorts. Short lane {@code 2i} holds row {@code i}
 * and lane {@code 2i + 1} row {@code i + G}; the short of a row and pair {@code k} is
 * {@code 256 * w[2k + 1] + (w[2k] + 128)} (high byte the odd column's int8, low byte the even
 * column's plus 128, so that the low byte is unsigned). With the activations quantized per block to
 * int8 like Q4_0's ({@link Q8Activations}, as ggml's {@code ggml_vec_dot_q8_0_q8_0} does), the pair's
 * products {@code p = w[2k] q[2k] + w[2k + 1] q[2k + 1]} come from one short vector load and no
 * widening shuffle: {@code t = pairBias + v * q[2k] + (v >> 8) * (q[2k + 1] - 256 q[2k])} in 16-bit
 * lanes that wrap, which is {@code p + 32768} modulo 2^16; since {@code |p| <= 2 * 128 * 127 = 32512},
 * the 16 low bits of {@code t}, read unsigned, are exactly {@code p + 32768}. Each int lane {@code t}
 * (row {@code i}'s half low, row {@code i + G}'s high) is then added whole to one int sum {@code e}
 * and shifted down (unsigned) to another, {@code o}, both starting at {@code -16 * 32768}: after the
 * 16 pairs {@code o} is row {@code i + G}'s exact integer dot {@code T} ({@code |T| <= 32 * 128 *
 * 127}), and {@code e - (o << 16)}, modulo 2^32, is row {@code i}'s (the high halves' sum times 2^16
 * cancels, and {@code 16 * 32768 * 2^16 = 2^35} vanishes modulo 2^32), one subtraction per block
 * where masking each {@code t} would cost one operation per pair. The row's sum is then
 * {@code fma(T, s, acc)} over the blocks in order, {@code s = (d * 2^-112) * (dx * 2^112)} as in
 * {@link RepackedQ4_0}. All of it is integer adds, multiplies and shifts, 8 vector operations per 64
 * weights, where the float kernel this replaced needed 12, four of them byte-widening shuffles (and
 * the masked sums before the eighteenth session 9: 0.97 against 0.91-0.93 ns per block in cache,
 * {@code KernelProbe matvec}, Intel Xeon VM; no change from DRAM, where the kernel waits on memory).
 */
public final class RepackedQ8_0 extends RepackedTensor {

    /** Rows per group: one short vector's lanes. */
    static final int GQ = 2 * G;
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    /** {@code -16 * 32768}: the start of a block's int sums, undoing the pairs' offsets. */
    private static final int PAIR_OFFSETS = -16 * 32768;

    RepackedQ8_0(QuantizedTensor source, MemorySegment packed) {
        super(source, packed);
    }

    /** Short lane of lane (row in its group) {@code r}: rows {@code 0 .. G-1} even lanes, the rest odd. */
    static int shortLane(int r) {
        return r < G ? 2 * r : 2 * (r - G) + 1;
    }

    /**
     * Block {@code b} of the {@code n} mapped rows (of {@code GQ}, 34-byte blocks, first row
     * {@code first}) in {@code rows} into {@code out[o ..]}; rows past {@code n} are padding (scale 0,
     * weights 0).
     */
    static void packBlock(String name, long first, int n, byte[] rows, int b, byte[] out, int o) {
        int rowBytes = rows.length / GQ;
        for (int r = 0; r < GQ; r++) {
            int src = r * rowBytes + b * 34;
            if (r < n) {
                checkFiniteScale(name, first + r, b, rows, src);
                out[o + 2 * r] = rows[src];
                out[o + 2 * r + 1] = rows[src + 1];
            }
            int lane = 2 * shortLane(r);
            for (int k = 0; k < 16; k++) {
                int at = o + 2 * GQ + k * 2 * GQ + lane;
                out[at] = (byte) ((r < n ? rows[src + 2 + 2 * k] : 0) + 128);
                out[at + 1] = r < n ? rows[src + 3 + 2 * k] : 0;
            }
        }
    }

    @Override
    Q8Activations withFactors(Q8Activations a) {
        return a.forQ8_0();
    }

    @Override
    void groups(long g, int nGroups, Q8Activations a, float[] out, int o) {
        int[] xl = a.pairLow;
        int[] xh = a.pairHigh;
        int[] xb = a.pairBias;
        float[] dx = a.scale;
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xl.length);
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xh.length);
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xb.length);
        Objects.checkFromIndexSize(0, blocksPerRow, dx.length);
        Objects.checkFromIndexSize(o, nGroups * GQ, out.length);
        MemorySegment s = packed;
        int n = runGroups(g);
        int iA = indexInRun(g);
        int iB = nGroups > 1 ? iA + 1 : iA;
        int iC = nGroups > 2 ? iA + 2 : iA;
        int iD = nGroups > 3 ? iA + 3 : iA;
        // per run block: the groups' scales, then column pair k of group i at n * 2GQ + (k * n + i) * 2GQ
        long bA = runStart(g) * groupBytes;
        int sA = iA * 2 * GQ;
        int sB = iB * 2 * GQ;
        int sC = iC * 2 * GQ;
        int sD = iD * 2 * GQ;
        int qA = n * 2 * GQ + iA * 2 * GQ;
        int qB = n * 2 * GQ + iB * 2 * GQ;
        int qC = n * 2 * GQ + iC * 2 * GQ;
        int qD = n * 2 * GQ + iD * 2 * GQ;
        int pair = n * 2 * GQ;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector c0 = a0;
        FloatVector c1 = a0;
        FloatVector d0 = a0;
        FloatVector d1 = a0;
        int step = n * groupBlockBytes;
        long ahead = (long) READ_AHEAD_STEPS * pair;
        long lastByte = s.byteSize() - 1;
        int touched = 0;
        for (int b = 0, k0 = 0; b < blocksPerRow; b++, bA += step, k0 += 16) {
            IntVector eA = IntVector.broadcast(I, PAIR_OFFSETS);
            IntVector oA = eA;
            IntVector eB = eA;
            IntVector oB = eA;
            IntVector eC = eA;
            IntVector oC = eA;
            IntVector eD = eA;
            IntVector oD = eA;
            // written out here, not in helpers: a helper C2 does not inline boxes its vector
            long q = bA;
            for (int k = 0; k < 16; k++, q += pair) {
                if (READ_AHEAD_STEPS > 0) {
                    long t = q + qA + ahead;
                    touched += s.get(ValueLayout.JAVA_BYTE, Math.min(t, lastByte))
                            + s.get(ValueLayout.JAVA_BYTE, Math.min(t + 64, lastByte))
                            + s.get(ValueLayout.JAVA_BYTE, Math.min(t + 128, lastByte))
                            + s.get(ValueLayout.JAVA_BYTE, Math.min(t + 192, lastByte));
                }
                ShortVector xlo = IntVector.broadcast(I, xl[k0 + k]).reinterpretAsShorts();
                ShortVector xhi = IntVector.broadcast(I, xh[k0 + k]).reinterpretAsShorts();
                ShortVector bias = IntVector.broadcast(I, xb[k0 + k]).reinterpretAsShorts();
                ShortVector v = ShortVector.fromMemorySegment(S, s, q + qA, LE);
                IntVector t = bias.add(v.mul(xlo)).add(v.lanewise(VectorOperators.ASHR, 8).mul(xhi)).reinterpretAsInts();
                // accumulators are arguments, never receivers (JitLimits: loop-carried receivers)
                eA = t.add(eA);
                oA = t.lanewise(VectorOperators.LSHR, 16).add(oA);
                v = ShortVector.fromMemorySegment(S, s, q + qB, LE);
                t = bias.add(v.mul(xlo)).add(v.lanewise(VectorOperators.ASHR, 8).mul(xhi)).reinterpretAsInts();
                eB = t.add(eB);
                oB = t.lanewise(VectorOperators.LSHR, 16).add(oB);
                v = ShortVector.fromMemorySegment(S, s, q + qC, LE);
                t = bias.add(v.mul(xlo)).add(v.lanewise(VectorOperators.ASHR, 8).mul(xhi)).reinterpretAsInts();
                eC = t.add(eC);
                oC = t.lanewise(VectorOperators.LSHR, 16).add(oC);
                v = ShortVector.fromMemorySegment(S, s, q + qD, LE);
                t = bias.add(v.mul(xlo)).add(v.lanewise(VectorOperators.ASHR, 8).mul(xhi)).reinterpretAsInts();
                eD = t.add(eD);
                oD = t.lanewise(VectorOperators.LSHR, 16).add(oD);
            }
            FloatVector dxv = FloatVector.broadcast(F, dx[b]);
            ShortVector h = ShortVector.fromMemorySegment(S, s, bA + sA, LE);
            a0 = ((FloatVector) eA.lanewise(VectorOperators.SUB, oA.lanewise(LSHL, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(((IntVector) h.convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), a0);
            a1 = ((FloatVector) oA.convertShape(VectorOperators.I2F, F, 0)).fma(((IntVector) h.convertShape(S2I, I, 1))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), a1);
            h = ShortVector.fromMemorySegment(S, s, bA + sB, LE);
            b0 = ((FloatVector) eB.lanewise(VectorOperators.SUB, oB.lanewise(LSHL, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(((IntVector) h.convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), b0);
            b1 = ((FloatVector) oB.convertShape(VectorOperators.I2F, F, 0)).fma(((IntVector) h.convertShape(S2I, I, 1))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), b1);
            h = ShortVector.fromMemorySegment(S, s, bA + sC, LE);
            c0 = ((FloatVector) eC.lanewise(VectorOperators.SUB, oC.lanewise(LSHL, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(((IntVector) h.convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), c0);
            c1 = ((FloatVector) oC.convertShape(VectorOperators.I2F, F, 0)).fma(((IntVector) h.convertShape(S2I, I, 1))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), c1);
            h = ShortVector.fromMemorySegment(S, s, bA + sD, LE);
            d0 = ((FloatVector) eD.lanewise(VectorOperators.SUB, oD.lanewise(LSHL, 16)).convertShape(VectorOperators.I2F, F, 0)).fma(((IntVector) h.convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), d0);
            d1 = ((FloatVector) oD.convertShape(VectorOperators.I2F, F, 0)).fma(((IntVector) h.convertShape(S2I, I, 1))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), d1);
        }
        if (touched == Integer.MIN_VALUE) {
            touchedSink = touched;
        }
        // Highest offset first: C2 widens a dominating range check to the offsets of the checks it
        // dominates, so with the lowest store first a call of fewer groups at the end of out could
        // fail the widened check. That trap, recorded in the JDK's shared Objects.checkIndex profile,
        // stops C2 from using its checkIndex intrinsic in every kernel it compiles afterwards.
        if (nGroups > 3) {
            d1.intoArray(out, o + 3 * GQ + G);
            d0.intoArray(out, o + 3 * GQ);
        }
        if (nGroups > 2) {
            c1.intoArray(out, o + 2 * GQ + G);
            c0.intoArray(out, o + 2 * GQ);
        }
        if (nGroups > 1) {
            b1.intoArray(out, o + GQ + G);
            b0.intoArray(out, o + GQ);
        }
        a1.intoArray(out, o + G);
        a0.intoArray(out, o);
    }

    @Override
    float rowScalar(long row, float[] x, int xOff) {
        Q8Activations a = new Q8Activations();
        if (!a.quantizeScalar(x, xOff, blocksPerRow)) {
            return source.dotScalar(row, x, xOff);
        }
        float acc = 0f;
        for (int b = 0; b < blocksPerRow; b++) {
            int t = 0;
            for (int j = 0; j < 32; j++) {
                t += quant(row, b, j) * a.q[32 * b + j];
            }
            float s = scaledDown(packed.get(LE_SHORT, scaleOffset(row, b))) * a.scale[b];
            acc = Math.fma((float) t, s, acc);
        }
        return acc;
    }

    @Override
    float weight(long row, int col) {
        return quant(row, col / 32, col % 32) * Float.float16ToFloat(packed.get(LE_SHORT, scaleOffset(row, col / 32)));
    }

    /** The int8 of {@code row}, block {@code b}, column {@code column} (the even columns' bytes are stored plus 128). */
    private byte quant(long row, int b, int column) {
        // column pair column / 2: the row's short, the even column the low byte
        long at = columnOffset(row, b, column / 2) + 2L * shortLane(laneOf(row)) + column % 2;
        byte stored = packed.get(ValueLayout.JAVA_BYTE, at);
        return column % 2 == 0 ? (byte) (stored ^ 0x80) : stored;
    }
}
