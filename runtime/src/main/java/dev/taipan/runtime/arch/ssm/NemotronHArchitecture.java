package dev.taipan.runtime.arch.ssm;

import dev.taipan.attention.AttentionConfig;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import dev.taipan.moe.FfnActivation;
import dev.taipan.moe.Gating;
import dev.taipan.moe.MoeConfig;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BlockBinder;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.Norm;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.ssm.mamba2.Mamba2Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code nemotron_h}: NVIDIA Nemotron-H, llama.cpp 34af94cd src/models/nemotron-h.cpp. Each
 * block is exactly one of Mamba-2, attention (no RoPE) or an ungated MLP
 * {@code down(relu(up x)^2)}, each behind its own {@code attn_norm} RMS norm and residual. The
 * per-layer arrays decide, as llama.cpp's load_arch_hparams does: recurrent where both
 * {@code attention.head_count_kv} and {@code feed_forward_length} are 0, attention where only
 * {@code feed_forward_length} is 0, MLP elsewhere. In {@code nemotron_h_moe} files
 * ({@code expert_count > 0}) the MLP blocks are sparse MoE instead: sigmoid routing with the
 * selection bias {@code exp_probs_b}, ungated relu² experts of width
 * {@code expert_feed_forward_length}, top-k weights renormalised when
 * {@code expert_weights_norm} is set and scaled by {@code expert_weights_scale}, plus an ungated
 * relu² shared expert ({@code expert_shared_feed_forward_length}). MoE latent projections
 * ({@code ffn_latent_down/up}) are not supported: such files are rejected naming the tensors.
 */
public final class NemotronHArchitecture implements Architecture {

    @Override
    public Set<String> names() {
        return Set.of("nemotron_h", "nemotron_h_moe");
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        Metadata md = source.metadata();
        SsmHparams.Base hp = SsmHparams.Base.read(md);
        String arch = hp.arch();
        SsmHparams.LayerSizes sizes = SsmHparams.LayerSizes.read(md, hp);
        int nExpert = md.getInt(MetaKey.EXPERT_COUNT.key(arch), 0);
        float attnScale = md.getFloat(MetaKey.ATTENTION_SCALE.key(arch), 0f);
        Mamba2Config ssm = SsmHparams.mamba2(md, arch, hp.dim(), hp.eps());
        BlockBinder b = hp.binder(source, ctx);
        LayerBinder m = new LayerBinder(b);
        List<DecoderLayer> layers = new ArrayList<>(hp.nLayers());
        for (int l = 0; l < hp.nLayers(); l++) {
            Norm norm = b.rms(TensorName.ATTN_NORM.weight(l));
            if (sizes.nHeadKv()[l] == 0 && sizes.nFf()[l] == 0) {
                layers.add(new DecoderLayer(new LayerKind(LayerKind.Mixer.MAMBA2, LayerKind.Ffn.NONE), norm,
                        m.mamba2(l, ssm, LayerBinder.Presence.REQUIRED), null, null, 1f));
            } else if (sizes.nFf()[l] == 0) {
                AttentionConfig ac = sizes.attention(md, hp, l);
                if (attnScale != 0f) {
                    ac = ac.withScale(attnScale);
                }
                layers.add(new DecoderLayer(new LayerKind(LayerKind.Mixer.ATTENTION, LayerKind.Ffn.NONE), norm,
                        b.attention(l, ac, BlockBinder.QkNorm.NONE, BlockBinder.OutBias.OPTIONAL), null, null, 1f));
            } else if (nExpert > 0) {
                layers.add(new DecoderLayer(new LayerKind(LayerKind.Mixer.NONE, LayerKind.Ffn.MOE), null, null,
                        norm, b.relu2Moe(l, nExpert, moeLayout(md, arch, sizes.nFf()[l])), 1f));
            } else {
                layers.add(new DecoderLayer(new LayerKind(LayerKind.Mixer.NONE, LayerKind.Ffn.DENSE), null, null,
                        norm, b.denseFfn(l, sizes.nFf()[l], FfnActivation.RELU2), 1f));
            }
        }
        return b.finish(arch, b.head(BlockBinder.Output.TIED_WHEN_ABSENT, Network.Scales.NONE), layers);
    }

    // build_ffn_layer's MoE branch; expert width defaults to n_ff / n_expert_used as in load_arch_tensors
    private static BlockBinder.MoeLayout moeLayout(Metadata md, String arch, int nFf) {
        int nUsed = md.getInt(MetaKey.EXPERT_USED_COUNT.key(arch));
        MoeConfig config = MoeConfig.of(nUsed, Gating.SIGMOID, FfnActivation.RELU2)
                .withWeightScale(SsmHparams.expertWeightsScale(md, arch));
        if (md.getBool(MetaKey.EXPERT_WEIGHTS_NORM.key(arch), false)) {
            config = config.withRenormalize();
        }
        int expertFf = md.getInt(MetaKey.EXPERT_FEED_FORWARD_LENGTH.key(arch), nFf / Math.max(1, nUsed));
        return new BlockBinder.MoeLayout(expertFf, config, BlockBinder.SharedExpert.UNGATED,
                md.getInt(MetaKey.EXPERT_SHARED_FEED_FORWARD_LENGTH.key(arch)));
    }
}
