package dev.taipan.tensor;

/** Per-session state of one {@link Block}. */
public interface BlockState {

    /** Bytes held by caches that carry information between calls (KV cache, SSM state). */
    long cacheBytes();

    /** Forgets every token seen, as a fresh state. */
    void reset();
}
