package dev.taipan.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_0 repacked: per group of {@code GQ = 2 * G} rows and block, {@code GQ} fp16 scales then 16
 * columns of {@code GQ} mapped bytes, the groups of a run interleaved column by column
 * ({@link RepackedTensor}'s layout). With the activations quantized per block ({@link Q8Activations}:
 * int8 {@code q}, {@code bias = -8 * sum(q)}, {@code dx * 2^112}), each row's block sum
 * {@code T = sum((w[j] - 8) * q[j])} is computed in 16-bit lanes as
 * {@code bias + sum(lo[j] * q[j] + hi[j] * q[j + 16])} ({@code lo}, {@code hi} the nibbles 0..15),
 * which fits a short: {@code |T| <= 8 * 32 * 127 = 32512}. The kernel multiplies the whole byte
 * {@code v = lo + 16 hi} instead of cutting out the low nibble: {@code v * q[j] + hi * qd[j]} with
 * {@code qd[j] = q[j + 16] - 16 q[j]} ({@link Q8Activations#highTwice}) is the same integer
 * {@code lo * q[j] + hi * q[j + 16]}; 16-bit lanes wrap modulo 2^16, and since the exact sum fits a
 * short, the wrapped sum equals it, bit for bit the sum of the scalar twin (one vector operation
 * per byte and row fewer than masking the nibble). The row's sum
 * is then {@code fma(T, s, acc)} over the blocks in order, {@code s = (d * 2^-112) * (dx * 2^112)}
 * with {@code d * 2^-112} the fp16 scale's bits moved into an f32 ({@code (h << 13) & 0x8FFFE000},
 * exact for every finite fp16, subnormals included).
 */
public final class RepackedQ4_0 extends RepackedTensor {

    /** Rows per group: one short vector's lanes. */
    static final int GQ = 2 * G;
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    /** Loads of {@code GQ} bytes, widened to one short vector. */
    static final VectorSpecies<Byte> BQ = BG == null ? null
            : VectorSpecies.of(byte.class, VectorShape.forBitSize(GQ * 8));

    RepackedQ4_0(QuantizedTensor source, MemorySegment packed) {
        super(source, packed);
    }

    /**
     * Block {@code b} of the {@code n} mapped rows (of {@code GQ}, first {@code first}) in {@code rows}
     * into {@code out[o ..]}; rows past {@code n} are padding (scale 0, nibbles 8: weight 0).
     */
    static void packBlock(String name, long first, int n, byte[] rows, int b, byte[] out, int o) {
        int rowBytes = rows.length / GQ;
        for (int r = 0; r < GQ; r++) {
            int src = r * rowBytes + b * 18;
            if (r < n) {
                checkFiniteScale(name, first + r, b, rows, src);
                out[o + 2 * r] = rows[src];
                out[o + 2 * r + 1] = rows[src + 1];
            }
            for (int j = 0; j < 16; j++) {
                out[o + 2 * GQ + j * GQ + r] = r < n ? rows[src + 2 + j] : (byte) 0x88;
            }
        }
    }

    @Override
    Q8Activations withFactors(Q8Activations a) {
        return a.forQ4_0();
    }

    @Override
    void groups(long g, int nGroups, Q8Activations a, float[] out, int o) {
        int[] xq = a.lowTwice;
        short[] bias = a.bias;
        int[] xqd = a.highTwice;
        float[] dx = a.scale;
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xq.length);
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xqd.length);
        Objects.checkFromIndexSize(0, blocksPerRow, bias.length);
        Objects.checkFromIndexSize(0, blocksPerRow, dx.length);
        Objects.checkFromIndexSize(o, nGroups * GQ, out.length);
        MemorySegment s = packed;
        int n = runGroups(g);
        int iA = indexInRun(g);
        int iB = nGroups > 1 ? iA + 1 : iA;
        int iC = nGroups > 2 ? iA + 2 : iA;
        int iD = nGroups > 3 ? iA + 3 : iA;
        // per run block: the groups' scales, then column j of group i at n * 2GQ + (j * n + i) * GQ
        long bA = runStart(g) * groupBytes;
        int sA = iA * 2 * GQ;
        int sB = iB * 2 * GQ;
        int sC = iC * 2 * GQ;
        int sD = iD * 2 * GQ;
        int qA = n * 2 * GQ + iA * GQ;
        int qB = n * 2 * GQ + iB * GQ;
        int qC = n * 2 * GQ + iC * GQ;
        int qD = n * 2 * GQ + iD * GQ;
        int column = n * GQ;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector c0 = a0;
        FloatVector c1 = a0;
        FloatVector d0 = a0;
        FloatVector d1 = a0;
        int step = n * groupBlockBytes;
        long ahead = (long) READ_AHEAD_STEPS * column;
        long lastByte = s.byteSize() - 1;
        int touched = 0;
        for (int b = 0, k0 = 0; b < blocksPerRow; b++, bA += step, k0 += 16) {
            ShortVector tA = ShortVector.broadcast(S, bias[b]);
            ShortVector tB = tA;
            ShortVector tC = tA;
            ShortVector tD = tA;
            // written out here, not in helpers: a helper C2 does not inline boxes its vector
            long q = bA;
            for (int j = 0; j < 16; j++, q += column) {
                if (READ_AHEAD_STEPS > 0) {
                    long t = q + qA + ahead;
                    touched += s.get(ValueLayout.JAVA_BYTE, Math.min(t, lastByte))
                            + s.get(ValueLayout.JAVA_BYTE, Math.min(t + 64, lastByte));
                }
                // one int broadcast of a value held twice: no 16-bit broadcast shuffle
                ShortVector xl = IntVector.broadcast(I, xq[k0 + j]).reinterpretAsShorts();
                ShortVector xh = IntVector.broadcast(I, xqd[k0 + j]).reinterpretAsShorts();
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(BQ, s, q + qA, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                // the accumulator is an argument, never a receiver (JitLimits: loop-carried receivers)
                tA = v.mul(xl).add(v.lanewise(VectorOperators.ASHR, 4).mul(xh)).add(tA);
                v = (ShortVector) ByteVector.fromMemorySegment(BQ, s, q + qB, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                tB = v.mul(xl).add(v.lanewise(VectorOperators.ASHR, 4).mul(xh)).add(tB);
                v = (ShortVector) ByteVector.fromMemorySegment(BQ, s, q + qC, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                tC = v.mul(xl).add(v.lanewise(VectorOperators.ASHR, 4).mul(xh)).add(tC);
                v = (ShortVector) ByteVector.fromMemorySegment(BQ, s, q + qD, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                tD = v.mul(xl).add(v.lanewise(VectorOperators.ASHR, 4).mul(xh)).add(tD);
            }
            FloatVector dxv = FloatVector.broadcast(F, dx[b]);
            ShortVector h = ShortVector.fromMemorySegment(S, s, bA + sA, LE);
            a0 = ((FloatVector) tA.convertShape(VectorOperators.S2F, F, 0)).fma(((IntVector) h.convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), a0);
            a1 = ((FloatVector) tA.convertShape(VectorOperators.S2F, F, 1)).fma(((IntVector) h.convertShape(VectorOperators.S2I, I, 1))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), a1);
            h = ShortVector.fromMemorySegment(S, s, bA + sB, LE);
            b0 = ((FloatVector) tB.convertShape(VectorOperators.S2F, F, 0)).fma(((IntVector) h.convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), b0);
            b1 = ((FloatVector) tB.convertShape(VectorOperators.S2F, F, 1)).fma(((IntVector) h.convertShape(VectorOperators.S2I, I, 1))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), b1);
            h = ShortVector.fromMemorySegment(S, s, bA + sC, LE);
            c0 = ((FloatVector) tC.convertShape(VectorOperators.S2F, F, 0)).fma(((IntVector) h.convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), c0);
            c1 = ((FloatVector) tC.convertShape(VectorOperators.S2F, F, 1)).fma(((IntVector) h.convertShape(VectorOperators.S2I, I, 1))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), c1);
            h = ShortVector.fromMemorySegment(S, s, bA + sD, LE);
            d0 = ((FloatVector) tD.convertShape(VectorOperators.S2F, F, 0)).fma(((IntVector) h.convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(dxv), d0);
            d1 = ((FloatVector) tD.convertShape(VectorOperators.S2F, F, 1)).fma(((IntVector) h.convertShape(VectorOperators.S2I, I, 1))
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

    /** Each thread's row sums of {@link #groupsQuad}: four groups, four tokens. */
    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[16 * GQ]);

    /**
     * {@link #groups} for four tokens ({@code a[a0 + k]} into {@code out[o + k * stride ..]}, prefill):
     * one load and shift per column and group serve all four, about 5 vector operations per 64
     * weights and token in the column loop against 6.5, with the same integer sums and float
     * operations per token, so each output equals the one-token kernel's bit for bit. The row sums
     * go through a small per-thread array: 32 more vectors would not fit the registers beside the
     * loop's (a two-token version with its sums in registers spilled, and prefill ran at 0.6 times
     * the one-token kernel's rate). Written out like {@link #groups}: a helper taking vectors that C2
     * did not inline made prefill five times slower.
     */
    @Override
    void groupsQuad(long g, int nGroups, Q8Activations[] a, int a0, float[] out, int o, int stride) {
        Q8Activations x0 = a[a0 + 0];
        int[] xl0s = x0.lowTwice;
        int[] xh0s = x0.highTwice;
        short[] bias0 = x0.bias;
        float[] dx0 = x0.scale;
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xl0s.length);
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xh0s.length);
        Objects.checkFromIndexSize(0, blocksPerRow, bias0.length);
        Objects.checkFromIndexSize(0, blocksPerRow, dx0.length);
        Objects.checkFromIndexSize(o + 0 * stride, nGroups * GQ, out.length);
        Q8Activations x1 = a[a0 + 1];
        int[] xl1s = x1.lowTwice;
        int[] xh1s = x1.highTwice;
        short[] bias1 = x1.bias;
        float[] dx1 = x1.scale;
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xl1s.length);
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xh1s.length);
        Objects.checkFromIndexSize(0, blocksPerRow, bias1.length);
        Objects.checkFromIndexSize(0, blocksPerRow, dx1.length);
        Objects.checkFromIndexSize(o + 1 * stride, nGroups * GQ, out.length);
        Q8Activations x2 = a[a0 + 2];
        int[] xl2s = x2.lowTwice;
        int[] xh2s = x2.highTwice;
        short[] bias2 = x2.bias;
        float[] dx2 = x2.scale;
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xl2s.length);
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xh2s.length);
        Objects.checkFromIndexSize(0, blocksPerRow, bias2.length);
        Objects.checkFromIndexSize(0, blocksPerRow, dx2.length);
        Objects.checkFromIndexSize(o + 2 * stride, nGroups * GQ, out.length);
        Q8Activations x3 = a[a0 + 3];
        int[] xl3s = x3.lowTwice;
        int[] xh3s = x3.highTwice;
        short[] bias3 = x3.bias;
        float[] dx3 = x3.scale;
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xl3s.length);
        Objects.checkFromIndexSize(0, blocksPerRow * 16, xh3s.length);
        Objects.checkFromIndexSize(0, blocksPerRow, bias3.length);
        Objects.checkFromIndexSize(0, blocksPerRow, dx3.length);
        Objects.checkFromIndexSize(o + 3 * stride, nGroups * GQ, out.length);
        MemorySegment s = packed;
        int n = runGroups(g);
        int iA = indexInRun(g);
        int iB = nGroups > 1 ? iA + 1 : iA;
        int iC = nGroups > 2 ? iA + 2 : iA;
        int iD = nGroups > 3 ? iA + 3 : iA;
        long bA = runStart(g) * groupBytes;
        int sA = iA * 2 * GQ;
        int sB = iB * 2 * GQ;
        int sC = iC * 2 * GQ;
        int sD = iD * 2 * GQ;
        int qA = n * 2 * GQ + iA * GQ;
        int qB = n * 2 * GQ + iB * GQ;
        int qC = n * 2 * GQ + iC * GQ;
        int qD = n * 2 * GQ + iD * GQ;
        int column = n * GQ;
        // row sums of group i and token k at acc[(4 * i + k) * GQ ..]
        float[] acc = SUMS.get();
        Arrays.fill(acc, 0f);
        int step = n * groupBlockBytes;
        for (int b = 0, k0 = 0; b < blocksPerRow; b++, bA += step, k0 += 16) {
            ShortVector t0A = ShortVector.broadcast(S, bias0[b]);
            ShortVector t0B = t0A;
            ShortVector t0C = t0A;
            ShortVector t0D = t0A;
            ShortVector t1A = ShortVector.broadcast(S, bias1[b]);
            ShortVector t1B = t1A;
            ShortVector t1C = t1A;
            ShortVector t1D = t1A;
            ShortVector t2A = ShortVector.broadcast(S, bias2[b]);
            ShortVector t2B = t2A;
            ShortVector t2C = t2A;
            ShortVector t2D = t2A;
            ShortVector t3A = ShortVector.broadcast(S, bias3[b]);
            ShortVector t3B = t3A;
            ShortVector t3C = t3A;
            ShortVector t3D = t3A;
            long q = bA;
            for (int j = 0; j < 16; j++, q += column) {
                ShortVector l0 = IntVector.broadcast(I, xl0s[k0 + j]).reinterpretAsShorts();
                ShortVector h0 = IntVector.broadcast(I, xh0s[k0 + j]).reinterpretAsShorts();
                ShortVector l1 = IntVector.broadcast(I, xl1s[k0 + j]).reinterpretAsShorts();
                ShortVector h1 = IntVector.broadcast(I, xh1s[k0 + j]).reinterpretAsShorts();
                ShortVector l2 = IntVector.broadcast(I, xl2s[k0 + j]).reinterpretAsShorts();
                ShortVector h2 = IntVector.broadcast(I, xh2s[k0 + j]).reinterpretAsShorts();
                ShortVector l3 = IntVector.broadcast(I, xl3s[k0 + j]).reinterpretAsShorts();
                ShortVector h3 = IntVector.broadcast(I, xh3s[k0 + j]).reinterpretAsShorts();
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(BQ, s, q + qA, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector vh = v.lanewise(VectorOperators.ASHR, 4);
                // accumulators are arguments, never receivers (JitLimits: loop-carried receivers)
                t0A = v.mul(l0).add(vh.mul(h0)).add(t0A);
                t1A = v.mul(l1).add(vh.mul(h1)).add(t1A);
                t2A = v.mul(l2).add(vh.mul(h2)).add(t2A);
                t3A = v.mul(l3).add(vh.mul(h3)).add(t3A);
                v = (ShortVector) ByteVector.fromMemorySegment(BQ, s, q + qB, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                vh = v.lanewise(VectorOperators.ASHR, 4);
                t0B = v.mul(l0).add(vh.mul(h0)).add(t0B);
                t1B = v.mul(l1).add(vh.mul(h1)).add(t1B);
                t2B = v.mul(l2).add(vh.mul(h2)).add(t2B);
                t3B = v.mul(l3).add(vh.mul(h3)).add(t3B);
                v = (ShortVector) ByteVector.fromMemorySegment(BQ, s, q + qC, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                vh = v.lanewise(VectorOperators.ASHR, 4);
                t0C = v.mul(l0).add(vh.mul(h0)).add(t0C);
                t1C = v.mul(l1).add(vh.mul(h1)).add(t1C);
                t2C = v.mul(l2).add(vh.mul(h2)).add(t2C);
                t3C = v.mul(l3).add(vh.mul(h3)).add(t3C);
                v = (ShortVector) ByteVector.fromMemorySegment(BQ, s, q + qD, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                vh = v.lanewise(VectorOperators.ASHR, 4);
                t0D = v.mul(l0).add(vh.mul(h0)).add(t0D);
                t1D = v.mul(l1).add(vh.mul(h1)).add(t1D);
                t2D = v.mul(l2).add(vh.mul(h2)).add(t2D);
                t3D = v.mul(l3).add(vh.mul(h3)).add(t3D);
            }
            FloatVector d0 = FloatVector.broadcast(F, dx0[b]);
            FloatVector d1 = FloatVector.broadcast(F, dx1[b]);
            FloatVector d2 = FloatVector.broadcast(F, dx2[b]);
            FloatVector d3 = FloatVector.broadcast(F, dx3[b]);
            ShortVector h = ShortVector.fromMemorySegment(S, s, bA + sA, LE);
            FloatVector sc0 = ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(LSHL, 13)
                    .and(SIGN_AND_MAGNITUDE).reinterpretAsFloats();
            FloatVector sc1 = ((IntVector) h.convertShape(VectorOperators.S2I, I, 1)).lanewise(LSHL, 13)
                    .and(SIGN_AND_MAGNITUDE).reinterpretAsFloats();
            ((FloatVector) t0A.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d0),
                    FloatVector.fromArray(F, acc, 0 * GQ + 0 * G)).intoArray(acc, 0 * GQ + 0 * G);
            ((FloatVector) t0A.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d0),
                    FloatVector.fromArray(F, acc, 0 * GQ + 1 * G)).intoArray(acc, 0 * GQ + 1 * G);
            ((FloatVector) t1A.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d1),
                    FloatVector.fromArray(F, acc, 1 * GQ + 0 * G)).intoArray(acc, 1 * GQ + 0 * G);
            ((FloatVector) t1A.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d1),
                    FloatVector.fromArray(F, acc, 1 * GQ + 1 * G)).intoArray(acc, 1 * GQ + 1 * G);
            ((FloatVector) t2A.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d2),
                    FloatVector.fromArray(F, acc, 2 * GQ + 0 * G)).intoArray(acc, 2 * GQ + 0 * G);
            ((FloatVector) t2A.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d2),
                    FloatVector.fromArray(F, acc, 2 * GQ + 1 * G)).intoArray(acc, 2 * GQ + 1 * G);
            ((FloatVector) t3A.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d3),
                    FloatVector.fromArray(F, acc, 3 * GQ + 0 * G)).intoArray(acc, 3 * GQ + 0 * G);
            ((FloatVector) t3A.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d3),
                    FloatVector.fromArray(F, acc, 3 * GQ + 1 * G)).intoArray(acc, 3 * GQ + 1 * G);
            h = ShortVector.fromMemorySegment(S, s, bA + sB, LE);
            sc0 = ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(LSHL, 13)
                    .and(SIGN_AND_MAGNITUDE).reinterpretAsFloats();
            sc1 = ((IntVector) h.convertShape(VectorOperators.S2I, I, 1)).lanewise(LSHL, 13)
                    .and(SIGN_AND_MAGNITUDE).reinterpretAsFloats();
            ((FloatVector) t0B.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d0),
                    FloatVector.fromArray(F, acc, 4 * GQ + 0 * G)).intoArray(acc, 4 * GQ + 0 * G);
            ((FloatVector) t0B.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d0),
                    FloatVector.fromArray(F, acc, 4 * GQ + 1 * G)).intoArray(acc, 4 * GQ + 1 * G);
            ((FloatVector) t1B.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d1),
                    FloatVector.fromArray(F, acc, 5 * GQ + 0 * G)).intoArray(acc, 5 * GQ + 0 * G);
            ((FloatVector) t1B.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d1),
                    FloatVector.fromArray(F, acc, 5 * GQ + 1 * G)).intoArray(acc, 5 * GQ + 1 * G);
            ((FloatVector) t2B.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d2),
                    FloatVector.fromArray(F, acc, 6 * GQ + 0 * G)).intoArray(acc, 6 * GQ + 0 * G);
            ((FloatVector) t2B.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d2),
                    FloatVector.fromArray(F, acc, 6 * GQ + 1 * G)).intoArray(acc, 6 * GQ + 1 * G);
            ((FloatVector) t3B.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d3),
                    FloatVector.fromArray(F, acc, 7 * GQ + 0 * G)).intoArray(acc, 7 * GQ + 0 * G);
            ((FloatVector) t3B.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d3),
                    FloatVector.fromArray(F, acc, 7 * GQ + 1 * G)).intoArray(acc, 7 * GQ + 1 * G);
            h = ShortVector.fromMemorySegment(S, s, bA + sC, LE);
            sc0 = ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(LSHL, 13)
                    .and(SIGN_AND_MAGNITUDE).reinterpretAsFloats();
            sc1 = ((IntVector) h.convertShape(VectorOperators.S2I, I, 1)).lanewise(LSHL, 13)
                    .and(SIGN_AND_MAGNITUDE).reinterpretAsFloats();
            ((FloatVector) t0C.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d0),
                    FloatVector.fromArray(F, acc, 8 * GQ + 0 * G)).intoArray(acc, 8 * GQ + 0 * G);
            ((FloatVector) t0C.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d0),
                    FloatVector.fromArray(F, acc, 8 * GQ + 1 * G)).intoArray(acc, 8 * GQ + 1 * G);
            ((FloatVector) t1C.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d1),
                    FloatVector.fromArray(F, acc, 9 * GQ + 0 * G)).intoArray(acc, 9 * GQ + 0 * G);
            ((FloatVector) t1C.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d1),
                    FloatVector.fromArray(F, acc, 9 * GQ + 1 * G)).intoArray(acc, 9 * GQ + 1 * G);
            ((FloatVector) t2C.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d2),
                    FloatVector.fromArray(F, acc, 10 * GQ + 0 * G)).intoArray(acc, 10 * GQ + 0 * G);
            ((FloatVector) t2C.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d2),
                    FloatVector.fromArray(F, acc, 10 * GQ + 1 * G)).intoArray(acc, 10 * GQ + 1 * G);
            ((FloatVector) t3C.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d3),
                    FloatVector.fromArray(F, acc, 11 * GQ + 0 * G)).intoArray(acc, 11 * GQ + 0 * G);
            ((FloatVector) t3C.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d3),
                    FloatVector.fromArray(F, acc, 11 * GQ + 1 * G)).intoArray(acc, 11 * GQ + 1 * G);
            h = ShortVector.fromMemorySegment(S, s, bA + sD, LE);
            sc0 = ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(LSHL, 13)
                    .and(SIGN_AND_MAGNITUDE).reinterpretAsFloats();
            sc1 = ((IntVector) h.convertShape(VectorOperators.S2I, I, 1)).lanewise(LSHL, 13)
                    .and(SIGN_AND_MAGNITUDE).reinterpretAsFloats();
            ((FloatVector) t0D.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d0),
                    FloatVector.fromArray(F, acc, 12 * GQ + 0 * G)).intoArray(acc, 12 * GQ + 0 * G);
            ((FloatVector) t0D.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d0),
                    FloatVector.fromArray(F, acc, 12 * GQ + 1 * G)).intoArray(acc, 12 * GQ + 1 * G);
            ((FloatVector) t1D.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d1),
                    FloatVector.fromArray(F, acc, 13 * GQ + 0 * G)).intoArray(acc, 13 * GQ + 0 * G);
            ((FloatVector) t1D.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d1),
                    FloatVector.fromArray(F, acc, 13 * GQ + 1 * G)).intoArray(acc, 13 * GQ + 1 * G);
            ((FloatVector) t2D.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d2),
                    FloatVector.fromArray(F, acc, 14 * GQ + 0 * G)).intoArray(acc, 14 * GQ + 0 * G);
            ((FloatVector) t2D.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d2),
                    FloatVector.fromArray(F, acc, 14 * GQ + 1 * G)).intoArray(acc, 14 * GQ + 1 * G);
            ((FloatVector) t3D.convertShape(VectorOperators.S2F, F, 0)).fma(sc0.mul(d3),
                    FloatVector.fromArray(F, acc, 15 * GQ + 0 * G)).intoArray(acc, 15 * GQ + 0 * G);
            ((FloatVector) t3D.convertShape(VectorOperators.S2F, F, 1)).fma(sc1.mul(d3),
                    FloatVector.fromArray(F, acc, 15 * GQ + 1 * G)).intoArray(acc, 15 * GQ + 1 * G);
        }
        for (int i = nGroups - 1; i >= 0; i--) {
            for (int k = 3; k >= 0; k--) {
                System.arraycopy(acc, (4 * i + k) * GQ, out, o + k * stride + i * GQ, GQ);
            }
        }
    }

    @Override
    float rowScalar(long row, float[] x, int xOff) {
        Q8Activations a = new Q8Activations();
        if (!a.quantizeScalar(x, xOff, blocksPerRow)) {
            return source.dotScalar(row, x, xOff);
        }
        float acc = 0f;
        for (int b = 0; b < blocksPerRow; b++) {
            int t = a.bias[b];
            for (int j = 0; j < 16; j++) {
                int v = quant(row, b, j) & 0xFF;
                t += (v & 15) * a.q[32 * b + j] + (v >> 4) * a.q[32 * b + j + 16];
            }
            float s = scaledDown(scaleBits(row, b)) * a.scale[b];
            acc = Math.fma((float) t, s, acc);
        }
        return acc;
    }

    @Override
    float weight(long row, int col) {
        int v = quant(row, col / 32, col % 16) & 0xFF;
        int q = col % 32 < 16 ? v & 15 : v >> 4;
        return (q - 8) * Float.float16ToFloat(scaleBits(row, col / 32));
    }

    private short scaleBits(long row, int b) {
        return packed.get(LE_SHORT, scaleOffset(row, b));
    }

    private byte quant(long row, int b, int column) {
        return packed.get(ValueLayout.JAVA_BYTE, columnOffset(row, b, column) + laneOf(row));
    }
}
