package dev.taipan.quant;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.LargePages;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import dev.taipan.tensor.Tensors;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.stream.IntStream;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 or Q4_0 weights repacked at load for the one-token matvec of decode, in the spirit of
 * llama.cpp's CPU "repack" buffers ({@code ggml-cpu/repack.cpp}, e.g. {@code block_q4_0x8}): the
 * rows are cut into groups of {@link #G} (the float vector's lanes, 16 with AVX-512) and each
 * group's blocks are stored column by column, so one vector load holds the same weight of
 * {@code G} rows. The matvec then broadcasts one activation per weight column and multiplies it
 * into a vector of {@code G} row sums: no horizontal sums, no per-row scale broadcast, and the
 * scales are stored as f32 (exactly the fp16 values). Where the mapped kernels ({@link Q8_0Tensor},
 * {@link Q4_0Tensor}) spend about 10 vector operations per block and row, this one spends about 7,
 * and one kernel call streams four groups (four prefetch streams sharing each broadcast activation).
 * Measured with {@code benchmarks/.../KernelProbe matvec}: 2.0-2.4x the mapped kernels per block,
 * from cache and from DRAM. The copy costs 36 bytes per Q8_0 block (34 mapped) and 20 per Q4_0
 * block (18), off the Java heap ({@link LargePages}); the mapped file is read once to make it.
 *
 * <p>Layout of group {@code g}, block {@code b} (at {@code (g * blocksPerRow + b) * groupBlockBytes}):
 * {@code G} f32 scales (row order), then the quants: Q8_0: 32 columns of {@code G} int8
 * ({@code q[j]} of every row); Q4_0: 16 columns of {@code G} bytes, the mapped byte {@code j}
 * of each row XOR {@code 0x88}, so that the sign-extended byte {@code v} holds
 * {@code v & -16 = 16 * (q[j + 16] - 8)} and {@code v << 28 = 2^28 * (q[j] - 8)}, both exact.
 *
 * <p>The tensor keeps the mapped tensor it was made from: {@link #data()} returns the mapped bytes
 * (the file's layout, for writers and byte counts), and {@link #matmul} (prefill, many tokens per
 * weight) runs the mapped tensor's tiled path. Each output of {@link #dot}, {@link #dotRows} and
 * {@link #matvec} is computed by one kernel in one order whatever the thread count, the run of
 * rows or the group's neighbours, and equals {@link #dotScalar} bit for bit; it differs from the
 * mapped kernels' float sums only in summation order.
 */
public abstract sealed class RepackedTensor implements Tensor permits RepackedTensor.Q8_0, RepackedTensor.Q4_0 {

    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final VectorOperators.Conversion<Byte, Float> B2F = VectorOperators.B2F;
    static final VectorOperators.Conversion<Byte, Integer> B2I = VectorOperators.B2I;
    static final VectorOperators.Conversion<Integer, Float> I2F = VectorOperators.I2F;
    static final VectorOperators.Binary LSHL = VectorOperators.LSHL;
    /** Rows per group: one float vector's lanes. */
    public static final int G = F.length();
    /** Loads of {@code G} bytes, widened to one float vector. */
    static final VectorSpecies<Byte> BG = G == 8 || G == 16
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(G * 8)) : null;

    protected final QuantizedTensor source;
    protected final MemorySegment packed;
    protected final long groups;
    protected final int blocksPerRow;
    protected final int groupBlockBytes;
    protected final long groupBytes;

    RepackedTensor(QuantizedTensor source, MemorySegment packed, int quantBytes) {
        this.source = source;
        this.packed = packed;
        this.groups = source.rows() / G;
        this.blocksPerRow = source.cols() / 32;
        this.groupBlockBytes = 4 * G + quantBytes * G;
        this.groupBytes = (long) blocksPerRow * groupBlockBytes;
        if (packed.byteSize() != groups * groupBytes) {
            throw new IllegalArgumentException("tensor '" + source.name() + "': repacked bytes " + packed.byteSize()
                    + ", expected " + groups * groupBytes);
        }
    }

    /**
     * Whether {@code t} can be repacked: Q8_0 or Q4_0, every matrix of it (the last two dimensions)
     * a whole number of row groups, and a vector of 8 or 16 float lanes.
     */
    public static boolean supports(Tensor t) {
        if (BG == null || !(t instanceof Q8_0Tensor || t instanceof Q4_0Tensor) || t.shape().rank() < 2) {
            return false;
        }
        Shape s = t.shape();
        return s.dim(s.rank() - 2) % G == 0;
    }

    /** Bytes the repacked copy of {@code t} takes ({@link #supports} must hold). */
    public static long packedBytes(Tensor t) {
        int quantBytes = t.type() == DType.Q8_0 ? 32 : 16;
        return t.rows() / G * (t.cols() / 32) * (4L * G + (long) quantBytes * G);
    }

    /**
     * The repacked copy of {@code t}, written into memory from {@code arena} (huge pages where the OS
     * has them, {@link LargePages}) by the common pool's threads, or by the caller's alone when
     * either segment is confined to it; {@code t} stays the source of {@link #data()} and prefill.
     *
     * @throws IllegalArgumentException naming the tensor when {@link #supports} does not hold
     */
    public static RepackedTensor of(Tensor t, Arena arena) {
        if (!supports(t)) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' (" + t.type() + " " + t.shape()
                    + ") cannot be repacked: Q8_0 or Q4_0 with rows a multiple of " + G + " only");
        }
        QuantizedTensor q = (QuantizedTensor) t;
        MemorySegment dst = LargePages.allocate(packedBytes(t), arena);
        long groups = t.rows() / G;
        int blocks = t.cols() / 32;
        boolean q8 = t.type() == DType.Q8_0;
        int gbb = 4 * G + (q8 ? 32 : 16) * G;
        // the common pool's threads copy when both segments can be reached from other threads
        Thread other = new Thread(() -> { });
        IntStream range = IntStream.range(0, Math.toIntExact(groups));
        if (q.data().isAccessibleBy(other) && dst.isAccessibleBy(other)) {
            range = range.parallel();
        }
        range.forEach(g -> {
            byte[] rows = new byte[G * (int) q.rowBytes()];
            byte[] out = new byte[blocks * gbb];
            MemorySegment.copy(q.data(), ValueLayout.JAVA_BYTE, (long) g * G * q.rowBytes(), rows, 0, rows.length);
            for (int b = 0; b < blocks; b++) {
                if (q8) {
                    Q8_0.packBlock(rows, b, out, b * gbb);
                } else {
                    Q4_0.packBlock(rows, b, out, b * gbb);
                }
            }
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, (long) g * blocks * gbb, out.length);
        });
        return q8 ? new Q8_0(q, dst) : new Q4_0(q, dst);
    }

    /** Groups one kernel call streams at once (each its own prefetch stream, the activations shared). */
    static final int MAX_GROUPS = 4;

    /**
     * Rows {@code [g * G, (g + nGroups) * G)} (nGroups 1 to {@link #MAX_GROUPS}) dotted with
     * {@code x[xOff ..]}, written to {@code out[o ..]}. The kernels always run four groups; with
     * fewer, the missing ones repeat group {@code g} and are not stored.
     */
    abstract void groups(long g, int nGroups, float[] x, int xOff, float[] out, int o);

    /** Scalar twin of {@link #groups} for one row: the same operations in the same order. */
    abstract float rowScalar(long row, float[] x, int xOff);

    /** The quant of row {@code row}, column {@code col}, times its block's scale, exactly as ggml decodes it. */
    abstract float weight(long row, int col);

    @Override
    public final String name() {
        return source.name();
    }

    @Override
    public final DType type() {
        return source.type();
    }

    @Override
    public final Shape shape() {
        return source.shape();
    }

    /** The mapped bytes in the file's layout (not the repacked copy). */
    @Override
    public final MemorySegment data() {
        return source.data();
    }

    /** The repacked bytes (tests, byte counts). */
    public final MemorySegment packed() {
        return packed;
    }

    @Override
    public final void row(long row, float[] dst, int dstOff) {
        Objects.checkIndex(row, source.rows());
        Objects.checkFromIndexSize(dstOff, source.cols(), dst.length);
        for (int c = 0; c < source.cols(); c++) {
            dst[dstOff + c] = weight(row, c);
        }
    }

    @Override
    public final float get(long index) {
        Objects.checkIndex(index, shape().elementCount());
        return weight(index / source.cols(), (int) (index % source.cols()));
    }

    @Override
    public final float dot(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        float[] lanes = new float[G];
        groups(row / G, 1, x, xOff, lanes, 0);
        return lanes[(int) (row % G)];
    }

    @Override
    public final float dotScalar(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        return rowScalar(row, x, xOff);
    }

    /** Whole groups four at a time; a run's partial groups at either end through one group's kernel. */
    @Override
    public final void dotRows(long first, int count, float[] x, int xOff, float[] out, int outOff) {
        if (count == 0) {
            return;
        }
        checkDot(first, x, xOff);
        Objects.checkIndex(first + count - 1, source.rows());
        Objects.checkFromIndexSize(outOff, count, out.length);
        long end = first + count;
        long r = first;
        float[] lanes = null;
        while (r < end) {
            int o = outOff + (int) (r - first);
            int lane = (int) (r % G);
            long whole = lane == 0 ? Math.min(MAX_GROUPS, (end - r) / G) : 0;
            if (whole > 0) {
                groups(r / G, (int) whole, x, xOff, out, o);
                r += whole * G;
            } else {
                lanes = lanes == null ? new float[G] : lanes;
                groups(r / G, 1, x, xOff, lanes, 0);
                int n = (int) Math.min(G - lane, end - r);
                System.arraycopy(lanes, lane, out, o, n);
                r += n;
            }
        }
    }

    /**
     * Runs of four groups split across {@code par}'s workers, so that only the matrix's last run can
     * be shorter (a kernel call always computes four groups).
     */
    @Override
    public final void matvec(float[] out, float[] x, Parallel par) {
        Tensors.checkMatvec(this, out, x, 1);
        int runs = Math.toIntExact((groups + MAX_GROUPS - 1) / MAX_GROUPS);
        par.forRange(runs, (start, end) -> {
            long first = (long) start * MAX_GROUPS * G;
            long last = Math.min(groups, (long) end * MAX_GROUPS) * G;
            dotRows(first, Math.toIntExact(last - first), x, 0, out, Math.toIntExact(first));
        });
    }

    /** Prefill: the mapped tensor's tiled path (many tokens per weight; the layout does not matter). */
    @Override
    public final void matmul(float[] out, float[] x, int nTokens, Parallel par) {
        source.matmul(out, x, nTokens, par);
    }

    /** Matrix {@code index} of a 3-D tensor (its rows stay repacked); a row of a matrix is the mapped row. */
    @Override
    public final Tensor slice(long index) {
        Tensor inner = source.slice(index);
        if (inner.shape().rank() < 2) {
            return inner;
        }
        long innerGroups = inner.rows() / G;
        MemorySegment bytes = packed.asSlice(index * innerGroups * groupBytes, innerGroups * groupBytes);
        return this instanceof Q8_0 ? new Q8_0((QuantizedTensor) inner, bytes) : new Q4_0((QuantizedTensor) inner, bytes);
    }

    @Override
    public String toString() {
        return source + " (repacked, " + G + "-row groups)";
    }

    final void checkDot(long row, float[] x, int xOff) {
        Objects.checkIndex(row, source.rows());
        Objects.checkFromIndexSize(xOff, source.cols(), x.length);
    }

    final float scale(long row, int block) {
        long off = ((row / G) * blocksPerRow + block) * groupBlockBytes + 4 * (row % G);
        return packed.get(LE_FLOAT, off);
    }

    final byte quant(long row, int block, int column) {
        long off = ((row / G) * blocksPerRow + block) * groupBlockBytes + 4L * G + (long) column * G + row % G;
        return packed.get(ValueLayout.JAVA_BYTE, off);
    }

    static float fp16(byte[] rows, int off) {
        return Float.float16ToFloat((short) ((rows[off] & 0xFF) | (rows[off + 1] << 8)));
    }

    static void putFloat(byte[] out, int off, float v) {
        int bits = Float.floatToRawIntBits(v);
        out[off] = (byte) bits;
        out[off + 1] = (byte) (bits >>> 8);
        out[off + 2] = (byte) (bits >>> 16);
        out[off + 3] = (byte) (bits >>> 24);
    }

    /**
     * Q8_0 repacked: per group and block, {@code G} f32 scales then 32 columns of {@code G} int8.
     * Each row's block sum is {@code p * d}, {@code p} the FMA chain over the 32 columns in order.
     */
    public static final class Q8_0 extends RepackedTensor {

        Q8_0(QuantizedTensor source, MemorySegment packed) {
            super(source, packed, 32);
        }

        // the G rows of block b of rows (G mapped rows of 34-byte blocks) into out[o ..]
        static void packBlock(byte[] rows, int b, byte[] out, int o) {
            int rowBytes = rows.length / G;
            for (int r = 0; r < G; r++) {
                int src = r * rowBytes + b * 34;
                putFloat(out, o + 4 * r, fp16(rows, src));
                for (int j = 0; j < 32; j++) {
                    out[o + 4 * G + j * G + r] = rows[src + 2 + j];
                }
            }
        }

        @Override
        void groups(long g, int nGroups, float[] x, int xOff, float[] out, int o) {
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
                long q = 4L * G;
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
                accA = pA.fma(FloatVector.fromMemorySegment(F, s, bA, LE), accA);
                accB = pB.fma(FloatVector.fromMemorySegment(F, s, bB, LE), accB);
                accC = pC.fma(FloatVector.fromMemorySegment(F, s, bC, LE), accC);
                accD = pD.fma(FloatVector.fromMemorySegment(F, s, bD, LE), accD);
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
    }

    /**
     * Q4_0 repacked: per group and block, {@code G} f32 scales {@code d / 16} (exact) then 16
     * columns of {@code G} bytes (mapped byte XOR 0x88). Each row's block sum is
     * {@code fma(lo, 2^-24, hi) * d / 16}: {@code lo} the FMA chain of {@code 2^28 (q[j] - 8) x[j]},
     * {@code hi} that of {@code 16 (q[j + 16] - 8) x[j + 16]}; the powers of two are exact, so
     * this is {@code d * sum((q - 8) x)} summed in that order.
     */
    public static final class Q4_0 extends RepackedTensor {

        private static final float LO_TO_HI = 0x1p-24f;

        Q4_0(QuantizedTensor source, MemorySegment packed) {
            super(source, packed, 16);
        }

        static void packBlock(byte[] rows, int b, byte[] out, int o) {
            int rowBytes = rows.length / G;
            for (int r = 0; r < G; r++) {
                int src = r * rowBytes + b * 18;
                putFloat(out, o + 4 * r, fp16(rows, src) / 16f);
                for (int j = 0; j < 16; j++) {
                    out[o + 4 * G + j * G + r] = (byte) (rows[src + 2 + j] ^ 0x88);
                }
            }
        }

        @Override
        void groups(long g, int nGroups, float[] x, int xOff, float[] out, int o) {
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
            FloatVector loToHi = FloatVector.broadcast(F, LO_TO_HI);
            int step = groupBlockBytes;
            for (int b = 0, xi = xOff; b < blocksPerRow; b++, bA += step, bB += step, bC += step, bD += step, xi += 32) {
                FloatVector loA = FloatVector.zero(F);
                FloatVector hiA = loA;
                FloatVector loB = loA;
                FloatVector hiB = loA;
                FloatVector loC = loA;
                FloatVector hiC = loA;
                FloatVector loD = loA;
                FloatVector hiD = loA;
                // written out here, not in helpers: a helper C2 does not inline boxes its vector.
                // lo: v << 28 = 2^28 (q[j] - 8); hi: v & -16 = 16 (q[j + 16] - 8)
                long q = 4L * G;
                for (int j = 0; j < 16; j++, q += G) {
                    FloatVector xl = FloatVector.broadcast(F, x[xi + j]);
                    FloatVector xh = FloatVector.broadcast(F, x[xi + j + 16]);
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(BG, s, bA + q, LE).convertShape(B2I, I, 0);
                    loA = ((FloatVector) v.lanewise(LSHL, 28).convert(I2F, 0)).fma(xl, loA);
                    hiA = ((FloatVector) v.and(-16).convert(I2F, 0)).fma(xh, hiA);
                    v = (IntVector) ByteVector.fromMemorySegment(BG, s, bB + q, LE).convertShape(B2I, I, 0);
                    loB = ((FloatVector) v.lanewise(LSHL, 28).convert(I2F, 0)).fma(xl, loB);
                    hiB = ((FloatVector) v.and(-16).convert(I2F, 0)).fma(xh, hiB);
                    v = (IntVector) ByteVector.fromMemorySegment(BG, s, bC + q, LE).convertShape(B2I, I, 0);
                    loC = ((FloatVector) v.lanewise(LSHL, 28).convert(I2F, 0)).fma(xl, loC);
                    hiC = ((FloatVector) v.and(-16).convert(I2F, 0)).fma(xh, hiC);
                    v = (IntVector) ByteVector.fromMemorySegment(BG, s, bD + q, LE).convertShape(B2I, I, 0);
                    loD = ((FloatVector) v.lanewise(LSHL, 28).convert(I2F, 0)).fma(xl, loD);
                    hiD = ((FloatVector) v.and(-16).convert(I2F, 0)).fma(xh, hiD);
                }
                accA = loA.fma(loToHi, hiA).fma(FloatVector.fromMemorySegment(F, s, bA, LE), accA);
                accB = loB.fma(loToHi, hiB).fma(FloatVector.fromMemorySegment(F, s, bB, LE), accB);
                accC = loC.fma(loToHi, hiC).fma(FloatVector.fromMemorySegment(F, s, bC, LE), accC);
                accD = loD.fma(loToHi, hiD).fma(FloatVector.fromMemorySegment(F, s, bD, LE), accD);
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
        float rowScalar(long row, float[] x, int xOff) {
            float acc = 0f;
            for (int b = 0; b < blocksPerRow; b++) {
                int xi = xOff + 32 * b;
                float lo = 0f;
                float hi = 0f;
                for (int j = 0; j < 16; j++) {
                    int v = quant(row, b, j);
                    lo = Math.fma((float) (v << 28), x[xi + j], lo);
                    hi = Math.fma((float) (v & -16), x[xi + j + 16], hi);
                }
                acc = Math.fma(Math.fma(lo, LO_TO_HI, hi), scale(row, b), acc);
            }
            return acc;
        }

        @Override
        float weight(long row, int col) {
            int v = quant(row, col / 32, col % 16);
            int q = col % 32 < 16 ? (v << 28) >> 28 : v >> 4;
            // (q - 8) * d, as ggml: the stored scale is d / 16
            return q * (scale(row, col / 32) * 16f);
        }
    }
}
