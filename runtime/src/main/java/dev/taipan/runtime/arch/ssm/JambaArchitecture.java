package dev.taipan.runtime.arch.ssm;

import dev.taipan.attention.AttentionConfig;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import dev.taipan.moe.FfnActivation;
import dev.taipan.moe.Gating;
import dev.taipan.moe.MoeConfig;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.ssm.mamba1.Mamba1Config;
import dev.taipan.tensor.Block;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code jamba}: AI21 Jamba, llama.cpp 34af94cd src/models/jamba.cpp. A layer is Mamba-1 (with
 * RMS norms on dt, B and C) where its {@code attention.head_count_kv} is 0, attention without
 * RoPE (scale 1/sqrt(head_dim)) otherwise. The FFN is MoE where the layer has
 * {@code ffn_gate_inp} (softmax routing, top-k weights NOT renormalised, SwiGLU experts of width
 * {@code feed_forward_length}), dense SwiGLU elsewhere, as llama.cpp decides it from the file.
 */
public final class JambaArchitecture implements Architecture {

    @Override
    public Set<String> names() {
        return Set.of("jamba");
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        Metadata md = source.metadata();
        String arch = SsmHparams.arch(md);
        int dim = SsmHparams.intKey(md, MetaKey.EMBEDDING_LENGTH, arch);
        int nLayers = SsmHparams.intKey(md, MetaKey.BLOCK_COUNT, arch);
        float eps = SsmHparams.rmsEps(md, arch);
        int[] nHead = md.getPerLayerInt(MetaKey.ATTENTION_HEAD_COUNT.key(arch), nLayers);
        int[] nHeadKv = md.getPerLayerInt(MetaKey.ATTENTION_HEAD_COUNT_KV.key(arch), nLayers);
        int[] nFf = md.getPerLayerInt(MetaKey.FEED_FORWARD_LENGTH.key(arch), nLayers);
        int nExpert = md.getInt(MetaKey.EXPERT_COUNT.key(arch), 0);
        Mamba1Config ssm = SsmHparams.mamba1(md, arch, dim, eps);
        LayerBinder b = new LayerBinder(source, ctx, dim, eps);
        List<DecoderLayer> layers = new ArrayList<>(nLayers);
        for (int l = 0; l < nLayers; l++) {
            boolean recurrent = nHeadKv[l] == 0;
            Block mixer;
            if (recurrent) {
                mixer = b.mamba1(l, ssm, LayerBinder.DtBcRms.NONE);
            } else {
                int headDim = SsmHparams.headDim(md, arch, dim, nHead[l]);
                mixer = b.attention(l, AttentionConfig.of(dim, nHead[l], nHeadKv[l], headDim), LayerBinder.OutBias.NONE);
            }
            boolean moe = nExpert > 0 && source.find(TensorName.FFN_GATE_INP.weight(l)).isPresent();
            Block ffn = moe
                    ? b.swigluMoe(l, new LayerBinder.MoeLayout(nExpert, nFf[l], 0, MoeConfig.of(
                            md.getInt(MetaKey.EXPERT_USED_COUNT.key(arch)), Gating.SOFTMAX, FfnActivation.SWIGLU)
                            .withWeightScale(SsmHparams.expertWeightsScale(md, arch))))
                    : b.swiglu(l, nFf[l]);
            LayerKind kind = new LayerKind(recurrent ? LayerKind.Mixer.MAMBA1 : LayerKind.Mixer.ATTENTION,
                    moe ? LayerKind.Ffn.MOE : LayerKind.Ffn.DENSE);
            layers.add(new DecoderLayer(kind, b.rms(TensorName.ATTN_NORM.weight(l)), mixer,
                    b.rms(TensorName.FFN_NORM.weight(l)), ffn, 1f));
        }
        return b.finish(arch, layers, Network.Scales.NONE);
    }
}
