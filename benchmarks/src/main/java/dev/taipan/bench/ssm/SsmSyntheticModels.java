package dev.taipan.bench.ssm;

import dev.taipan.bench.SyntheticModels;
import dev.taipan.loaders.gguf.GgufArray;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Writes random-weight GGUF models of the state-space and hybrid benchmarks: a
 * {@code granitehybrid} model shaped like IBM Granite 4.0 H Tiny (llama.cpp 34af94cd
 * src/models/granite-hybrid.cpp names and keys, as the {@code tiny-granitehybrid} fixture), a
 * {@code mamba3} model (docs/mamba3-gguf.md) and a {@code llama} model of about the same
 * parameter count. Each has a placeholder SentencePiece vocabulary
 * ({@link SyntheticModels#vocabulary}), without which llama.cpp refuses to load a file (for the
 * same-run comparisons of benchmarks/README.md). Matrices are random
 * (see {@link RandomWeights}), SSM parameters follow their initialisers' ranges so the recurrences
 * stay stable, norms are ones.
 *
 * <pre>
 * java … dev.taipan.bench.ssm.SsmSyntheticModels granitehybrid Q8_0 bench-models/granitehybrid-q8_0.gguf
 * </pre>
 */
public final class SsmSyntheticModels {

    /** A model shape that can write itself. */
    public sealed interface Preset permits GraniteHybrid, Mamba3, Llama {
        String name();

        /** Writes the model with its matrices in {@code type} to {@code out}. */
        void write(DType type, long seed, Path out);
    }

    /**
     * A granitehybrid model: Mamba-2 layers where {@code attnLayers} does not list the layer,
     * every layer with a sparse MoE FFN plus an ungated shared expert.
     *
     * @param dim      n_embd
     * @param layers   decoder layers
     * @param attnLayers indices of the attention layers (head_count_kv > 0)
     * @param nHeads   attention query heads; head size dim / nHeads
     * @param nKvHeads attention key/value heads
     * @param dInner   Mamba-2 d_inner
     * @param dState   Mamba-2 N
     * @param ssmHeads Mamba-2 heads (d_inner / ssmHeads values per head)
     * @param nExperts routed experts per layer
     * @param nUsed    experts per token
     * @param expertFf hidden width of an expert
     * @param sharedFf hidden width of the shared expert
     * @param vocab    vocabulary size
     */
    public record GraniteHybrid(String name, int dim, int layers, int[] attnLayers, int nHeads, int nKvHeads,
                                int dInner, int dState, int ssmHeads, int nExperts, int nUsed, int expertFf,
                                int sharedFf, int vocab) implements Preset {
        @Override
        public void write(DType type, long seed, Path out) {
            GraniteHybridWriter.write(this, type, seed, out);
        }

        boolean isAttention(int layer) {
            return IntStream.of(attnLayers).anyMatch(l -> l == layer);
        }
    }

    /**
     * A pure Mamba-3 language model (SISO, one B/C group, rope fraction 0.5, softplus A, no FFN),
     * as FLA's Mamba3ForCausalLM.
     *
     * @param dim    d_model
     * @param layers Mamba-3 layers
     * @param dInner H * P
     * @param dState N
     * @param heads  H
     * @param vocab  vocabulary size
     */
    public record Mamba3(String name, int dim, int layers, int dInner, int dState, int heads, int vocab)
            implements Preset {
        @Override
        public void write(DType type, long seed, Path out) {
            Mamba3Writer.write(this, type, seed, out);
        }
    }

    /**
     * A dense llama model (GQA, RoPE, SwiGLU FFN, untied head).
     *
     * @param dim      n_embd
     * @param layers   decoder layers
     * @param nHeads   query heads; head size dim / nHeads
     * @param nKvHeads key/value heads
     * @param ff       FFN hidden width
     * @param vocab    vocabulary size
     */
    public record Llama(String name, int dim, int layers, int nHeads, int nKvHeads, int ff, int vocab)
            implements Preset {
        @Override
        public void write(DType type, long seed, Path out) {
            LlamaWriter.write(this, type, seed, out);
        }
    }

    /**
     * Granite 4.0 H Tiny's shape (issue 5): n_embd 1536, 12 layers with attention at 5 and 11,
     * Mamba-2 d_inner 3072, N 128, 48 heads, 32 experts of width 1024 with 4 used plus a shared
     * expert of 1024, vocab 32000: about 2.13 G parameters, 0.49 G of them used per token (with the lm head).
     */
    public static final GraniteHybrid GRANITEHYBRID = new GraniteHybrid("granitehybrid", 1536, 12, new int[] {5, 11},
            12, 4, 3072, 128, 48, 32, 4, 1024, 1024, 32000);

    /** A Mamba-3 model of about 226 M parameters: d_model 1024, 24 layers, d_inner 2048, N 128, 32 heads. */
    public static final Mamba3 MAMBA3 = new Mamba3("mamba3", 1024, 24, 2048, 128, 32, 32000);

    /**
     * A llama model of about 229 M parameters, the same as {@link #MAMBA3} (a Mamba layer without
     * FFN is about half a transformer layer): n_embd 1024, 12 layers, 16 heads / 4 KV heads of 64,
     * FFN 3584.
     */
    public static final Llama LLAMA = new Llama("llama", 1024, 12, 16, 4, 3584, 32000);

    /** Tiny versions of the three, for tests. */
    public static final GraniteHybrid GRANITEHYBRID_TINY = new GraniteHybrid("granitehybrid-tiny", 64, 3,
            new int[] {1}, 4, 2, 128, 16, 4, 4, 2, 64, 32, 300);
    public static final Mamba3 MAMBA3_TINY = new Mamba3("mamba3-tiny", 64, 2, 128, 16, 4, 300);
    public static final Llama LLAMA_TINY = new Llama("llama-tiny", 64, 2, 4, 2, 96, 300);

    private static final List<Preset> PRESETS = List.of(GRANITEHYBRID, MAMBA3, LLAMA, GRANITEHYBRID_TINY,
            MAMBA3_TINY, LLAMA_TINY);

    private SsmSyntheticModels() {
    }

    /** The preset called {@code name}. */
    public static Preset preset(String name) {
        return PRESETS.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown preset '" + name + "' (known: " + names() + ")"));
    }

    private static String names() {
        return String.join(", ", PRESETS.stream().map(Preset::name).toList());
    }

    /**
     * The file of {@code preset} in {@code type} under {@code dir}, written first (through a
     * temporary name) when it is not there yet.
     */
    public static Path ensure(Preset preset, DType type, Path dir) {
        Path path = dir.resolve(preset.name() + "-" + type.name().toLowerCase(Locale.ROOT) + ".gguf");
        if (Files.exists(path)) {
            return path;
        }
        try {
            Files.createDirectories(dir);
            Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
            long t0 = System.nanoTime();
            preset.write(type, 1234, tmp);
            Files.move(tmp, path);
            System.err.printf(Locale.ROOT, "wrote %s in %.1f s%n", path, (System.nanoTime() - t0) / 1e9);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot write: " + e.getMessage(), e);
        }
        return path;
    }

    /** Per-layer integer array metadata (e.g. head_count_kv). */
    static GgufArray perLayer(int[] values) {
        return GgufArray.ofIntegers(GgufValueType.INT32, IntStream.of(values).asLongStream().toArray());
    }

    /** The keys every file has: architecture, name, file type, and a vocabulary of {@code vocab} tokens. */
    static void header(GgufWriter w, String arch, String name, RandomWeights rw, int vocab) {
        w.putString("general.architecture", arch);
        w.putString("general.name", "synthetic-" + name);
        w.putUInt32("general.file_type", rw.fileType());
        w.putUInt32("general.quantization_version", 2);
        SyntheticModels.vocabulary(w, vocab);
    }

    /** {@code SsmSyntheticModels PRESET TYPE OUT.gguf [SEED]}: writes one model. */
    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: SsmSyntheticModels PRESET TYPE OUT.gguf [SEED]   (presets: " + names()
                    + "; types: F32, Q8_0, Q4_0)");
            System.exit(2);
        }
        long t0 = System.nanoTime();
        Path out = Path.of(args[2]);
        preset(args[0]).write(DType.valueOf(args[1].toUpperCase(Locale.ROOT)),
                args.length > 3 ? Long.parseLong(args[3]) : 1234, out);
        System.err.printf(Locale.ROOT, "wrote %s in %.1f s%n", out, (System.nanoTime() - t0) / 1e9);
    }
}
