package dev.taipan.runtime.arch.transformer;

import dev.taipan.attention.AttentionConfig;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.tensor.Rope;
import java.util.Arrays;

/**
 * The hyper-parameters every attention/MoE transformer family reads the same way: the generic part
 * of llama.cpp's {@code llama_model::load_hparams} (src/llama-model.cpp, commit 34af94cd) with its
 * defaults. Family-specific keys (expert FFN widths, Granite scales) are read by the families.
 *
 * <p>Checks made here, each naming the key: head counts divide, {@code head_dim} equals the value
 * length and the rotary dimension count (every graph of these families asserts
 * {@code n_embd_head == n_rot}), expert counts are consistent, RoPE scaling is one we implement
 * (linear; YaRN only with factor 1, where it is the identity).
 *
 * @param arch               {@code general.architecture}
 * @param origin             file name, for messages
 * @param nLayers            decoder layers [n_layer]
 * @param dim                model width [n_embd]
 * @param nHeads             query heads per layer [n_head(il)]
 * @param nKvHeads           key/value heads per layer [n_head_kv(il)], default nHeads
 * @param nFf                dense FFN width per layer [n_ff(il)], 0 when the key is absent
 * @param headDim            values per head [n_embd_head_k], default dim / nHeads
 * @param contextLength      trained context [n_ctx_train]
 * @param rmsEps             epsilon of every RMS norm [f_norm_rms_eps]
 * @param ropeBase           RoPE frequency base [rope_freq_base_train], default 10000
 * @param ropeFreqScale      1 / linear scaling factor [rope_freq_scale_train], default 1
 * @param nExperts           routed experts [n_expert], 0 for dense models
 * @param nExpertsUsed       experts per token [n_expert_used]
 * @param expertWeightsScale factor on the routing weights [expert_weights_scale], 0 = none
 */
public record TransformerHparams(String arch, String origin, int nLayers, int dim, int[] nHeads, int[] nKvHeads,
                                 int[] nFf, int headDim, int contextLength, float rmsEps, float ropeBase,
                                 float ropeFreqScale, int nExperts, int nExpertsUsed, float expertWeightsScale) {

    /** llama.cpp's LLAMA_MAX_EXPERTS. */
    public static final int MAX_EXPERTS = 512;

    /** Reads and validates the generic keys of architecture {@code arch}. */
    public static TransformerHparams read(Metadata md, String arch) {
        String origin = md.origin();
        int nLayers = positive(md, MetaKey.BLOCK_COUNT.key(arch), md.getInt(MetaKey.BLOCK_COUNT.key(arch)));
        int dim = positive(md, MetaKey.EMBEDDING_LENGTH.key(arch), md.getInt(MetaKey.EMBEDDING_LENGTH.key(arch)));
        String headKey = MetaKey.ATTENTION_HEAD_COUNT.key(arch);
        int[] nHeads = md.getPerLayerInt(headKey, nLayers);
        String kvKey = MetaKey.ATTENTION_HEAD_COUNT_KV.key(arch);
        int[] nKvHeads = md.has(kvKey) ? md.getPerLayerInt(kvKey, nLayers) : nHeads.clone();
        String ffKey = MetaKey.FEED_FORWARD_LENGTH.key(arch);
        int[] nFf = md.has(ffKey) ? md.getPerLayerInt(ffKey, nLayers) : new int[nLayers];
        for (int l = 0; l < nLayers; l++) {
            if (nHeads[l] < 1) {
                throw bad(origin, headKey, "layer " + l + " has " + nHeads[l] + " heads");
            }
            if (nKvHeads[l] < 1 || nHeads[l] % nKvHeads[l] != 0) {
                throw bad(origin, kvKey, "layer " + l + ": " + nKvHeads[l]
                        + " key/value heads do not divide " + nHeads[l] + " query heads");
            }
            if (nFf[l] < 0) {
                throw bad(origin, ffKey, "layer " + l + " has negative width " + nFf[l]);
            }
        }
        if (dim % nHeads[0] != 0 && !md.has(MetaKey.ATTENTION_KEY_LENGTH.key(arch))) {
            throw bad(origin, headKey, nHeads[0] + " heads do not divide embedding length " + dim);
        }
        int headDim = md.getInt(MetaKey.ATTENTION_KEY_LENGTH.key(arch), dim / nHeads[0]);
        int valueDim = md.getInt(MetaKey.ATTENTION_VALUE_LENGTH.key(arch), headDim);
        if (headDim < 2 || valueDim != headDim) {
            throw bad(origin, MetaKey.ATTENTION_VALUE_LENGTH.key(arch), "key length " + headDim
                    + " and value length " + valueDim + " must be equal (and >= 2)");
        }
        int nRot = md.getInt(MetaKey.ROPE_DIMENSION_COUNT.key(arch), headDim);
        if (nRot != headDim) {
            throw bad(origin, MetaKey.ROPE_DIMENSION_COUNT.key(arch), nRot
                    + " rotary dimensions, but this architecture rotates whole heads of " + headDim);
        }
        int ctx = positive(md, MetaKey.CONTEXT_LENGTH.key(arch), md.getInt(MetaKey.CONTEXT_LENGTH.key(arch)));
        float eps = md.getFloat(MetaKey.ATTENTION_LAYERNORM_RMS_EPS.key(arch));
        if (!(eps >= 0f) || Float.isInfinite(eps)) {
            throw bad(origin, MetaKey.ATTENTION_LAYERNORM_RMS_EPS.key(arch), "epsilon " + eps);
        }
        float base = md.getFloat(MetaKey.ROPE_FREQ_BASE.key(arch), 10000f);
        if (!(base > 1f) || Float.isInfinite(base)) {
            throw bad(origin, MetaKey.ROPE_FREQ_BASE.key(arch), "frequency base " + base);
        }
        float freqScale = ropeFreqScale(md, arch);
        int nExperts = md.getInt(MetaKey.EXPERT_COUNT.key(arch), 0);
        int nUsed = md.getInt(MetaKey.EXPERT_USED_COUNT.key(arch), 0);
        if (nExperts < 0 || nExperts > MAX_EXPERTS) {
            throw bad(origin, MetaKey.EXPERT_COUNT.key(arch), nExperts + " experts, at most " + MAX_EXPERTS);
        }
        if (nExperts > 0 && (nUsed < 1 || nUsed > nExperts)) {
            throw bad(origin, MetaKey.EXPERT_USED_COUNT.key(arch), nUsed + " experts used of " + nExperts);
        }
        if (nExperts == 0 && nUsed != 0) {
            throw bad(origin, MetaKey.EXPERT_USED_COUNT.key(arch), nUsed + " experts used, but no expert count");
        }
        float wScale = md.getFloat(MetaKey.EXPERT_WEIGHTS_SCALE.key(arch), 0f);
        return new TransformerHparams(arch, origin, nLayers, dim, nHeads, nKvHeads, nFf, headDim, ctx, eps,
                base, freqScale, nExperts, nUsed, wScale);
    }

    // llama.cpp: factor from rope.scaling.factor, else rope.scale_linear; freq_scale = 1 / factor
    private static float ropeFreqScale(Metadata md, String arch) {
        String typeKey = MetaKey.ROPE_SCALING_TYPE.key(arch);
        String type = md.has(typeKey) ? md.getString(typeKey) : "linear";
        float factor = md.getFloat(MetaKey.ROPE_SCALING_FACTOR.key(arch), 0f);
        if (factor == 0f) {
            factor = md.getFloat(MetaKey.ROPE_SCALE_LINEAR.key(arch), 0f);
        }
        if (factor < 0f || Float.isNaN(factor) || Float.isInfinite(factor)) {
            throw bad(md.origin(), MetaKey.ROPE_SCALING_FACTOR.key(arch), "factor " + factor);
        }
        switch (type) {
            case "none", "linear" -> {
                return factor == 0f ? 1f : 1f / factor;
            }
            case "yarn" -> {
                if (factor == 0f || factor == 1f) {
                    return 1f; // YaRN at scale 1 interpolates nothing: plain RoPE
                }
                throw bad(md.origin(), typeKey, "YaRN RoPE scaling (factor " + factor + ") is not supported");
            }
            default -> throw bad(md.origin(), typeKey, "RoPE scaling '" + type + "' is not supported");
        }
    }

    /** The uniform value of a per-layer array, or an error naming the key when the layers differ. */
    public int uniform(int[] perLayer, MetaKey key) {
        for (int v : perLayer) {
            if (v != perLayer[0]) {
                throw bad(origin, key.key(arch), "per-layer values " + Arrays.toString(perLayer)
                        + " differ; this architecture needs one value for all layers");
            }
        }
        return perLayer[0];
    }

    /** RoPE over whole heads in {@code layout}, with this model's base and linear scale. */
    public Rope rope(Rope.Layout layout) {
        return Rope.of(layout, headDim, headDim, ropeBase, ropeFreqScale);
    }

    /** Attention of layer {@code l}: this model's heads, default scale, no RoPE or q/k norm yet. */
    public AttentionConfig attention(int l) {
        return AttentionConfig.of(dim, nHeads[l], nKvHeads[l], headDim);
    }

    /** Query width of layer {@code l}: {@code nHeads * headDim}. */
    public int qDim(int l) {
        return nHeads[l] * headDim;
    }

    /** Key (and value) width of layer {@code l}: {@code nKvHeads * headDim}. */
    public int kvDim(int l) {
        return nKvHeads[l] * headDim;
    }

    /** The value of an optional key of this architecture, or {@code fallback}. */
    public static int optionalInt(Metadata md, MetaKey key, String arch, int fallback) {
        int v = md.getInt(key.key(arch), fallback);
        if (v < 0) {
            throw bad(md.origin(), key.key(arch), "negative value " + v);
        }
        return v;
    }

    static ModelFormatException bad(String origin, String key, String what) {
        return new ModelFormatException(origin + ": metadata key '" + key + "': " + what);
    }

    private static int positive(Metadata md, String key, int v) {
        if (v < 1) {
            throw bad(md.origin(), key, "must be positive, got " + v);
        }
        return v;
    }
}
