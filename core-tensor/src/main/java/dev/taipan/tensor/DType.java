package dev.taipan.tensor;

/**
 * Element types of tensors: the plain floats and integers of safetensors and GGUF, and every ggml
 * block format. A block format stores {@link #blockSize()} elements in {@link #blockBytes()} bytes;
 * plain types have a block size of 1.
 *
 * <p>The ggml ids and block layouts follow ggml.h / ggml-common.h of llama.cpp (commit 34af94cd).
 * Which types can be computed with (dot, matvec) is decided by the {@code quant} module's factory;
 * this enum only describes storage.
 */
public enum DType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    MXFP4(39, 32, 17),
    /** safetensors-only types (no ggml id). */
    U8(-1, 1, 1),
    BOOL(-1, 1, 1),
    F8_E4M3(-1, 1, 1),
    F8_E5M2(-1, 1, 1);

    private static final DType[] BY_GGML_ID = new DType[64];

    static {
        for (DType t : values()) {
            if (t.ggmlId >= 0) {
                BY_GGML_ID[t.ggmlId] = t;
            }
        }
    }

    private final int ggmlId;
    private final int blockSize;
    private final int blockBytes;

    DType(int ggmlId, int blockSize, int blockBytes) {
        this.ggmlId = ggmlId;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** ggml's numeric type id, or -1 for types ggml does not have. */
    public int ggmlId() {
        return ggmlId;
    }

    /** Elements per block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    public boolean isBlockFormat() {
        return blockSize > 1;
    }

    /** The type with the given ggml id, or null when the id is unknown or retired. */
    public static DType fromGgmlId(int id) {
        return id >= 0 && id < BY_GGML_ID.length ? BY_GGML_ID[id] : null;
    }

    /**
     * Bytes taken by {@code count} elements; {@code count} must be a multiple of the block size.
     *
     * @throws IllegalArgumentException when it is not, or when the size overflows a long
     */
    public long byteSize(long count) {
        if (count < 0 || count % blockSize != 0) {
            throw new IllegalArgumentException(
                    name() + ": element count " + count + " is not a multiple of the block size " + blockSize);
        }
        return Math.multiplyExact(count / blockSize, (long) blockBytes);
    }
}
