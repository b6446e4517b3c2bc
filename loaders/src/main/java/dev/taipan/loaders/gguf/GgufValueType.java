package dev.taipan.loaders.gguf;

/**
 * The metadata value types of GGUF ({@code enum gguf_type} in ggml's gguf.h, llama.cpp 34af94cd).
 * {@link #minBytes()} is the fewest bytes one value of the type takes in a file: a string is at
 * least its 8-byte length, an array at least its 4-byte element type and 8-byte count. The parser
 * uses it to refuse counts that cannot fit in the bytes left before it allocates anything.
 */
public enum GgufValueType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    STRING(8, 8),
    ARRAY(9, 12),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private static final GgufValueType[] BY_ID = values();

    private final int id;
    private final int minBytes;

    GgufValueType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    /** The numeric id stored in the file. */
    public int id() {
        return id;
    }

    /** Fewest bytes one value of this type occupies in a file (exact for fixed-size types). */
    public int minBytes() {
        return minBytes;
    }

    /** True for the eight integer types (their values are {@link Long}s in metadata). */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** The type of that id, or null when the id is unknown. */
    public static GgufValueType fromId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }
}
