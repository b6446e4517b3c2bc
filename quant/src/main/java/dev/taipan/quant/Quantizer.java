package dev.taipan.quant;

import dev.taipan.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Float to ggml block quantizers, bit-identical to ggml's reference quantizers
 * ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref} in ggml-quants.c, llama.cpp
 * 34af94cd), which are also what {@code llama-quantize} and {@code ggml_quantize_chunk} use for
 * these types without an importance matrix. fp16 scales are rounded to nearest even, like
 * ggml's {@code GGML_FP32_TO_FP16}.
 */
public final class Quantizer {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Quantizer() {
    }

    /** Whether {@link #quantize} supports {@code type}. */
    public static boolean canQuantize(DType type) {
        return type == DType.Q8_0 || type == DType.Q4_0;
    }

    /** {@code src} (a multiple of the block size long) quantized to {@code type}'s bytes. */
    public static byte[] quantize(DType type, float[] src) {
        byte[] out = new byte[Math.toIntExact(byteSize(type, src.length))];
        quantize(type, src, 0, src.length, MemorySegment.ofArray(out), 0);
        return out;
    }

    /**
     * Quantizes {@code src[srcOff .. srcOff + count)} into {@code dst} at {@code dstOff}
     * ({@code type.byteSize(count)} bytes).
     *
     * @throws IllegalArgumentException when {@code type} has no quantizer or {@code count} is not
     *     a multiple of its block size
     */
    public static void quantize(DType type, float[] src, int srcOff, int count, MemorySegment dst, long dstOff) {
        long bytes = byteSize(type, count);
        Objects.checkFromIndexSize(srcOff, count, src.length);
        Objects.checkFromIndexSize(dstOff, bytes, dst.byteSize());
        int blocks = count / type.blockSize();
        for (int b = 0; b < blocks; b++) {
            long out = dstOff + (long) b * type.blockBytes();
            int in = srcOff + b * 32;
            if (type == DType.Q8_0) {
                q8_0Block(src, in, dst, out);
            } else {
                q4_0Block(src, in, dst, out);
            }
        }
    }

    private static long byteSize(DType type, int count) {
        if (!canQuantize(type)) {
            throw new IllegalArgumentException("no quantizer for " + type + " (available: Q8_0, Q4_0)");
        }
        return type.byteSize(count);
    }

    /** quantize_row_q8_0_ref: {@code d = amax / 127}, {@code q = roundf(x / d)}. */
    private static void q8_0Block(float[] x, int in, MemorySegment dst, long out) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) {
            float a = Math.abs(x[in + j]);
            amax = amax > a ? amax : a;
        }
        float d = amax / 127;
        float id = d != 0f ? 1.0f / d : 0.0f;
        dst.set(LE_SHORT, out, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) {
            dst.set(ValueLayout.JAVA_BYTE, out + 2 + j, (byte) roundHalfAway(x[in + j] * id));
        }
    }

    /**
     * quantize_row_q4_0_ref: {@code d = max / -8} where {@code max} is the value of largest
     * magnitude (first one on ties), {@code q = min(15, (int8) (x / d + 8.5))}.
     */
    private static void q4_0Block(float[] x, int in, MemorySegment dst, long out) {
        float amax = 0f;
        float max = 0f;
        for (int j = 0; j < 32; j++) {
            float v = x[in + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0f ? 1.0f / d : 0.0f;
        dst.set(LE_SHORT, out, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int q0 = Math.min(15, (byte) (int) (x[in + j] * id + 8.5f));
            int q1 = Math.min(15, (byte) (int) (x[in + 16 + j] * id + 8.5f));
            dst.set(ValueLayout.JAVA_BYTE, out + 2 + j, (byte) (q0 | (q1 << 4)));
        }
    }

    /** C's {@code roundf}: nearest integer, halves away from zero. */
    static float roundHalfAway(float v) {
        float t = (float) (v < 0 ? Math.ceil(v) : Math.floor(v));
        return Math.abs(v - t) >= 0.5f ? t + Math.signum(v) : t;
    }
}
