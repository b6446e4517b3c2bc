package dev.taipan.loaders.safetensors;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;

/**
 * One tensor of a safetensors header: name, dtype, row-major shape, and its byte range
 * {@code [begin, end)} relative to the start of the data section of {@code file} (a shard's file
 * name for sharded checkpoints).
 */
public record SafetensorsTensorInfo(String name, DType dtype, Shape shape, long begin, long end, String file) {

    public long byteSize() {
        return end - begin;
    }
}
