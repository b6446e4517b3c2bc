package dev.taipan.quant;

import dev.taipan.tensor.AbstractTensor;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensors;
import dev.taipan.tensor.TiledMatmul;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Common part of the ggml block formats (layouts in ggml-common.h, dequantization in
 * ggml-quants.c, llama.cpp 34af94cd). A row is a sequence of {@code cols / blockSize} blocks of
 * {@code blockBytes} bytes. A subclass supplies {@link #dequantizeBlock}, a transcription of
 * ggml's {@code dequantize_row_*} for one block that gives bit-identical floats, and a Vector API
 * {@link #dot} that unpacks each block into registers and multiplies it into the float activation
 * without writing the weights anywhere: 16 bytes are loaded at a time, widened to int lanes
 * (where nibbles and bit fields are cut out), converted to float and FMA'd with {@code x}.
 *
 * <p>Where ggml computes {@code w = scale * q - min} per element (two roundings), the K-quant
 * kernels form {@code w} with one fused multiply-add (one rounding) before the FMA with {@code x};
 * the formats whose block has a single scale and no min (Q8_0, Q4_0, Q5_0) sum {@code q * x} over
 * the block and multiply by the scale once. Both equal the float dot product with the exact
 * dequantized weights up to float rounding (the tests bound the difference). Activations are never quantized
 * (unlike ggml's CPU backend, which quantizes them to Q8_0/Q8_K): results equal a float dot
 * product with the dequantized weights.
 *
 * <p>{@link #row}, {@link #get} and the scalar twin {@link #dotScalar} are built on
 * {@link #dequantizeBlock}: the twin dequantizes one block at a time and accumulates
 * {@code w[i] * x[i]} in float, in element order.
 */
public abstract sealed class QuantizedTensor extends AbstractTensor
        permits Q8_0Tensor, Q4_0Tensor, Q4_1Tensor, Q5_0Tensor, Q5_1Tensor, Q2_KTensor, Q3_KTensor,
                Q4_KTensor, Q5_KTensor, Q6_KTensor, IQ4_NLTensor, MXFP4Tensor {

    static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Float lanes: the preferred shape, kept between 4 and 16 lanes so 16 bytes fill whole vectors. */
    static final VectorSpecies<Float> F = floatSpecies();
    /** Int lanes of the same shape as {@link #F}. */
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** 0, 1, 2, ... in int lanes. */
    static final IntVector IOTA = IntVector.zero(I).addIndex(1);
    /** Lanes of {@link #F}. */
    static final int L = F.length();
    /** Bytes are loaded 16 at a time and widened to {@link #PARTS} float vectors. */
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** Float vectors per 16 bytes. */
    static final int PARTS = 16 / L;

    protected final int blockSize;
    protected final int blockBytes;
    protected final int blocksPerRow;
    protected final long rowBytes;
    private final long rowCount;
    private final int colCount;

    protected QuantizedTensor(String name, DType type, Shape shape, MemorySegment data) {
        super(name, type, shape, data);
        this.blockSize = type.blockSize();
        this.blockBytes = type.blockBytes();
        this.colCount = Math.toIntExact(shape.cols());
        this.blocksPerRow = colCount / blockSize;
        this.rowBytes = (long) blocksPerRow * blockBytes;
        this.rowCount = shape.rows();
    }

    private static VectorSpecies<Float> floatSpecies() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        if (lanes > 16) {
            return FloatVector.SPECIES_512;
        }
        return lanes < 4 ? FloatVector.SPECIES_128 : FloatVector.SPECIES_PREFERRED;
    }

    /**
     * Writes the {@code blockSize} values of the block starting at byte {@code offset} of
     * {@link #data} to {@code dst[dstOff ..]}, exactly as ggml's {@code dequantize_row_*}.
     */
    abstract void dequantizeBlock(long offset, float[] dst, int dstOff);

    @Override
    public final int cols() {
        return colCount;
    }

    @Override
    public final long rows() {
        return rowCount;
    }

    @Override
    public final long rowBytes() {
        return rowBytes;
    }

    @Override
    public final void row(long row, float[] dst, int dstOff) {
        Objects.checkIndex(row, rowCount);
        Objects.checkFromIndexSize(dstOff, colCount, dst.length);
        long off = row * rowBytes;
        for (int b = 0; b < blocksPerRow; b++) {
            dequantizeBlock(off + (long) b * blockBytes, dst, dstOff + b * blockSize);
        }
    }

    /**
     * Writes rows {@code [row, row + count)} to {@code dst} (row-major, from index 0), exactly as
     * {@link #row} does. Formats override it with a Vector API version that gives the same floats.
     */
    void dequantizeRows(long row, int count, float[] dst) {
        checkRows(row, count, dst);
        for (int i = 0; i < count; i++) {
            row(row + i, dst, i * colCount);
        }
    }

    /**
     * {@code out[o] = dot(row, x, xOff)} and {@code out[o + 1] = dot(row + 1, x, xOff)}, the same
     * floats; formats with a two-row kernel override it.
     */
    void dotTwoRows(long row, float[] x, int xOff, float[] out, int o) {
        out[o] = dot(row, x, xOff);
        out[o + 1] = dot(row + 1, x, xOff);
    }

    /** Rows in pairs through {@link #dotTwoRows}; the same floats as {@link #dot}. */
    @Override
    public final void dotRows(long first, int count, float[] x, int xOff, float[] out, int outOff) {
        if (count == 0) {
            return;
        }
        checkDot(first, x, xOff);
        Objects.checkIndex(first + count - 1, rowCount);
        Objects.checkFromIndexSize(outOff, count, out.length);
        int i = 0;
        for (; i + 1 < count; i += 2) {
            dotTwoRows(first + i, x, xOff, out, outOff + i);
        }
        if (i < count) {
            out[outOff + i] = dot(first + i, x, xOff);
        }
    }

    /** Rows in pairs through {@link #dotTwoRows}, split across {@code par}'s workers. */
    @Override
    public final void matvec(float[] out, float[] x, Parallel par) {
        Tensors.checkMatvec(this, out, x, 1);
        int n = Math.toIntExact(rowCount);
        par.forRange(n, (start, end) -> dotRows(start, end - start, x, 0, out, start));
    }

    /**
     * Batch size from which {@link #matmul} dequantizes tiles ({@link TiledMatmul}) instead of
     * per-token dots: 8 for the formats whose {@link #dequantizeRows} is the scalar loop, 2 where it
     * is vectorized (the tile's decoding then costs less than one fused dot per token).
     */
    int minTileTokens() {
        return 8;
    }

    /**
     * Batched matvec for prefill: from {@link #minTileTokens} tokens on, tiles of rows dequantized
     * once and multiplied by every token ({@link TiledMatmul}); smaller batches take the per-token
     * fused dot ({@link Tensors#matmulBlocked}). Outputs equal {@code dot(r, x, t * cols())} up to
     * float summation order.
     */
    @Override
    public void matmul(float[] out, float[] x, int nTokens, Parallel par) {
        if (nTokens >= minTileTokens()) {
            TiledMatmul.multiply(this, this::dequantizeRows, out, x, nTokens, par);
        } else {
            Tensors.checkMatvec(this, out, x, nTokens);
            Tensors.matmulBlocked(this, out, x, nTokens, par);
        }
    }

    @Override
    public final float get(long index) {
        Objects.checkIndex(index, shape.elementCount());
        float[] block = new float[blockSize];
        dequantizeBlock(index / blockSize * blockBytes, block, 0);
        return block[(int) (index % blockSize)];
    }

    @Override
    public final float dotScalar(long row, float[] x, int xOff) {
        checkDot(row, x, xOff);
        float[] w = new float[blockSize];
        long off = row * rowBytes;
        float sum = 0f;
        for (int b = 0; b < blocksPerRow; b++) {
            dequantizeBlock(off + (long) b * blockBytes, w, 0);
            int xb = xOff + b * blockSize;
            for (int i = 0; i < blockSize; i++) {
                sum += w[i] * x[xb + i];
            }
        }
        return sum;
    }

    /** Bounds of {@link #dequantizeRows}: the rows exist and {@code dst} holds them all. */
    final void checkRows(long row, int count, float[] dst) {
        Objects.checkFromIndexSize(row, count, rowCount);
        Objects.checkFromIndexSize(0, (long) count * colCount, dst.length);
    }

    /** Bounds of a dot product: the row exists and {@code x} holds a whole row from {@code xOff}. */
    final void checkDot(long row, float[] x, int xOff) {
        Objects.checkIndex(row, rowCount);
        Objects.checkFromIndexSize(xOff, colCount, x.length);
    }

    /** The fp16 at byte {@code offset}, as float (exact). */
    final float fp16(long offset) {
        return Float.float16ToFloat(data.get(LE_SHORT, offset));
    }

    /** Unsigned byte at {@code offset}. */
    final int u8(long offset) {
        return data.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    /** Signed byte at {@code offset}. */
    final int i8(long offset) {
        return data.get(ValueLayout.JAVA_BYTE, offset);
    }

    /**
     * Q4_K/Q5_K: 6-bit scale {@code j} (0..7) of the 12 packed bytes at {@code s}
     * (ggml {@code get_scale_min_k4}).
     */
    final int k4Scale(long s, int j) {
        return j < 4 ? u8(s + j) & 63 : (u8(s + j + 4) & 0x0F) | ((u8(s + j - 4) >> 6) << 4);
    }

    /** Q4_K/Q5_K: 6-bit min {@code j} (0..7) of the 12 packed bytes at {@code s}. */
    final int k4Min(long s, int j) {
        return j < 4 ? u8(s + j + 4) & 63 : (u8(s + j + 4) >> 4) | ((u8(s + j) >> 6) << 4);
    }

    /** Little-endian long at {@code offset}: eight packed bytes read at once. */
    final long i64(long offset) {
        return data.get(LE_LONG, offset);
    }

    /**
     * Q4_K/Q5_K: the eight 6-bit scales of the 12 packed bytes at {@code s}, one per byte of the
     * result (byte {@code j} = {@link #k4Scale}{@code (s, j)}), unpacked from two loads.
     */
    final long k4Scales(long s) {
        long lo = i64(s);
        int hi = data.get(LE_INT, s + 8);
        int first = (int) lo & 0x3F3F3F3F;
        int last = (hi & 0x0F0F0F0F) | ((((int) lo >>> 6) & 0x03030303) << 4);
        return (first & 0xFFFFFFFFL) | ((long) last << 32);
    }

    /** Q4_K/Q5_K: the eight 6-bit mins, one per byte (byte {@code j} = {@link #k4Min}{@code (s, j)}). */
    final long k4Mins(long s) {
        long lo = i64(s);
        int hi = data.get(LE_INT, s + 8);
        int upper = (int) (lo >>> 32);
        int first = upper & 0x3F3F3F3F;
        int last = ((hi >>> 4) & 0x0F0F0F0F) | (((upper >>> 6) & 0x03030303) << 4);
        return (first & 0xFFFFFFFFL) | ((long) last << 32);
    }

    /** Unsigned byte {@code j} of a packed long. */
    static int byteOf(long packed, int j) {
        return (int) (packed >>> (8 * j)) & 0xFF;
    }

    /** 16 bytes at {@code offset}. */
    final ByteVector load16(long offset) {
        return ByteVector.fromMemorySegment(B16, data, offset, LE);
    }

    /** The high nibble of each byte (shifted as 16-bit lanes, since x86 has no byte shift). */
    static ByteVector highNibbles(ByteVector bytes) {
        return bytes.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
    }

    /** Part {@code part} (of {@link #PARTS}) of 16 signed bytes widened to floats. */
    static FloatVector widen(ByteVector bytes, int part) {
        return toFloat(signed(bytes, part));
    }

    /** Part {@code part} (of {@link #PARTS}) of 16 bytes, sign-extended to int lanes. */
    static IntVector signed(ByteVector bytes, int part) {
        return (IntVector) bytes.convertShape(VectorOperators.B2I, I, part);
    }

    /**
     * Part {@code part} (of {@link #PARTS}) of 16 bytes, zero-extended to int lanes. Nibbles and
     * bit fields are unpacked in int lanes, where x86 has shifts (it has none for bytes).
     */
    static IntVector unsigned(ByteVector bytes, int part) {
        return (IntVector) bytes.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
    }

    /** Int lanes to float lanes (exact for the small integers of the block formats). */
    static FloatVector toFloat(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }
}
