package dev.taipan.runtime.arch.mamba3;

import dev.taipan.loaders.HfConfig;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.gguf.GgufArray;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import dev.taipan.loaders.tokenizer.Tokenizers;
import dev.taipan.quant.Quantizer;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Weights;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a Mamba-3 safetensors checkpoint (FLA layout) as a {@code mamba3} GGUF file with the
 * names and keys of docs/mamba3-gguf.md. The matrices (token_embd, output, ssm_in, ssm_out) take
 * the requested {@link Target} type; quantized targets need rows that are a multiple of 32 and
 * leave other matrices in F32. Norm weights, biases, D, dt_bias and the MIMO projections stay F32,
 * as llama.cpp keeps its norms and SSM parameters. Values are widened exactly from BF16/F16 and
 * quantized with ggml's reference quantizers ({@link Quantizer}). A {@code tokenizer.json} in the
 * directory becomes the file's {@code tokenizer.*} keys, as convert_hf_to_gguf.py writes them
 * ({@link Tokenizers#tokenizerJsonMetadata}), so that the file tokenizes as the directory does.
 *
 * <p>Every tensor is converted in memory before the file is written: the heap must hold the
 * converted model.
 */
public final class Mamba3GgufConverter {

    /** Storage type of the matrices in the written file. */
    public enum Target {
        F32(DType.F32), F16(DType.F16), Q8_0(DType.Q8_0), Q4_0(DType.Q4_0);

        private final DType type;

        Target(DType type) {
            this.type = type;
        }

        public DType type() {
            return type;
        }
    }

    /** Tokenizer keys whose values are lists of strings (every other list holds integers). */
    private static final String TOKENS = "tokenizer.ggml.tokens";
    private static final String MERGES = "tokenizer.ggml.merges";

    private Mamba3GgufConverter() {
    }

    /**
     * Converts the safetensors checkpoint directory {@code dir} (config.json + model.safetensors)
     * into {@code out}.
     *
     * @throws ModelFormatException when the directory is not a Mamba-3 checkpoint we can read
     */
    public static void convert(Path dir, Path out, Target target) {
        try (SafetensorsSource st = SafetensorsSource.open(dir)) {
            HfConfig config = st.config().orElseThrow(() -> new ModelFormatException(dir
                    + ": no " + SafetensorsSource.CONFIG_FILE + " (a Mamba-3 checkpoint directory needs one)"));
            FlaMamba3Source view = new FlaMamba3Source(st, config);
            GgufWriter w = write(view, String.valueOf(dir.getFileName()), target);
            Path tokenizerJson = dir.resolve("tokenizer.json");
            if (Files.isRegularFile(tokenizerJson)) {
                Metadata tokenizer = Tokenizers.tokenizerJsonMetadata(tokenizerJson);
                for (String key : tokenizer.keys()) {
                    put(w, key, tokenizer.require(key));
                }
            }
            w.write(out);
        }
    }

    /** A writer holding every tensor and key of a {@code mamba3}-named source, converted to {@code target}. */
    public static GgufWriter write(TensorSource ggufNamed, String modelName, Target target) {
        GgufWriter w = new GgufWriter();
        Metadata md = ggufNamed.metadata();
        w.putString(MetaKey.GENERAL_ARCHITECTURE.key(""), Mamba3Architecture.NAME);
        w.putString(MetaKey.GENERAL_NAME.key(""), modelName);
        if (target.type().isBlockFormat()) {
            w.putUInt32("general.quantization_version", 2);
        }
        for (String key : md.keys()) {
            if (!key.equals(MetaKey.GENERAL_ARCHITECTURE.key(""))) {
                put(w, key, md.require(key));
            }
        }
        for (String name : ggufNamed.names()) {
            Tensor t = ggufNamed.get(name);
            float[] values = Weights.toFloats(t);
            DType type = storageType(t, target);
            switch (type) {
                case F32 -> w.addF32(name, t.shape(), values);
                case F16 -> w.addF16(name, t.shape(), values);
                default -> w.addTensor(name, type, t.shape(), Quantizer.quantize(type, values));
            }
        }
        return w;
    }

    /** The type tensor {@code t} is stored with for {@code target}. */
    static DType storageType(Tensor t, Target target) {
        boolean matrix = t.shape().rank() == 2;
        if (!matrix || target == Target.F32) {
            return DType.F32;
        }
        if (target.type().isBlockFormat() && t.cols() % target.type().blockSize() != 0) {
            return DType.F32;
        }
        return target.type();
    }

    private static void put(GgufWriter w, String key, Object v) {
        switch (v) {
            case String s -> w.putString(key, s);
            case Boolean b -> w.putBool(key, b);
            case Float f -> w.putFloat32(key, f);
            case Double d -> w.putFloat32(key, d.floatValue());
            case Long l when l >= 0 && l <= 0xFFFF_FFFFL -> w.putUInt32(key, l);
            case Long l -> w.putUInt64(key, l);
            case List<?> list when key.equals(TOKENS) || key.equals(MERGES) ->
                    w.putArray(key, GgufArray.ofStrings(list.stream().map(String.class::cast).toList()));
            case List<?> list -> w.putArray(key, GgufArray.ofIntegers(GgufValueType.INT32,
                    list.stream().mapToLong(o -> ((Number) o).longValue()).toArray()));
            default -> throw new IllegalArgumentException("metadata key '" + key + "': cannot write a "
                    + v.getClass().getSimpleName());
        }
    }
}
