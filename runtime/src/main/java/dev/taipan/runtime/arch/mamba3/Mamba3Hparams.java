package dev.taipan.runtime.arch.mamba3;

import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.ssm.mamba3.Mamba3Config;
import java.util.Arrays;
import java.util.Locale;

/**
 * Model-wide hyper-parameters of a {@code mamba3} GGUF (or of a safetensors directory seen
 * through {@link FlaMamba3Source}): the Mamba-3 mixer every recurrent layer shares, and for hybrids
 * which layers are attention layers and which have an FFN.
 *
 * @param arch        architecture name (the metadata key prefix)
 * @param origin      file, for messages
 * @param dim         model width [embedding_length]
 * @param nLayers     [block_count]
 * @param rmsEps      epsilon of every RMS norm [attention.layer_norm_rms_epsilon]
 * @param mixer       the Mamba-3 mixer of the recurrent layers
 * @param attention   attention layout of hybrid layers
 * @param ffn         FFN layout per layer
 */
record Mamba3Hparams(String arch, String origin, int dim, int nLayers, float rmsEps, Mamba3Config mixer,
                     Attention attention, Ffn ffn) {

    /**
     * Attention layers of a hybrid: layer l is attention where {@code headCountKv[l] > 0}
     * (as llama.cpp decides for its hybrids), Mamba-3 where it is 0.
     *
     * @param nHeads      [attention.head_count]
     * @param headCountKv per layer [attention.head_count_kv]; all 0 in a pure Mamba-3 model
     * @param headDim     [attention.key_length], default dim / nHeads
     * @param ropeDims    rotated dims per head, NEOX layout as mamba_ssm's MHA [rope.dimension_count]; 0 = none
     * @param ropeBase    [rope.freq_base]
     */
    record Attention(int nHeads, int[] headCountKv, int headDim, int ropeDims, float ropeBase) {
        boolean isAttention(int layer) {
            return headCountKv[layer] > 0;
        }
    }

    /**
     * FFN of each layer: none where {@code ffLength[l] == 0}; a layer whose router tensor
     * {@code blk.l.ffn_gate_inp.weight} exists is a sparse MoE, any other a dense SwiGLU.
     *
     * @param ffLength    per layer [feed_forward_length]; all 0 in a pure Mamba-3 model
     * @param nExpert     [expert_count]
     * @param nExpertUsed [expert_used_count]
     * @param expertFf    [expert_feed_forward_length]
     * @param renormalize [expert_weights_norm]
     */
    record Ffn(int[] ffLength, int nExpert, int nExpertUsed, int expertFf, boolean renormalize) {
    }

    static Mamba3Hparams read(Metadata md, String arch) {
        String origin = md.origin();
        int dim = md.getInt(MetaKey.EMBEDDING_LENGTH.key(arch));
        int nLayers = md.getInt(MetaKey.BLOCK_COUNT.key(arch));
        float eps = md.getFloat(MetaKey.ATTENTION_LAYERNORM_RMS_EPS.key(arch), 1e-5f);
        int dState = md.getInt(MetaKey.SSM_STATE_SIZE.key(arch));
        int dInner = md.getInt(MetaKey.SSM_INNER_SIZE.key(arch));
        int nHeads = md.getInt(MetaKey.SSM_TIME_STEP_RANK.key(arch));
        if (nHeads < 1 || dInner % nHeads != 0) {
            throw new ModelFormatException(origin + ": metadata key '" + MetaKey.SSM_INNER_SIZE.key(arch) + "' = "
                    + dInner + " is not a multiple of '" + MetaKey.SSM_TIME_STEP_RANK.key(arch) + "' = " + nHeads);
        }
        boolean mimo = md.getBool(Mamba3Names.Key.IS_MIMO.key(arch), false);
        // required: checkpoints of the two A forms look alike, so a guess would be silently wrong
        String act = md.getString(Mamba3Names.Key.A_ACTIVATION.key(arch));
        Mamba3Config.Builder b = Mamba3Config.builder()
                .dModel(dim).dState(dState).headDim(dInner / nHeads).nHeads(nHeads)
                .nGroups(md.getInt(MetaKey.SSM_GROUP_COUNT.key(arch), 1))
                .ropeFraction(md.getFloat(Mamba3Names.Key.ROPE_FRACTION.key(arch), 0.5f))
                .aActivation(activation(act, origin, Mamba3Names.Key.A_ACTIVATION.key(arch)))
                .aFloor(md.getFloat(Mamba3Names.Key.A_FLOOR.key(arch), 1e-4f))
                .outputNorm(md.getBool(Mamba3Names.Key.OUT_NORM.key(arch), false)
                        ? Mamba3Config.OutputNorm.GROUPED_RMS : Mamba3Config.OutputNorm.NONE)
                .eps(eps)
                .chunkSize(md.getInt(Mamba3Names.Key.CHUNK_SIZE.key(arch), 64));
        if (mimo) {
            b.mimo(md.getInt(Mamba3Names.Key.MIMO_RANK.key(arch)));
        } else {
            b.siso();
        }
        Mamba3Config mixer;
        try {
            mixer = b.build();
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(origin + ": " + e.getMessage(), e);
        }
        return new Mamba3Hparams(arch, origin, dim, nLayers, eps, mixer, attention(md, arch, dim, nLayers),
                ffn(md, arch, nLayers));
    }

    static Mamba3Config.AActivation activation(String name, String origin, String key) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "softplus" -> Mamba3Config.AActivation.SOFTPLUS;
            case "heavy_tail" -> Mamba3Config.AActivation.HEAVY_TAIL;
            default -> throw new ModelFormatException(origin + ": metadata key '" + key + "' = '" + name
                    + "', expected softplus or heavy_tail");
        };
    }

    private static Attention attention(Metadata md, String arch, int dim, int nLayers) {
        String kvKey = MetaKey.ATTENTION_HEAD_COUNT_KV.key(arch);
        int[] kv = md.has(kvKey) ? md.getPerLayerInt(kvKey, nLayers) : new int[nLayers];
        boolean any = Arrays.stream(kv).anyMatch(v -> v > 0);
        int nHeads = any ? md.getInt(MetaKey.ATTENTION_HEAD_COUNT.key(arch)) : 0;
        int headDim = any ? md.getInt(MetaKey.ATTENTION_KEY_LENGTH.key(arch), dim / nHeads) : 0;
        return new Attention(nHeads, kv, headDim, md.getInt(MetaKey.ROPE_DIMENSION_COUNT.key(arch), 0),
                md.getFloat(MetaKey.ROPE_FREQ_BASE.key(arch), 10000f));
    }

    private static Ffn ffn(Metadata md, String arch, int nLayers) {
        String ffKey = MetaKey.FEED_FORWARD_LENGTH.key(arch);
        int[] ff = md.has(ffKey) ? md.getPerLayerInt(ffKey, nLayers) : new int[nLayers];
        int nExpert = md.getInt(MetaKey.EXPERT_COUNT.key(arch), 0);
        return new Ffn(ff, nExpert, nExpert > 0 ? md.getInt(MetaKey.EXPERT_USED_COUNT.key(arch)) : 0,
                nExpert > 0 ? md.getInt(MetaKey.EXPERT_FEED_FORWARD_LENGTH.key(arch)) : 0,
                md.getBool(MetaKey.EXPERT_WEIGHTS_NORM.key(arch), false));
    }
}
