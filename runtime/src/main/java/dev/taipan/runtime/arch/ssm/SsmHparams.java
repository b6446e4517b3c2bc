package dev.taipan.runtime.arch.ssm;

import dev.taipan.attention.AttentionConfig;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.TensorSource;
import dev.taipan.runtime.arch.BlockBinder;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Weights;
import dev.taipan.ssm.mamba1.Mamba1Config;
import dev.taipan.ssm.mamba2.Mamba2Config;

/**
 * Hyper-parameters the SSM families read from GGUF metadata, as their llama.cpp
 * {@code load_arch_hparams} do (src/models/*.cpp, 34af94cd). Errors name the file and the key.
 */
final class SsmHparams {

    private SsmHparams() {
    }

    /**
     * The keys every SSM family reads first, in this order: {@code general.architecture},
     * {@code embedding_length}, {@code block_count} and {@code attention.layer_norm_rms_epsilon}.
     */
    record Base(String arch, int dim, int nLayers, float eps) {

        static Base read(Metadata md) {
            String arch = SsmHparams.arch(md);
            return new Base(arch, intKey(md, MetaKey.EMBEDDING_LENGTH, arch), intKey(md, MetaKey.BLOCK_COUNT, arch),
                    rmsEps(md, arch));
        }

        /** The shared binder over {@code source}'s tensors at this width and epsilon. */
        BlockBinder binder(TensorSource source, BuildContext ctx) {
            return new BlockBinder(new Weights(source), ctx, dim, eps);
        }
    }

    /**
     * The per-layer sizes the hybrid families read next, in this order: {@code attention.head_count},
     * {@code attention.head_count_kv} (0 marks a recurrent layer) and {@code feed_forward_length}.
     */
    record LayerSizes(int[] nHead, int[] nHeadKv, int[] nFf) {

        static LayerSizes read(Metadata md, Base hp) {
            String arch = hp.arch();
            return new LayerSizes(md.getPerLayerInt(MetaKey.ATTENTION_HEAD_COUNT.key(arch), hp.nLayers()),
                    md.getPerLayerInt(MetaKey.ATTENTION_HEAD_COUNT_KV.key(arch), hp.nLayers()),
                    md.getPerLayerInt(MetaKey.FEED_FORWARD_LENGTH.key(arch), hp.nLayers()));
        }

        /** The attention sizes of layer {@code l} (head size from {@link SsmHparams#headDim}), before RoPE and scale. */
        AttentionConfig attention(Metadata md, Base hp, int l) {
            return AttentionConfig.of(hp.dim(), nHead[l], nHeadKv[l], headDim(md, hp.arch(), hp.dim(), nHead[l]));
        }
    }

    /** {@code general.architecture}. */
    static String arch(Metadata md) {
        return md.getString(MetaKey.GENERAL_ARCHITECTURE.key(""));
    }

    /** A required integer key of this architecture. */
    static int intKey(Metadata md, MetaKey key, String arch) {
        return md.getInt(key.key(arch));
    }

    /** The model's RMS norm epsilon ({@code attention.layer_norm_rms_epsilon}, required). */
    static float rmsEps(Metadata md, String arch) {
        return md.getFloat(MetaKey.ATTENTION_LAYERNORM_RMS_EPS.key(arch));
    }

    /** Mamba-2 sizes: {@code ssm.inner_size, state_size, time_step_rank (heads), group_count, conv_kernel}. */
    static Mamba2Config mamba2(Metadata md, String arch, int dim, float eps) {
        try {
            return new Mamba2Config(dim, intKey(md, MetaKey.SSM_INNER_SIZE, arch),
                    intKey(md, MetaKey.SSM_STATE_SIZE, arch), intKey(md, MetaKey.SSM_TIME_STEP_RANK, arch),
                    intKey(md, MetaKey.SSM_GROUP_COUNT, arch), intKey(md, MetaKey.SSM_CONV_KERNEL, arch), eps);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(md.origin() + ": inconsistent ssm.* metadata: " + e.getMessage(), e);
        }
    }

    /** Mamba-1 sizes: {@code ssm.inner_size, state_size, time_step_rank (dt rank), conv_kernel}. */
    static Mamba1Config mamba1(Metadata md, String arch, int dim, float eps) {
        try {
            return new Mamba1Config(dim, intKey(md, MetaKey.SSM_INNER_SIZE, arch),
                    intKey(md, MetaKey.SSM_STATE_SIZE, arch), intKey(md, MetaKey.SSM_TIME_STEP_RANK, arch),
                    intKey(md, MetaKey.SSM_CONV_KERNEL, arch), eps);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(md.origin() + ": inconsistent ssm.* metadata: " + e.getMessage(), e);
        }
    }

    /**
     * Width of one attention head: {@code attention.key_length} when present, else
     * {@code embedding_length / head_count} (llama.cpp's n_embd_head_k default).
     */
    static int headDim(Metadata md, String arch, int dim, int nHeads) {
        String key = MetaKey.ATTENTION_KEY_LENGTH.key(arch);
        if (md.has(key)) {
            return md.getInt(key);
        }
        if (nHeads < 1 || dim % nHeads != 0) {
            throw new ModelFormatException(md.origin() + ": '" + MetaKey.ATTENTION_HEAD_COUNT.key(arch) + "' = "
                    + nHeads + " does not divide the embedding length " + dim + " and '" + key + "' is absent");
        }
        return dim / nHeads;
    }

    /** {@code expert_weights_scale} as a factor: absent or 0 mean none (llama.cpp's default 0). */
    static float expertWeightsScale(Metadata md, String arch) {
        return orOne(md.getFloat(MetaKey.EXPERT_WEIGHTS_SCALE.key(arch), 0f));
    }

    /** llama.cpp treats a scale of 0 (the default when the key is absent) as "no scaling". */
    static float orOne(float v) {
        return v == 0f ? 1f : v;
    }
}
