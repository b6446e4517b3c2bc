package dev.taipan.runtime.arch.mamba3;

import dev.taipan.loaders.HfConfig;
import dev.taipan.loaders.MapMetadata;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.TensorSource;
import dev.taipan.quant.TensorFactory;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A safetensors Mamba-3 checkpoint in flash-linear-attention's {@code Mamba3ForCausalLM} layout
 * (the layout of ../shared/fixtures/mamba3), seen under the GGUF names and keys of a
 * {@code mamba3} file: tensors are renamed ({@code backbone.layers.3.mixer.in_proj.weight} →
 * {@code blk.3.ssm_in.weight}, table in docs/mamba3-gguf.md) and config.json becomes
 * {@code mamba3.*} metadata. The tensors are the underlying source's, not copies (fused
 * projections of hybrid layers are row views, see {@link HybridLayout}). Names the table does not
 * know keep their own name, so the architecture reports them as unexpected.
 *
 * <p>config.json has no key for the form of A (FLA and mamba_ssm before June 2026: softplus;
 * mamba_ssm since: heavy tail). {@code a_activation} selects it; without it FLA's softplus is
 * assumed, as the layout is FLA's.
 */
public final class FlaMamba3Source implements TensorSource {
    /** The embedding tensor, which identifies the layout. */
    public static final String EMBEDDINGS = "backbone.embeddings.weight";
    /** Arbitrary but large: a recurrent model has no trained context limit (llama.cpp's mamba uses 2^20). */
    static final long CONTEXT_LENGTH = 1L << 20;

    private static final Pattern LAYER = Pattern.compile("backbone\\.layers\\.(\\d+)\\.(.+)");
    private static final Map<String, TensorName> MIXER_WEIGHTS = Map.of(
            "mixer.in_proj.weight", TensorName.SSM_IN,
            "mixer.out_proj.weight", TensorName.SSM_OUT,
            "mixer.B_norm.weight", TensorName.SSM_B_NORM,
            "mixer.C_norm.weight", TensorName.SSM_C_NORM,
            "mixer.norm.weight", TensorName.SSM_NORM,
            "norm.weight", TensorName.ATTN_NORM);

    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\..+");
    // every FLA name the table maps, {N} standing for the layer
    private static final List<String> FLA_NAMES = List.of(EMBEDDINGS, "backbone.norm_f.weight", "lm_head.weight",
            "backbone.layers.{N}.norm.weight", "backbone.layers.{N}.mixer.in_proj.weight",
            "backbone.layers.{N}.mixer.out_proj.weight", "backbone.layers.{N}.mixer.B_norm.weight",
            "backbone.layers.{N}.mixer.C_norm.weight", "backbone.layers.{N}.mixer.norm.weight",
            "backbone.layers.{N}.mixer.dt_bias", "backbone.layers.{N}.mixer.D", "backbone.layers.{N}.mixer.B_bias",
            "backbone.layers.{N}.mixer.C_bias", "backbone.layers.{N}.mixer.mimo_x", "backbone.layers.{N}.mixer.mimo_z",
            "backbone.layers.{N}.mixer.mimo_o");

    private final TensorSource source;
    private final Metadata metadata;
    private final Map<String, HybridLayout.Slice> toSource; // GGUF name -> (part of a) safetensors tensor

    /**
     * @param source safetensors tensors with FLA names
     * @param config the checkpoint's config.json
     * @throws ModelFormatException naming the key when the config is not a Mamba-3 one we support
     */
    public FlaMamba3Source(TensorSource source, HfConfig config) {
        this.source = source;
        HybridLayout layout = HybridLayout.of(config, Math.toIntExact(config.getLong("num_hidden_layers")),
                config.getLong("hidden_size"));
        Map<String, HybridLayout.Slice> names = new LinkedHashMap<>();
        for (String n : source.names()) {
            Matcher m = LAYER.matcher(n);
            Map<String, HybridLayout.Slice> parts = m.matches()
                    ? layout.map(Integer.parseInt(m.group(1)), m.group(2), n) : null;
            if (parts == null) {
                names.put(ggufName(n), HybridLayout.Slice.whole(n));
            } else {
                new java.util.TreeMap<>(parts).forEach(names::put);
            }
        }
        this.toSource = Collections.unmodifiableMap(names);
        Map<String, Object> md = translate(config);
        layout.putMetadata(md, Mamba3Architecture.NAME);
        this.metadata = new MapMetadata(config.origin(), md);
    }

    /** The GGUF name of FLA tensor {@code name} (itself when the table does not know it). */
    static String ggufName(String name) {
        switch (name) {
            case EMBEDDINGS:
                return TensorName.TOKEN_EMBD.weight();
            case "backbone.norm_f.weight":
                return TensorName.OUTPUT_NORM.weight();
            case "lm_head.weight":
                return TensorName.OUTPUT.weight();
            default:
                break;
        }
        Matcher m = LAYER.matcher(name);
        if (!m.matches()) {
            return name;
        }
        int l = Integer.parseInt(m.group(1));
        String rest = m.group(2);
        TensorName weight = MIXER_WEIGHTS.get(rest);
        if (weight != null) {
            return weight.weight(l);
        }
        return switch (rest) {
            case "mixer.dt_bias" -> TensorName.SSM_DT.bias(l);
            case "mixer.D" -> TensorName.SSM_D.plain(l);
            case "mixer.B_bias" -> Mamba3Names.bBias(l);
            case "mixer.C_bias" -> Mamba3Names.cBias(l);
            case "mixer.mimo_x" -> Mamba3Names.mimoX(l);
            case "mixer.mimo_z" -> Mamba3Names.mimoZ(l);
            case "mixer.mimo_o" -> Mamba3Names.mimoO(l);
            default -> name;
        };
    }

    /**
     * The FLA name a GGUF name comes from (for messages about missing or misshaped tensors), or
     * the name itself when the table has no entry for it.
     */
    static String flaName(String ggufName) {
        Matcher m = BLOCK.matcher(ggufName);
        String layer = m.matches() ? m.group(1) : null;
        for (String fla : FLA_NAMES) {
            String candidate = layer == null ? fla : fla.replace("{N}", layer);
            if (!candidate.contains("{N}") && ggufName(candidate).equals(ggufName)) {
                return candidate;
            }
        }
        return ggufName;
    }

    private static Map<String, Object> translate(HfConfig c) {
        String origin = c.origin();
        String arch = Mamba3Architecture.NAME;
        if (c.has("model_type") && !Mamba3Architecture.NAME.equals(c.modelType())) {
            throw new ModelFormatException(origin + ": model_type '" + c.modelType() + "' is not mamba3");
        }
        long dim = c.getLong("hidden_size");
        long layers = c.getLong("num_hidden_layers");
        long headDim = c.getInt("head_dim", 64);
        long dInner = c.getInt("expand", 2) * dim;
        long heads = c.getInt("num_heads", (int) (dInner / headDim));
        boolean mimo = c.getBool("is_mimo", false);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(MetaKey.GENERAL_ARCHITECTURE.key(arch), arch);
        m.put(MetaKey.CONTEXT_LENGTH.key(arch), CONTEXT_LENGTH);
        m.put(MetaKey.EMBEDDING_LENGTH.key(arch), dim);
        m.put(MetaKey.BLOCK_COUNT.key(arch), layers);
        m.put(MetaKey.ATTENTION_LAYERNORM_RMS_EPS.key(arch), c.getFloat("norm_eps", 1e-5f));
        m.put(MetaKey.SSM_STATE_SIZE.key(arch), (long) c.getInt("state_size", 128));
        m.put(MetaKey.SSM_INNER_SIZE.key(arch), heads * headDim);
        m.put(MetaKey.SSM_TIME_STEP_RANK.key(arch), heads);
        m.put(MetaKey.SSM_GROUP_COUNT.key(arch), (long) c.getInt("n_groups", 1));
        m.put(Mamba3Names.Key.IS_MIMO.key(arch), mimo);
        m.put(Mamba3Names.Key.MIMO_RANK.key(arch), mimo ? (long) c.getInt("mimo_rank", 4) : 1L);
        m.put(Mamba3Names.Key.ROPE_FRACTION.key(arch), c.getFloat("rope_fraction", 0.5f));
        m.put(Mamba3Names.Key.A_ACTIVATION.key(arch), c.getString("a_activation", "softplus"));
        m.put(Mamba3Names.Key.A_FLOOR.key(arch), c.getFloat("A_floor", 1e-4f));
        m.put(Mamba3Names.Key.OUT_NORM.key(arch), c.getBool("is_outproj_norm", false));
        m.put(Mamba3Names.Key.CHUNK_SIZE.key(arch), (long) c.getInt("chunk_size", 64));
        return m;
    }

    @Override
    public Path path() {
        return source.path();
    }

    @Override
    public Metadata metadata() {
        return metadata;
    }

    @Override
    public Set<String> names() {
        return toSource.keySet();
    }

    @Override
    public Optional<Tensor> find(String name) {
        HybridLayout.Slice s = toSource.get(name);
        if (s == null) {
            return Optional.empty();
        }
        Optional<Tensor> t = source.find(s.source());
        return s.count() < 0 ? t : t.map(whole -> rows(whole, s, name));
    }

    // rows [from, from + count) of a 2-D tensor, or elements of a 1-D one, as a view
    private Tensor rows(Tensor t, HybridLayout.Slice s, String name) {
        long n = t.shape().rank() == 1 ? t.shape().elementCount() : t.rows();
        if (t.shape().rank() > 2 || s.from() + s.count() > n) {
            throw new ModelFormatException(path() + ": tensor '" + s.source() + "' " + t.shape() + " has no rows ["
                    + s.from() + ", " + (s.from() + s.count()) + ") for '" + name + "' (config.json attn_cfg / d_intermediate)");
        }
        boolean vector = t.shape().rank() == 1;
        long rowBytes = vector ? t.type().byteSize(1) : t.rowBytes();
        Shape shape = vector ? Shape.of(s.count()) : Shape.of(s.count(), t.cols());
        return TensorFactory.create(t.name() + "[" + s.from() + ":" + (s.from() + s.count()) + "]", t.type(), shape,
                t.data().asSlice(s.from() * rowBytes, s.count() * rowBytes));
    }

    /** Closes the underlying source. */
    @Override
    public void close() {
        source.close();
    }

}
