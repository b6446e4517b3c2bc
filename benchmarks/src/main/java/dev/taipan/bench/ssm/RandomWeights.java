package dev.taipan.bench.ssm;

import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.quant.Quantizer;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Adds random tensors to a {@link GgufWriter}: weight matrices uniform in {@code ±sqrt(3 / fan_in)}
 * (variance {@code 1/fan_in}, fan_in = ne[0]) in the model's matrix type, quantized with the quant
 * module's {@link Quantizer} (ggml's reference quantizers); every other parameter in F32, as
 * llama-quantize leaves norms, biases, routers and SSM parameters. Shapes are in ggml order
 * ({@code ne[0]} the contiguous dimension), as gguf_dump prints them.
 */
final class RandomWeights {
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int CHUNK = 1 << 20; // floats generated and quantized at a time

    private final GgufWriter writer;
    private final DType type;
    private final SplittableRandom rnd;

    /** Matrices in {@code type} (F32, Q8_0 or Q4_0), random values from {@code seed}. */
    RandomWeights(GgufWriter writer, DType type, long seed) {
        if (type != DType.F32 && !Quantizer.canQuantize(type)) {
            throw new IllegalArgumentException("matrices can be F32, Q8_0 or Q4_0, not " + type);
        }
        this.writer = writer;
        this.type = type;
        this.rnd = new SplittableRandom(seed);
    }

    /** ggml's {@code general.file_type} of the matrix type (0 F32, 7 Q8_0, 2 Q4_0). */
    int fileType() {
        return switch (type) {
            case F32 -> 0;
            case Q8_0 -> 7;
            case Q4_0 -> 2;
            default -> throw new IllegalStateException("no file type for " + type);
        };
    }

    /** A weight matrix in the model's type (F32 where ne[0] is not a multiple of the block size). */
    void matrix(String name, long... ne) {
        DType t = ne[0] % type.blockSize() == 0 ? type : DType.F32;
        add(name, t, (float) Math.sqrt(3.0 / ne[0]), 0f, ne);
    }

    /** A weight matrix kept in F32 (routers). */
    void f32Matrix(String name, long... ne) {
        add(name, DType.F32, (float) Math.sqrt(3.0 / ne[0]), 0f, ne);
    }

    /** An F32 tensor uniform in {@code [lo, hi)}. */
    void uniform(String name, float lo, float hi, long... ne) {
        add(name, DType.F32, (hi - lo) / 2, (hi + lo) / 2, ne);
    }

    /** An F32 tensor of ones (norm weights). */
    void ones(String name, long... ne) {
        float[] v = new float[Math.toIntExact(Shape.fromGgml(ne).elementCount())];
        Arrays.fill(v, 1f);
        writer.addF32(name, Shape.fromGgml(ne), v);
    }

    /** Mamba-2's {@code ssm_a} = -exp(A_log), A_log uniform in [log 1, log 16) as its initialiser. */
    void negativeExp(String name, long... ne) {
        float[] v = new float[Math.toIntExact(Shape.fromGgml(ne).elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) -Math.exp(rnd.nextDouble() * Math.log(16));
        }
        writer.addF32(name, Shape.fromGgml(ne), v);
    }

    // values center ± half, generated and quantized a chunk at a time
    private void add(String name, DType t, float half, float center, long... ne) {
        Shape shape = Shape.fromGgml(ne);
        long count = shape.elementCount();
        MemorySegment data = MemorySegment.ofArray(new byte[Math.toIntExact(t.byteSize(count))]);
        float[] chunk = new float[(int) Math.min(CHUNK, count)];
        for (long done = 0; done < count; done += chunk.length) {
            int n = (int) Math.min(chunk.length, count - done);
            for (int i = 0; i < n; i++) {
                chunk[i] = center + (float) ((rnd.nextDouble() * 2 - 1) * half);
            }
            if (t == DType.F32) {
                MemorySegment.copy(chunk, 0, data, LE_FLOAT, done * 4, n);
            } else {
                Quantizer.quantize(t, chunk, 0, n, data, t.byteSize(done));
            }
        }
        writer.addTensor(name, t, shape, data);
    }
}
