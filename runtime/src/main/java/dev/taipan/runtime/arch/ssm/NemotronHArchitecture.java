package dev.taipan.runtime.arch.ssm;

import dev.taipan.attention.AttentionConfig;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import dev.taipan.moe.FfnActivation;
import dev.taipan.moe.FfnWeights;
import dev.taipan.moe.Gating;
import dev.taipan.moe.MoeConfig;
import dev.taipan.moe.MoeWeights;
import dev.taipan.moe.SparseMoe;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.Norm;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.runtime.arch.Weights;
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
        String arch = md.getString(MetaKey.GENERAL_ARCHITECTURE.key(""));
        int dim = SsmBindings.intKey(md, MetaKey.EMBEDDING_LENGTH, arch);
        int nLayers = SsmBindings.intKey(md, MetaKey.BLOCK_COUNT, arch);
        float eps = SsmBindings.rmsEps(md, arch);
        int[] nHead = md.getPerLayerInt(MetaKey.ATTENTION_HEAD_COUNT.key(arch), nLayers);
        int[] nHeadKv = md.getPerLayerInt(MetaKey.ATTENTION_HEAD_COUNT_KV.key(arch), nLayers);
        int[] nFf = md.getPerLayerInt(MetaKey.FEED_FORWARD_LENGTH.key(arch), nLayers);
        int nExpert = md.getInt(MetaKey.EXPERT_COUNT.key(arch), 0);
        float attnScale = md.getFloat(MetaKey.ATTENTION_SCALE.key(arch), 0f);
        Mamba2Config ssm = SsmBindings.mamba2Config(md, arch, dim, eps);
        Weights w = new Weights(source);
        List<DecoderLayer> layers = new ArrayList<>(nLayers);
        for (int l = 0; l < nLayers; l++) {
            Norm norm = SsmBindings.rms(w, TensorName.ATTN_NORM.weight(l), dim, eps);
            if (nHeadKv[l] == 0 && nFf[l] == 0) {
                layers.add(new DecoderLayer(new LayerKind(LayerKind.Mixer.MAMBA2, LayerKind.Ffn.NONE), norm,
                        SsmBindings.mamba2(w, l, ssm, true, ctx), null, null, 1f));
            } else if (nFf[l] == 0) {
                int headDim = HybridBindings.headDim(md, arch, dim, nHead[l]);
                AttentionConfig ac = AttentionConfig.of(dim, nHead[l], nHeadKv[l], headDim);
                if (attnScale != 0f) {
                    ac = ac.withScale(attnScale);
                }
                layers.add(new DecoderLayer(new LayerKind(LayerKind.Mixer.ATTENTION, LayerKind.Ffn.NONE), norm,
                        HybridBindings.attention(w, l, ac, HybridBindings.OutBias.OPTIONAL, ctx), null, null, 1f));
            } else if (nExpert > 0) {
                layers.add(new DecoderLayer(new LayerKind(LayerKind.Mixer.NONE, LayerKind.Ffn.MOE), null, null,
                        norm, moe(md, arch, w, l, dim, nExpert, nFf[l], ctx), 1f));
            } else {
                layers.add(new DecoderLayer(new LayerKind(LayerKind.Mixer.NONE, LayerKind.Ffn.DENSE), null, null,
                        norm, HybridBindings.relu2(w, l, dim, nFf[l], ctx), 1f));
            }
        }
        Network.Head head = SsmBindings.head(w, dim, eps, Network.Scales.NONE);
        w.checkAllUsed();
        return new Network(arch, head, layers, ctx);
    }

    // build_ffn_layer's MoE branch: ffn_gate_inp, exp_probs_b.bias, ffn_{up,down}_exps, ffn_{up,down}_shexp
    private static SparseMoe moe(Metadata md, String arch, Weights w, int l, int dim, int nExpert, int nFf,
                                 BuildContext ctx) {
        int nUsed = md.getInt(MetaKey.EXPERT_USED_COUNT.key(arch));
        int ff = md.getInt(MetaKey.EXPERT_FEED_FORWARD_LENGTH.key(arch), nFf / Math.max(1, nUsed));
        int sharedFf = md.getInt(MetaKey.EXPERT_SHARED_FEED_FORWARD_LENGTH.key(arch));
        MoeConfig config = MoeConfig.of(nUsed, Gating.SIGMOID, FfnActivation.RELU2)
                .withWeightScale(HybridBindings.expertWeightsScale(md, arch));
        if (md.getBool(MetaKey.EXPERT_WEIGHTS_NORM.key(arch), false)) {
            config = config.withRenormalize();
        }
        MoeWeights mw = MoeWeights.of(w.get(TensorName.FFN_GATE_INP.weight(l), dim, nExpert), null,
                        w.get(TensorName.FFN_UP_EXPS.weight(l), dim, ff, nExpert),
                        w.get(TensorName.FFN_DOWN_EXPS.weight(l), ff, dim, nExpert))
                .withSelectionBias(w.vector(TensorName.FFN_EXP_PROBS_B.bias(l), nExpert))
                .withShared(new FfnWeights(null, w.get(TensorName.FFN_UP_SHEXP.weight(l), dim, sharedFf),
                        w.get(TensorName.FFN_DOWN_SHEXP.weight(l), sharedFf, dim)), null);
        MoeConfig bound = config;
        return SsmBindings.wrap(w, () -> new SparseMoe(bound, mw, ctx.kernels(), ctx.parallel()));
    }
}
