package dev.taipan.attention;

/**
 * Element type of the KV cache (llama.cpp's {@code --cache-type-k/-v}). With {@link #F16} the
 * attention mirrors ggml's CPU matmuls over an F16 cache: the query and the softmax weights are
 * rounded to F16 before their dot products with the cached keys and values (ggml converts the
 * F32 operand to the F16 {@code vec_dot_type}), products are accumulated in F32.
 */
public enum KvCacheType {
    F32(4),
    F16(2);

    private final int bytes;

    KvCacheType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per cached value. */
    public int bytes() {
        return bytes;
    }
}
