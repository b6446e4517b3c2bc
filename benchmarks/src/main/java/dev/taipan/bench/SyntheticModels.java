package dev.taipan.bench;

import dev.taipan.loaders.gguf.GgufArray;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.quant.Quantizer;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Writes GGUF models of given shapes with random weights, so that benchmark models larger than
 * the L3 cache exist without downloads. The files follow llama.cpp's names and keys for their
 * architecture (they load in llama.cpp too): a SentencePiece vocabulary of placeholder tokens,
 * matrices uniform in {@code ±sqrt(3 / fan_in)} (variance {@code 1/fan_in}) quantized with the
 * quant module's {@link Quantizer} (bit-identical to ggml's reference quantizers), norms of ones
 * and routers in F32 as llama-quantize leaves them.
 *
 * <pre>
 * java … dev.taipan.bench.SyntheticModels qwen3moe Q8_0 bench-models/qwen3moe-q8_0.gguf
 * </pre>
 */
public final class SyntheticModels {

    /**
     * The shape of a synthetic qwen3moe model.
     *
     * @param name      preset name
     * @param dim       n_embd
     * @param layers    decoder layers
     * @param nExperts  routed experts per layer
     * @param nUsed     experts per token
     * @param expertFf  hidden width of an expert
     * @param nHeads    query heads
     * @param nKvHeads  key/value heads
     * @param headDim   values per head
     * @param vocab     vocabulary size
     */
    public record Preset(String name, int dim, int layers, int nExperts, int nUsed, int expertFf, int nHeads,
                         int nKvHeads, int headDim, int vocab) {
    }

    /** The qwen3moe-shaped benchmark model: about 2.5 G parameters, 0.35 G active. */
    public static final Preset QWEN3MOE = new Preset("qwen3moe", 2048, 8, 64, 8, 768, 32, 4, 128, 32000);

    /** A small model of the same kind, for tests of the generator and harness. */
    public static final Preset QWEN3MOE_TINY = new Preset("qwen3moe-tiny", 128, 2, 8, 2, 64, 4, 2, 32, 512);

    private static final List<Preset> PRESETS = List.of(QWEN3MOE, QWEN3MOE_TINY);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int CHUNK = 1 << 20; // floats generated and quantized at a time

    private SyntheticModels() {
    }

    /** The preset called {@code name}. */
    public static Preset preset(String name) {
        return PRESETS.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown preset '" + name + "' (known: "
                        + String.join(", ", PRESETS.stream().map(Preset::name).toList()) + ")"));
    }

    /** Writes {@code p} with its matrices in {@code type} (F32, Q8_0 or Q4_0) to {@code out}. */
    public static void write(Preset p, DType type, long seed, Path out) {
        if (type != DType.F32 && !Quantizer.canQuantize(type)) {
            throw new IllegalArgumentException("matrices can be F32, Q8_0 or Q4_0, not " + type);
        }
        String a = "qwen3moe";
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", a);
        w.putString("general.name", "synthetic-" + p.name() + "-" + type.name().toLowerCase(Locale.ROOT));
        w.putUInt32("general.file_type", type == DType.F32 ? 0 : type == DType.Q8_0 ? 7 : 2);
        w.putUInt32("general.quantization_version", 2);
        w.putUInt32(a + ".context_length", 4096);
        w.putUInt32(a + ".embedding_length", p.dim());
        w.putUInt32(a + ".block_count", p.layers());
        w.putUInt32(a + ".feed_forward_length", (long) p.expertFf() * p.nUsed());
        w.putUInt32(a + ".expert_feed_forward_length", p.expertFf());
        w.putUInt32(a + ".attention.head_count", p.nHeads());
        w.putUInt32(a + ".attention.head_count_kv", p.nKvHeads());
        w.putUInt32(a + ".attention.key_length", p.headDim());
        w.putUInt32(a + ".attention.value_length", p.headDim());
        w.putFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
        w.putFloat32(a + ".rope.freq_base", 1e6f);
        w.putUInt32(a + ".expert_count", p.nExperts());
        w.putUInt32(a + ".expert_used_count", p.nUsed());
        vocabulary(w, p.vocab());

        SplittableRandom rnd = new SplittableRandom(seed);
        long q = (long) p.nHeads() * p.headDim();
        long kv = (long) p.nKvHeads() * p.headDim();
        matrix(w, "token_embd.weight", type, rnd, p.dim(), p.vocab());
        ones(w, "output_norm.weight", p.dim());
        matrix(w, "output.weight", type, rnd, p.dim(), p.vocab());
        for (int l = 0; l < p.layers(); l++) {
            String b = "blk." + l + ".";
            ones(w, b + "attn_norm.weight", p.dim());
            matrix(w, b + "attn_q.weight", type, rnd, p.dim(), q);
            matrix(w, b + "attn_k.weight", type, rnd, p.dim(), kv);
            matrix(w, b + "attn_v.weight", type, rnd, p.dim(), kv);
            ones(w, b + "attn_q_norm.weight", p.headDim());
            ones(w, b + "attn_k_norm.weight", p.headDim());
            matrix(w, b + "attn_output.weight", type, rnd, q, p.dim());
            ones(w, b + "ffn_norm.weight", p.dim());
            matrix(w, b + "ffn_gate_inp.weight", DType.F32, rnd, p.dim(), p.nExperts());
            matrix(w, b + "ffn_gate_exps.weight", type, rnd, p.dim(), p.expertFf(), p.nExperts());
            matrix(w, b + "ffn_up_exps.weight", type, rnd, p.dim(), p.expertFf(), p.nExperts());
            matrix(w, b + "ffn_down_exps.weight", type, rnd, p.expertFf(), p.dim(), p.nExperts());
        }
        w.write(out);
    }

    /**
     * A SentencePiece ("llama") vocabulary of {@code size} tokens: {@code <unk> <s> </s>}, the 256
     * byte tokens, then placeholders; so that llama.cpp loads the file and text prompts encode.
     */
    public static void vocabulary(GgufWriter w, int size) {
        if (size < 259 + 1) {
            throw new IllegalArgumentException("vocabulary of " + size + " tokens is too small (needs > 259)");
        }
        List<String> tokens = new ArrayList<>(size);
        float[] scores = new float[size];
        long[] types = new long[size];
        tokens.addAll(List.of("<unk>", "<s>", "</s>"));
        types[0] = 2;
        types[1] = 3;
        types[2] = 3;
        for (int i = 0; i < 256; i++) {
            tokens.add(String.format(Locale.ROOT, "<0x%02X>", i));
            types[3 + i] = 6;
        }
        for (int i = tokens.size(); i < size; i++) {
            tokens.add("\u2581t" + i);
            types[i] = 1;
            scores[i] = -i;
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putArray("tokenizer.ggml.tokens", GgufArray.ofStrings(tokens));
        w.putArray("tokenizer.ggml.scores", GgufArray.ofFloats(scores));
        w.putArray("tokenizer.ggml.token_type", GgufArray.ofIntegers(GgufValueType.INT32, types));
        w.putUInt32("tokenizer.ggml.bos_token_id", 1);
        w.putUInt32("tokenizer.ggml.eos_token_id", 2);
        w.putUInt32("tokenizer.ggml.unknown_token_id", 0);
    }

    private static void ones(GgufWriter w, String name, int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        w.addF32(name, Shape.of(n), v);
    }

    // ne in ggml order: ne[0] = fan_in (contiguous)
    private static void matrix(GgufWriter w, String name, DType type, SplittableRandom rnd, long... ne) {
        Shape shape = Shape.fromGgml(ne);
        long count = shape.elementCount();
        float bound = (float) Math.sqrt(3.0 / ne[0]);
        MemorySegment data = MemorySegment.ofArray(new byte[Math.toIntExact(type.byteSize(count))]);
        float[] chunk = new float[(int) Math.min(CHUNK, count)];
        for (long done = 0; done < count; done += chunk.length) {
            int n = (int) Math.min(chunk.length, count - done);
            for (int i = 0; i < n; i++) {
                chunk[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
            }
            if (type == DType.F32) {
                MemorySegment.copy(chunk, 0, data, LE_FLOAT, done * 4, n);
            } else {
                Quantizer.quantize(type, chunk, 0, n, data, type.byteSize(done));
            }
        }
        w.addTensor(name, type, shape, data);
    }

    /** {@code SyntheticModels PRESET TYPE OUT.gguf [SEED]}: writes one model. */
    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: SyntheticModels PRESET TYPE OUT.gguf [SEED]   (presets: "
                    + String.join(", ", PRESETS.stream().map(Preset::name).toList()) + "; types: F32, Q8_0, Q4_0)");
            System.exit(2);
        }
        long t0 = System.nanoTime();
        Path out = Path.of(args[2]);
        write(preset(args[0]), DType.valueOf(args[1].toUpperCase(Locale.ROOT)), args.length > 3 ? Long.parseLong(args[3]) : 1234, out);
        System.err.printf(Locale.ROOT, "wrote %s in %.1f s%n", out, (System.nanoTime() - t0) / 1e9);
    }
}
