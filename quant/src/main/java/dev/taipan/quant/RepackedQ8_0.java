package dev.taipan.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 repacked: per group and block, {@code G} fp16 scales then 32 columns of {@code G} int8, the
 * mapped bytes (34 per row and block). Each row's block sum is {@code p * d}, {@code p} the FMA chain
 * over the 32 columns in order, {@code d} the fp16 scale decoded exactly ({@link #scaledDown} times
 * {@code 2^112}).
 */
public final class RepackedQ8_0 extends RepackedTensor {

    /** Loads of the {@code G} fp16 scales of a block. */
    static final VectorSpecies<Short> SG = BG == null ? null
            : VectorSpecies.of(short.class, VectorShape.forBitSize(G * 16));
    /** {@code 2^112}, undoing {@link #scaledDown}'s exponent shift exactly. */
    private static final float UP = 0x1p112f;

    RepackedQ8_0(QuantizedTensor source, MemorySegment packed) {
        super(source, packed);
    }

    /**
     * Block {@code b} of the {@code G} mapped rows (34-byte blocks, first row {@code first}) in
     * {@code rows} into {@code out[o ..]}.
     */
    static void packBlock(String name, long first, byte[] rows, int b, byte[] out, int o) {
        int rowBytes = rows.length / G;
        for (int r = 0; r < G; r++) {
            int src = r * rowBytes + b * 34;
            checkFiniteScale(name, first + r, b, rows, src);
            out[o + 2 * r] = rows[src];
            out[o + 2 * r + 1] = rows[src + 1];
            for (int j = 0; j < 32; j++) {
                out[o + 2 * G + j * G + r] = rows[src + 2 + j];
            }
        }
    }

    @Override
    Q8Activations prepare(float[] x, int xOff) {
        return Q8Activations.scratch().floats(x, xOff);
    }

    @Override
    void groups(long g, int nGroups, Q8Activations a, float[] out, int o) {
        float[] x = a.x;
        int xOff = a.xOff;
        Objects.checkFromIndexSize(xOff, blocksPerRow * 32, x.length);
        Objects.checkFromIndexSize(o, nGroups * G, out.length);
        MemorySegment s = packed;
        long bA = g * groupBytes;
        long bB = nGroups > 1 ? bA + groupBytes : bA;
        long bC = nGroups > 2 ? bA + 2 * groupBytes : bA;
        long bD = nGroups > 3 ? bA + 3 * groupBytes : bA;
        FloatVector accA = FloatVector.zero(F);
        FloatVector accB = accA;
        FloatVector accC = accA;
        FloatVector accD = accA;
        int step = groupBlockBytes;
        for (int b = 0, xi = xOff; b < blocksPerRow; b++, bA += step, bB += step, bC += step, bD += step, xi += 32) {
            // column 0, then one FMA per column; loads written out here, not in helpers: a
            // helper C2 does not inline boxes its vector
            long q = 2L * G;
            FloatVector xj = FloatVector.broadcast(F, x[xi]);
            FloatVector pA = ((FloatVector) ByteVector.fromMemorySegment(BG, s, bA + q, LE).convertShape(B2F, F, 0)).mul(xj);
            FloatVector pB = ((FloatVector) ByteVector.fromMemorySegment(BG, s, bB + q, LE).convertShape(B2F, F, 0)).mul(xj);
            FloatVector pC = ((FloatVector) ByteVector.fromMemorySegment(BG, s, bC + q, LE).convertShape(B2F, F, 0)).mul(xj);
            FloatVector pD = ((FloatVector) ByteVector.fromMemorySegment(BG, s, bD + q, LE).convertShape(B2F, F, 0)).mul(xj);
            for (int j = 1; j < 32; j++) {
                xj = FloatVector.broadcast(F, x[xi + j]);
                q += G;
                pA = ((FloatVector) ByteVector.fromMemorySegment(BG, s, bA + q, LE).convertShape(B2F, F, 0)).fma(xj, pA);
                pB = ((FloatVector) ByteVector.fromMemorySegment(BG, s, bB + q, LE).convertShape(B2F, F, 0)).fma(xj, pB);
                pC = ((FloatVector) ByteVector.fromMemorySegment(BG, s, bC + q, LE).convertShape(B2F, F, 0)).fma(xj, pC);
                pD = ((FloatVector) ByteVector.fromMemorySegment(BG, s, bD + q, LE).convertShape(B2F, F, 0)).fma(xj, pD);
            }
            accA = pA.fma(((IntVector) ShortVector.fromMemorySegment(SG, s, bA, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(UP), accA);
            accB = pB.fma(((IntVector) ShortVector.fromMemorySegment(SG, s, bB, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(UP), accB);
            accC = pC.fma(((IntVector) ShortVector.fromMemorySegment(SG, s, bC, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(UP), accC);
            accD = pD.fma(((IntVector) ShortVector.fromMemorySegment(SG, s, bD, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(UP), accD);
        }
        accA.intoArray(out, o);
        if (nGroups > 1) {
            accB.intoArray(out, o + G);
        }
        if (nGroups > 2) {
            accC.intoArray(out, o + 2 * G);
        }
        if (nGroups > 3) {
            accD.intoArray(out, o + 3 * G);
        }
    }

    @Override
    void group(long g, Q8Activations a, float[] out, int o) {
        float[] x = a.x;
        int xOff = a.xOff;
        Objects.checkFromIndexSize(xOff, blocksPerRow * 32, x.length);
        Objects.checkFromIndexSize(o, G, out.length);
        MemorySegment s = packed;
        long bA = g * groupBytes;
        FloatVector accA = FloatVector.zero(F);
        int step = groupBlockBytes;
        for (int b = 0, xi = xOff; b < blocksPerRow; b++, bA += step, xi += 32) {
            // column 0, then one FMA per column; loads written out here, not in helpers: a
            // helper C2 does not inline boxes its vector
            long q = 2L * G;
            FloatVector xj = FloatVector.broadcast(F, x[xi]);
            FloatVector pA = ((FloatVector) ByteVector.fromMemorySegment(BG, s, bA + q, LE).convertShape(B2F, F, 0)).mul(xj);
            for (int j = 1; j < 32; j++) {
                xj = FloatVector.broadcast(F, x[xi + j]);
                q += G;
                pA = ((FloatVector) ByteVector.fromMemorySegment(BG, s, bA + q, LE).convertShape(B2F, F, 0)).fma(xj, pA);
            }
            accA = pA.fma(((IntVector) ShortVector.fromMemorySegment(SG, s, bA, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().mul(UP), accA);
        }
        accA.intoArray(out, o);
    }

    @Override
    float rowScalar(long row, float[] x, int xOff) {
        float acc = 0f;
        for (int b = 0; b < blocksPerRow; b++) {
            int xi = xOff + 32 * b;
            float p = quant(row, b, 0) * x[xi];
            for (int j = 1; j < 32; j++) {
                p = Math.fma(quant(row, b, j), x[xi + j], p);
            }
            acc = Math.fma(p, scale(row, b), acc);
        }
        return acc;
    }

    @Override
    float weight(long row, int col) {
        return quant(row, col / 32, col % 32) * scale(row, col / 32);
    }

    private float scale(long row, int b) {
        return scaledDown(packed.get(LE_SHORT, scaleOffset(row, b))) * UP;
    }

    private byte quant(long row, int b, int column) {
        return packed.get(ValueLayout.JAVA_BYTE, quantOffset(row, b, column));
    }
}
